"""E-mail through an SMTP server (aiosmtplib): settings URL parsing, MIME building, error mapping.

The password lives in `SmtpConfig.password` only: it is hidden from `repr`, never logged, and no
error raised here contains it (failures are re-described in our own words, see DeliveryError).
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from humangate.errors import ConfigError
from humangate.messaging.base import _ADDRESS, DeliveryError, EmailMessage, _has_line_break

log = logging.getLogger(__name__)

SmtpSecurity = Literal["starttls", "tls", "none"]

# Bodies are always 7-bit (quoted-printable or base64 when needed), so delivery never depends on
# the server offering 8BITMIME; headers are RFC 2047-encoded, so a Chinese subject travels as is.
_MIME_POLICY = policy.SMTP.clone(cte_type="7bit")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_URL_HINT = (
    "(the value is not shown: it may hold a password); "
    "percent-encode '#', '/', '?' and '@' in the user name and password"
)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to hand mail over. `security`: STARTTLS, implicit TLS (smtps) or none."""

    host: str
    port: int
    security: SmtpSecurity
    from_address: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    ca_file: Path | None = None

    @property
    def server(self) -> str:
        """`host:port`, the only part of the configuration that errors and logs may show."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_from_address(value: str) -> str:
    """Validate HUMANGATE_MAIL_FROM (`no-reply@example.org` or `Name <no-reply@example.org>`).

    Raises:
        ConfigError: the value is empty, spans lines or holds no single address.
    """
    _, address = parseaddr(value)
    if _has_line_break(value) or not _ADDRESS.fullmatch(address):
        raise ConfigError(
            "HUMANGATE_MAIL_FROM must be an address like no-reply@example.org "
            "or HumanGate <no-reply@example.org>."
        )
    return value.strip()


def _security(scheme: str, options: dict[str, str]) -> SmtpSecurity:
    unknown = set(options) - {"starttls"}
    if unknown:
        raise ConfigError(
            f"HUMANGATE_SMTP_URL has unknown options {sorted(unknown)}; the only one is starttls."
        )
    if scheme == "smtps":
        if "starttls" in options:
            raise ConfigError("HUMANGATE_SMTP_URL: smtps:// is implicit TLS; drop ?starttls=.")
        return "tls"
    flag = options.get("starttls", "1").lower()
    if flag not in _TRUE | _FALSE:
        raise ConfigError("HUMANGATE_SMTP_URL: starttls must be 1 or 0.")
    return "starttls" if flag in _TRUE else "none"


def parse_smtp_url(
    url: str, *, from_address: str, timeout: float = 10.0, ca_file: Path | None = None
) -> SmtpConfig:
    """Read HUMANGATE_SMTP_URL: `smtp://user:pass@host:587` or `smtps://user:pass@host:465`.

    `smtp://` requires STARTTLS unless `?starttls=0` is given (a relay on the same machine, for
    instance); sending a password without TLS is refused except to a loopback host. User name and
    password are percent-decoded, so `p%40ss` is `p@ss`; `#`, `/`, `?` and `@` in them must be
    encoded. Error messages never repeat the URL, which holds the password.

    Raises:
        ConfigError: the URL or the sender address is invalid or insecure.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        options = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise ConfigError(f"HUMANGATE_SMTP_URL is not a valid URL {_URL_HINT}.") from None
    scheme = parts.scheme.lower()
    if scheme not in {"smtp", "smtps"}:
        raise ConfigError("HUMANGATE_SMTP_URL must start with smtp:// or smtps://.")
    if parts.fragment or parts.path not in {"", "/"} or not parts.hostname:
        raise ConfigError(f"HUMANGATE_SMTP_URL needs a host and no path {_URL_HINT}.")
    security = _security(scheme, options)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and username is None:
        raise ConfigError("HUMANGATE_SMTP_URL has a password but no user name.")
    if username is not None and security == "none" and not _is_loopback(parts.hostname):
        raise ConfigError(
            "HUMANGATE_SMTP_URL would send the password without TLS; use STARTTLS "
            "(drop ?starttls=0) or smtps://."
        )
    default_port = {"tls": 465, "starttls": 587, "none": 25}[security]
    return SmtpConfig(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        from_address=check_from_address(from_address),
        username=username,
        password=password,
        timeout=timeout,
        ca_file=ca_file,
    )


