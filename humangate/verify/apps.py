"""An app of the verification API: what it may send, where, and how much.

`AppView` is an app as every layer reads it; `AppChanges` the checked settings a console form or
a CLI option set. `check_changes` holds the rules, once, for every caller.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from humangate.errors import InvalidInput
from humangate.text import is_clean_text

AppChannel = Literal["sms", "email", "carrier"]
CHANNELS: tuple[AppChannel, ...] = ("sms", "email", "carrier")
TEMPLATE_LOCALES = ("en", "zh-CN")
TEMPLATE_FIELDS = frozenset({"code", "app", "minutes"})
MAX_TEMPLATE = 300
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 4, 10
MIN_CODE_TTL, MAX_CODE_TTL = 60, 3600
MAX_NAME = 100

DEFAULT_CHANNELS: tuple[AppChannel, ...] = ("sms", "email")
DEFAULT_CODE_LENGTH = 6
DEFAULT_CODE_TTL = 600
DEFAULT_DAILY_CAP = 1000
DEFAULT_DESTINATION_DAILY_CAP = 5
DEFAULT_PREFIX_HOURLY_CAP = 20
DEFAULT_NETWORK_HOURLY_CAP = 10
CAP_LIMITS: Mapping[str, tuple[int, int]] = {
    "daily_cap": (1, 10_000_000),
    "destination_daily_cap": (1, 100),
    "prefix_hourly_cap": (1, 100_000),
    "network_hourly_cap": (1, 100_000),
}
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, slots=True)
class AppView:
    """An app as the API, the console and the CLI read it."""

    id: int
    account_id: int | None
    app_key: str
    name: str
    channels: tuple[AppChannel, ...]
    countries: tuple[str, ...]
    three_carriers_only: bool
    allow_virtual: bool
    code_length: int
    code_ttl: int
    templates: Mapping[str, str]
    require_token: bool
    sitekey: str | None
    daily_cap: int
    destination_daily_cap: int
    prefix_hourly_cap: int
    network_hourly_cap: int
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AppChanges:
    """Checked settings of an app; None leaves a field as it is (or takes the default)."""

    name: str | None = None
    channels: tuple[AppChannel, ...] | None = None
    countries: tuple[str, ...] | None = None
    three_carriers_only: bool | None = None
    allow_virtual: bool | None = None
    code_length: int | None = None
    code_ttl: int | None = None
    templates: Mapping[str, str] | None = None
    require_token: bool | None = None
    sitekey: str | None = None
    clear_sitekey: bool = False
    caps: Mapping[str, int] = field(default_factory=dict)
    disabled: bool | None = None


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or not is_clean_text(name) or not name.isprintable():
        raise InvalidInput(f"The name must be 1 to {MAX_NAME} printable characters.")
    return name


def check_channels(channels: tuple[str, ...]) -> tuple[AppChannel, ...]:
    unknown = [channel for channel in channels if channel not in CHANNELS]
    if unknown:
        raise InvalidInput(f"Unknown channel {unknown[0]!r}; known: {', '.join(CHANNELS)}.")
    return tuple(channel for channel in CHANNELS if channel in channels)


def check_countries(countries: tuple[str, ...]) -> tuple[str, ...]:
    """Upper-cased ISO 3166-1 alpha-2 codes that phonenumbers knows, sorted, without repeats."""
    from phonenumbers import SUPPORTED_REGIONS

    checked = sorted({country.strip().upper() for country in countries if country.strip()})
    for country in checked:
        if not _COUNTRY.fullmatch(country) or country not in SUPPORTED_REGIONS:
            raise InvalidInput(f"{country[:8]!r} is not a country code such as CN, GB or US.")
    return tuple(checked)


def check_template(locale: str, template: str) -> str:
    """A message template: plain text naming `{code}` once, and `{app}` or `{minutes}` at will."""
    if locale not in TEMPLATE_LOCALES:
        raise InvalidInput(f"Templates exist for {', '.join(TEMPLATE_LOCALES)} only.")
    template = template.strip()
    if len(template) > MAX_TEMPLATE or not is_clean_text(template):
        raise InvalidInput(f"A template is at most {MAX_TEMPLATE} characters of plain text.")
    if any(ch in template for ch in "\r\n\t"):
        raise InvalidInput("A template is one line.")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise InvalidInput("A template's braces must name {code}, {app} or {minutes}.") from exc
    if not set(names) <= TEMPLATE_FIELDS or names.count("code") != 1:
        raise InvalidInput("A template names {code} once, and may name {app} and {minutes}.")
    return template


def check_changes(changes: AppChanges) -> AppChanges:
    """The same changes with every field checked and normalised.

    Raises:
        InvalidInput: a field breaks its rule; the sentence names the field.
    """
    for name, value in changes.caps.items():
        low, high = CAP_LIMITS.get(name, (1, 0))
        if not low <= value <= high:
            raise InvalidInput(f"{name.replace('_', ' ')} must be from {low} to {high}.")
    if changes.code_length is not None and not (
        MIN_CODE_LENGTH <= changes.code_length <= MAX_CODE_LENGTH
    ):
        raise InvalidInput(
            f"The code length must be from {MIN_CODE_LENGTH} to {MAX_CODE_LENGTH} digits."
        )
    if changes.code_ttl is not None and not MIN_CODE_TTL <= changes.code_ttl <= MAX_CODE_TTL:
        raise InvalidInput(
            f"A code lives from {MIN_CODE_TTL} to {MAX_CODE_TTL} seconds; not {changes.code_ttl}."
        )
    if changes.sitekey is not None and (
        not changes.sitekey or len(changes.sitekey) > 64 or not changes.sitekey.isascii()
    ):
        raise InvalidInput("The site key must be a unit's site key.")
    return AppChanges(
        name=None if changes.name is None else check_name(changes.name),
        channels=None if changes.channels is None else check_channels(changes.channels),
        countries=None if changes.countries is None else check_countries(changes.countries),
        three_carriers_only=changes.three_carriers_only,
        allow_virtual=changes.allow_virtual,
        code_length=changes.code_length,
        code_ttl=changes.code_ttl,
        templates=None
        if changes.templates is None
        else {
            locale: check_template(locale, text)
            for locale, text in changes.templates.items()
            if text.strip()
        },
        require_token=changes.require_token,
        sitekey=changes.sitekey,
        clear_sitekey=changes.clear_sitekey,
        caps=dict(changes.caps),
        disabled=changes.disabled,
    )
