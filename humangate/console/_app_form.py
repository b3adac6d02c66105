"""The app form of the console: its labels, its raw fields, and their check.

The rules are those of `humangate.verify.apps.check_changes`, which has the last word; the form
checks each field first so that its refusal names the form's label in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import FormData

from humangate.console._i18n import N_, Phrase
from humangate.console.web import form_text
from humangate.errors import InvalidInput
from humangate.units import UnitView
from humangate.verify.apps import (
    CAP_LIMITS,
    CHANNELS,
    DEFAULT_CHANNELS,
    DEFAULT_CODE_LENGTH,
    DEFAULT_CODE_TTL,
    DEFAULT_DAILY_CAP,
    DEFAULT_DESTINATION_DAILY_CAP,
    DEFAULT_NETWORK_HOURLY_CAP,
    DEFAULT_PREFIX_HOURLY_CAP,
    MAX_CODE_LENGTH,
    MAX_CODE_TTL,
    MAX_NAME,
    MAX_TEMPLATE,
    MIN_CODE_LENGTH,
    MIN_CODE_TTL,
    AppChanges,
    AppView,
    check_channels,
    check_countries,
    check_name,
    check_template,
)

CHANNEL_LABELS = {
    "sms": N_("Text message (SMS)"),
    "email": N_("E-mail"),
    "carrier": N_("Carrier check (no code: the mobile operator confirms the number)"),
}
STATUS_LABELS = {
    "pending": N_("pending"),
    "approved": N_("approved"),
    "canceled": N_("canceled"),
    "expired": N_("expired"),
    "max-attempts": N_("too many attempts"),
    "failed": N_("failed"),
}
DELIVERY_LABELS = {
    "sent": N_("sent"),
    "failed": N_("not delivered"),
    "retried": N_("sent again"),
}
CAP_LABELS = {
    "daily_cap": N_("Messages a day"),
    "destination_daily_cap": N_("Messages a day to one number or address"),
    "prefix_hourly_cap": N_("Messages an hour to one number prefix"),
    "network_hourly_cap": N_("Starts an hour from one network"),
}
TEMPLATE_FIELDS = {"en": "template_en", "zh-CN": "template_zh"}
# The overlap a rotated secret keeps working for, in hours (the database allows 0 to 168).
MAX_OVERLAP_HOURS = 168
DEFAULT_OVERLAP_HOURS = 24
_SPLIT = re.compile(r"[\s,;]+")
_WHOLE = re.compile(r"[0-9]{1,9}")
NEW_APP_VALUES: dict[str, Any] = {
    "name": "",
    "channels": list(DEFAULT_CHANNELS),
    "countries": "",
    "three_carriers_only": False,
    "allow_virtual": True,
    "code_length": str(DEFAULT_CODE_LENGTH),
    "code_ttl": str(DEFAULT_CODE_TTL),
    "template_en": "",
    "template_zh": "",
    "require_token": True,
    "sitekey": "",
    "daily_cap": str(DEFAULT_DAILY_CAP),
    "destination_daily_cap": str(DEFAULT_DESTINATION_DAILY_CAP),
    "prefix_hourly_cap": str(DEFAULT_PREFIX_HOURLY_CAP),
    "network_hourly_cap": str(DEFAULT_NETWORK_HOURLY_CAP),
}
FORM_CONTEXT: dict[str, Any] = {
    "channels": CHANNELS,
    "channel_labels": CHANNEL_LABELS,
    "cap_labels": CAP_LABELS,
    "cap_limits": CAP_LIMITS,
    "code_lengths": range(MIN_CODE_LENGTH, MAX_CODE_LENGTH + 1),
    "min_ttl": MIN_CODE_TTL,
    "max_ttl": MAX_CODE_TTL,
    "max_name": MAX_NAME,
    "max_template": MAX_TEMPLATE,
}


def form_values(form: FormData) -> dict[str, Any]:
    """The raw fields, to show the form again as the owner typed it."""
    values: dict[str, Any] = {
        "name": form_text(form, "name", limit=MAX_NAME * 2),
        "channels": [c for c in form.getlist("channels") if isinstance(c, str)][:10],
        "countries": form_text(form, "countries", limit=3000),
        "three_carriers_only": form.get("three_carriers_only") == "on",
        "allow_virtual": form.get("allow_virtual") == "on",
        "code_length": form_text(form, "code_length", limit=10),
        "code_ttl": form_text(form, "code_ttl", limit=10),
        "require_token": form.get("require_token") == "on",
        "sitekey": form_text(form, "sitekey", limit=64),
    }
    for field in TEMPLATE_FIELDS.values():
        values[field] = form_text(form, field, limit=MAX_TEMPLATE * 2)
    for cap in CAP_LIMITS:
        values[cap] = form_text(form, cap, limit=10)
    return values


def _whole(text: str, low: int, high: int, message: str) -> int:
    if not _WHOLE.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidInput(message)
    return int(text)


def _caps(values: dict[str, Any]) -> dict[str, int]:
    caps = {}
    for name, (low, high) in CAP_LIMITS.items():
        message = Phrase(
            "“%(label)s” must be a whole number from %(low)s to %(high)s.",
            label=Phrase(CAP_LABELS[name]),
            low=low,
            high=high,
        )
        caps[name] = _whole(values[name], low, high, message)
    return caps


def _templates(values: dict[str, Any]) -> dict[str, str]:
    templates = {}
    for locale, field in TEMPLATE_FIELDS.items():
        if not values[field]:
            continue  # the service's own wording
        try:
            templates[locale] = check_template(locale, values[field])
        except InvalidInput as exc:
            message = N_(
                "A message template is one line of at most %(max)s characters that names "
                "{code} once, and may name {app} and {minutes}."
            )
            raise InvalidInput(Phrase(message, max=MAX_TEMPLATE)) from exc
    return templates


def _checked(call: Any, value: Any, message: str) -> Any:
    try:
        return call(value)
    except InvalidInput as exc:
        raise InvalidInput(message) from exc


def read_app_form(values: dict[str, Any], units: Sequence[UnitView]) -> AppChanges:
    """Every setting of the form as `AppChanges`; raises InvalidInput naming the field.

    `units` are the owner's: the pass-token unit must be one of them.
    """
    name = _checked(
        check_name,
        values["name"],
        Phrase("The name must be 1 to %(max)s printable characters.", max=MAX_NAME),
    )
    channels = _checked(
        check_channels,
        tuple(values["channels"]),
        N_("Choose channels from the list."),
    )
    if not channels:
        raise InvalidInput(N_("Choose at least one channel."))
    codes = tuple(code for code in _SPLIT.split(values["countries"]) if code)
    for code in codes:
        _checked(
            check_countries,
            (code,),
            Phrase("%(value)s is not a country code such as CN, GB or US.", value=repr(code[:8])),
        )
    length = _whole(
        values["code_length"],
        MIN_CODE_LENGTH,
        MAX_CODE_LENGTH,
        Phrase(
            "The code length must be from %(low)s to %(high)s digits.",
            low=MIN_CODE_LENGTH,
            high=MAX_CODE_LENGTH,
        ),
    )
    ttl = _whole(
        values["code_ttl"],
        MIN_CODE_TTL,
        MAX_CODE_TTL,
        Phrase(
            "A code lives from %(low)s to %(high)s seconds.", low=MIN_CODE_TTL, high=MAX_CODE_TTL
        ),
    )
    sitekey = values["sitekey"]
    if sitekey and all(unit.sitekey != sitekey for unit in units):
        raise InvalidInput(N_("Choose the unit from the list of your units."))
    if values["require_token"] and not sitekey:
        raise InvalidInput(
            N_("Choose the unit whose pass tokens the app accepts, or stop requiring one.")
        )
    return AppChanges(
        name=name,
        channels=channels,
        countries=check_countries(codes),
        three_carriers_only=bool(values["three_carriers_only"]),
        allow_virtual=bool(values["allow_virtual"]),
        code_length=length,
        code_ttl=ttl,
        templates=_templates(values),
        require_token=bool(values["require_token"]),
        sitekey=sitekey or None,
        clear_sitekey=not sitekey,
        caps=_caps(values),
    )


def app_values(app: AppView) -> dict[str, Any]:
    """A stored app's settings as the form's fields show them."""
    values: dict[str, Any] = {
        "name": app.name,
        "channels": list(app.channels),
        "countries": " ".join(app.countries),
        "three_carriers_only": app.three_carriers_only,
        "allow_virtual": app.allow_virtual,
        "code_length": str(app.code_length),
        "code_ttl": str(app.code_ttl),
        "require_token": app.require_token,
        "sitekey": app.sitekey or "",
    }
    for locale, field in TEMPLATE_FIELDS.items():
        values[field] = app.templates.get(locale, "")
    for cap in CAP_LIMITS:
        values[cap] = str(getattr(app, cap))
    return values


def read_overlap(form: FormData) -> int:
    """The hours a rotated-out secret keeps working; raises InvalidInput (a 400 page)."""
    return _whole(
        form_text(form, "overlap", limit=10),
        0,
        MAX_OVERLAP_HOURS,
        Phrase("The overlap must be a whole number of hours from 0 to %(max)s.", max=168),
    )