def build_mime(message: EmailMessage, *, from_address: str) -> MimeMessage:
    """A UTF-8 MIME message: text/plain, plus text/html as an alternative when given.

    Message-ID uses the sender's domain, because `make_msgid()` without one asks DNS for this
    host's name, which can block for seconds. `Auto-Submitted` keeps vacation replies away.
    """
    domain = parseaddr(from_address)[1].rpartition("@")[2]
    mime = MimeMessage(policy=_MIME_POLICY)
    mime["From"] = from_address
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(datetime.now(UTC))
    mime["Message-ID"] = make_msgid(domain=domain)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html", charset="utf-8")
    return mime


def _reply_code(exc: BaseException) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return exc.recipients[0].code
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code
    return None


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _describe(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """Our own words for a failure, and whether a later retry may succeed.

    The server's reply text is left out on purpose: some servers echo the command they refused,
    and the command of a failed login carries the password (base64 is not encryption).
    """
    code = _reply_code(exc)
    temporary = code is None or 400 <= code < 500
    if code == 530:
        return "the server requires a login (reply 530)", False
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"the server refused the login (reply {code})", temporary
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused):
        return f"the server refused the recipient (reply {code})", temporary
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return f"the server refused HUMANGATE_MAIL_FROM as sender (reply {code})", temporary
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"the server answered with reply {code}", temporary
    if type(exc) in {aiosmtplib.SMTPException, aiosmtplib.SMTPNotSupported}:
        # aiosmtplib's own fixed sentences ("SMTP STARTTLS extension not supported by server."):
        # server replies always arrive as SMTPResponseException, handled above.
        return f"the server lacks a needed feature: {str(exc).rstrip('.')}", False
    if _is_tls_failure(exc):
        return "the TLS handshake failed (see HUMANGATE_SMTP_CA_FILE)", False
    if isinstance(exc, TimeoutError):
        return f"the server did not answer within {timeout:g} s", True
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return "the server closed the connection", True
    if isinstance(exc, OSError):
        return "could not connect", True
    return f"the SMTP session failed ({type(exc).__name__})", True


class SmtpMailer:
    """Hands each message to one SMTP server, one connection per message.

    A connection per message keeps the mailer free of state tied to an event loop and survives
    server-side idle timeouts; the volume (codes and notices) is low enough that the handshake
    does not matter. Retrying is the caller's decision (see `DeliveryError.temporary`).
    """

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._tls: ssl.SSLContext | None = None
        if config.security != "none":
            cafile = str(config.ca_file) if config.ca_file is not None else None
            try:
                self._tls = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"HUMANGATE_SMTP_CA_FILE {cafile}: {exc}") from exc

    def __repr__(self) -> str:
        return f"SmtpMailer({self._config.server}, security={self._config.security})"

    async def send(self, message: EmailMessage) -> str:
        """Send one message; return its Message-ID.

        Raises:
            DeliveryError: the server could not be reached or refused the message.
        """
        config = self._config
        mime = build_mime(message, from_address=config.from_address)
        try:
            await aiosmtplib.send(
                mime,
                sender=parseaddr(config.from_address)[1],
                recipients=[message.to],
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=config.security == "tls",
                # False, not None: None would mean "STARTTLS if offered", which an attacker on
                # the path defeats by hiding the offer.
                start_tls=config.security == "starttls",
                tls_context=self._tls,
                timeout=config.timeout,
            )
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            what, temporary = _describe(exc, config.timeout)
            error = DeliveryError(
                f"Mail to the SMTP server {config.server} failed: {what}.",
                channel="mail",
                temporary=temporary,
                status=_reply_code(exc),
            )
            log.warning("%s", error)
            # `from None`: the original exception may quote the server's reply.
            raise error from None
        message_id = str(mime["Message-ID"])
        log.debug("mail %s accepted by %s", message_id, config.server)
        return message_id
