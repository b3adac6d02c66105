"""The texts of HumanGate's messages, in English and Simplified Chinese, as e-mail and as SMS.

Wording lives in `templates/<locale>.toml` (plain text, for translators), layout in two Jinja
templates: `layout.html.j2` (autoescaped) and `layout.txt.j2`. Values such as a unit's name or a
suspension reason are inserted into the plain-text sentences, and whole sentences are escaped by
the HTML layout, so no value can add markup. The only link is the console's own URL
(HUMANGATE_PUBLIC_URL); there are no images, remote styles or tracking pixels.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from humangate.errors import InvalidInput
from humangate.messaging.base import EmailMessage, SmsMessage

if TYPE_CHECKING:
    from humangate.config import Settings

Locale = Literal["en", "zh-CN"]
LOCALES: tuple[Locale, ...] = ("en", "zh-CN")
CodePurpose = Literal["signup", "login", "cancel", "contact_change", "password_reset"]
CODE_PURPOSES: tuple[CodePurpose, ...] = (
    "signup",
    "login",
    "cancel",
    "contact_change",
    "password_reset",
)

_FOLDER = Path(__file__).with_name("templates")
_environment = Environment(
    loader=FileSystemLoader(_FOLDER),
    autoescape=select_autoescape(("html.j2",), disabled_extensions=("txt.j2",), default=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def normalize_locale(value: str | None) -> Locale:
    """`zh`, `zh_CN`, `zh-Hans`, `zh-cn` → `zh-CN`; anything else (or nothing) → `en`.

    Traditional Chinese variants (`zh-TW`, `zh-Hant`) get English rather than the wrong script.
    """
    tag = (value or "").replace("_", "-").lower()
    if tag == "zh" or tag.startswith(("zh-cn", "zh-hans", "zh-sg")):
        return "zh-CN"
    return "en"


@cache
def _catalog(locale: Locale) -> dict[str, Any]:
    return tomllib.loads((_FOLDER / f"{locale}.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One message in every form: an e-mail subject, text and HTML body, and an SMS text."""

    subject: str
    text: str
    html: str
    sms: str

    def email(self, to: str) -> EmailMessage:
        return EmailMessage(to=to, subject=self.subject, text=self.text, html=self.html)

    def sms_message(self, to: str) -> SmsMessage:
        return SmsMessage(to=to, text=self.sms)


@dataclass(frozen=True, slots=True)
class _Content:
    subject: str
    before: list[str]
    after: list[str]
    sms: str
    code: str = ""


def _utc(moment: datetime) -> datetime:
    # A naive time is taken as UTC: the database stores UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class MessageTemplates:
    """Renders every message kind; one instance per process, built from the settings.

    Args:
        public_url: the console's base URL; messages link to it, or to nothing when empty.
        product: the name messages sign with (SMS in China must start with a signature).
    """

    def __init__(self, *, public_url: str = "", product: str = "HumanGate") -> None:
        self._public_url = public_url.strip().rstrip("/")
        self._product = product

    @classmethod
    def from_settings(cls, settings: Settings) -> MessageTemplates:
        return cls(public_url=settings.public_url)

    def _link(self, path: str) -> str:
        if not self._public_url:
            return ""
        if not path.startswith("/") or path.startswith("//") or urlsplit(path).scheme:
            raise InvalidInput("A message links only into the console: give a path like /units.")
        return self._public_url + path

    def _render(self, locale: Locale, content: _Content, link_path: str | None) -> RenderedMessage:
        common = _catalog(locale)["common"]
        values = {
            "lang": locale,
            "subject": content.subject,
            "before": content.before,
            "code": content.code,
            "after": content.after,
            "link": "" if link_path is None else self._link(link_path),
            "link_label": common["link"],
            "footer": common["footer"].format(product=self._product),
        }
        return RenderedMessage(
            subject=content.subject,
            text=_environment.get_template("layout.txt.j2").render(values),
            html=_environment.get_template("layout.html.j2").render(values),
            sms=common["sms_prefix"].format(product=self._product) + content.sms,
        )

    def _notice(
        self,
        locale: Locale,
        texts: dict[str, Any],
        fill: Mapping[str, object],
        before: list[str],
        link_path: str,
        *,
        sms_fill: Mapping[str, object] | None = None,
    ) -> RenderedMessage:
        """A notice: the section's subject and SMS filled in, `before`, then its advice."""
        content = _Content(
            subject=texts["subject"].format(**fill),
            before=before,
            after=[texts["advice"]],
            sms=texts["sms"].format(**(fill if sms_fill is None else sms_fill)),
        )
        return self._render(locale, content, link_path)

    def _texts(self, locale: str, *path: str) -> tuple[Locale, dict[str, Any]]:
        resolved = normalize_locale(locale)
        section: Any = _catalog(resolved)
        for key in path:
            section = section[key]
        return resolved, section

    def _when(self, locale: Locale, moment: datetime | date) -> str:
        patterns = _catalog(locale)["format"]
        if isinstance(moment, datetime):
            at = _utc(moment)
            return str(patterns["datetime"]).format(
                year=at.year, month=at.month, day=at.day, hour=at.hour, minute=at.minute
            )
        return str(patterns["date"]).format(year=moment.year, month=moment.month, day=moment.day)

    def one_time_code(
        self,
        locale: str,
        *,
        purpose: CodePurpose,
        code: str,
        minutes: int,
        reuse_days: int = 10,
    ) -> RenderedMessage:
        """A one-time code for sign-up, login, cancellation or a contact change.

        It carries no link on purpose: a code mail with a button teaches people to click
        buttons in code mails, which is what phishing needs. When the public URL is set, the
        SMS ends with the origin-bound line `@host #code` (WebOTP), so browsers fill the code
        in on that site only.
        """
        if not code.isascii() or not code.isalnum() or len(code) > 16:
            raise InvalidInput("A one-time code is 1 to 16 ASCII letters or digits.")
        resolved, shared = self._texts(locale, "code")
        texts = shared[purpose]
        fill = {"product": self._product, "code": code, "minutes": minutes}
        after = [shared["expiry"].format(**fill)]
        if "warning" in texts:
            after.append(texts["warning"].format(reuse_days=reuse_days))
        after.append(shared["ignore"])
        sms = texts["sms"].format(**fill)
        host = urlsplit(self._public_url).hostname
        if host:
            sms += f"\n\n@{host} #{code}"
        content = _Content(
            subject=texts["subject"].format(**fill),
            before=[texts["intro"]],
            code=code,
            after=after,
            sms=sms,
        )
        return self._render(resolved, content, link_path=None)

    def new_device_login(
        self, locale: str, *, when: datetime, device: str, place: str = "", link_path: str = "/"
    ) -> RenderedMessage:
        """A login from a device not seen before; `place` is coarse (a city or country)."""
        resolved, texts = self._texts(locale, "new_device")
        fill = {"product": self._product, "when": self._when(resolved, when)}
        fill |= {"device": _one_line(device), "place": _one_line(place)}
        before = [texts["intro"], texts["when"].format(**fill), texts["device"].format(**fill)]
        if place:
            before.append(texts["place"].format(**fill))
        return self._notice(resolved, texts, fill, before, link_path)

    def secret_rotated(
        self,
        locale: str,
        *,
        unit: str,
        sitekey: str,
        old_valid_until: datetime | None,
        link_path: str = "/",
    ) -> RenderedMessage:
        """A unit's secret was replaced; the old one works until `old_valid_until` (or not)."""
        resolved, texts = self._texts(locale, "secret_rotated")
        fill = {"product": self._product, "unit": _one_line(unit), "sitekey": sitekey}
        if old_valid_until is None:
            grace = texts["no_grace"]
        else:
            grace = texts["grace"].format(until=self._when(resolved, old_valid_until))
        before = [texts["intro"].format(**fill), grace]
        return self._notice(resolved, texts, fill, before, link_path)

    def unit_disabled(
        self, locale: str, *, unit: str, sitekey: str, reason: str = "", link_path: str = "/"
    ) -> RenderedMessage:
        """A verification unit was disabled (by its owner, the operator or a quota)."""
        resolved, texts = self._texts(locale, "unit_disabled")
        fill = {"product": self._product, "unit": _one_line(unit), "sitekey": sitekey}
        before = [texts["intro"].format(**fill)]
        if reason.strip():
            before.append(texts["reason"].format(reason=reason.strip()))
        return self._notice(resolved, texts, fill, before, link_path)

    def account_suspended(
        self, locale: str, *, reason: str, link_path: str = "/"
    ) -> RenderedMessage:
        """The operator suspended the account; the reason is always given to its owner."""
        resolved, texts = self._texts(locale, "account_suspended")
        fill = {"product": self._product, "reason": reason.strip()}
        before = [texts["intro"].format(**fill), texts["reason"].format(**fill)]
        sms_fill = {**fill, "reason": _one_line(reason)}
        return self._notice(resolved, texts, fill, before, link_path, sms_fill=sms_fill)

    def operator_notice(
        self, locale: str, *, title: str, body: str, link_path: str = "/"
    ) -> RenderedMessage:
        """A notice the operator writes (terms changed, maintenance); blank lines split it."""
        resolved, texts = self._texts(locale, "operator_notice")
        paragraphs = [part.strip() for part in body.replace("\r\n", "\n").split("\n\n")]
        fill = {"product": self._product, "title": _one_line(title)}
        content = _Content(
            subject=texts["subject"].format(**fill),
            before=[part for part in paragraphs if part],
            after=[],
            sms=texts["sms"].format(**fill),
        )
        return self._render(resolved, content, link_path)

    def inactivity_warning(
        self, locale: str, *, last_active: date, cancel_on: date, link_path: str = "/"
    ) -> RenderedMessage:
        """The account is unused and may be cancelled on `cancel_on` unless its owner logs in."""
        resolved, texts = self._texts(locale, "inactivity")
        fill = {
            "product": self._product,
            "last_active": self._when(resolved, _day(last_active)),
            "cancel_on": self._when(resolved, _day(cancel_on)),
        }
        before = [texts["intro"].format(**fill), texts["warning"].format(**fill)]
        return self._notice(resolved, texts, fill, before, link_path)


def _one_line(value: str) -> str:
    """Collapse whitespace: names and titles end up in subjects, where a line break is refused."""
    return " ".join(value.split())


def _day(moment: date) -> date:
    return _utc(moment).date() if isinstance(moment, datetime) else moment
