"""Destinations of one-time codes: phone numbers and e-mail addresses, parsed and classified
(pure, no I/O).

A phone number is normalised to E.164 with libphonenumber and classified by its type; only
`mobile` and `fixed-line-or-mobile` numbers are sent SMS. Pagers are not: libphonenumber knows
pager ranges in a handful of countries, they are one-way legacy services whose delivery no SMS
gateway reports, and a premium or pager range is where SMS pumping starts. Numbers of
non-geographic codes (+800, +881, +882, +883 ...) have no ISO region and are refused.

`Phone.prefix` is "+", the country code and the first three digits of the national
significant number (`+86138`, `+44791`, `+1415`). It is what the pumping guard counts and
blocks: a mobile network segment in China, a mobile range in the UK, an area code in NANP, so a
run of sends to consecutive numbers lands in one prefix while a country's real users spread
over many.

Mainland-China mobile numbers get `cn_carrier`, the operator a segment was *allocated* to by
MIIT. Since number portability (1 December 2019) a number may have moved to another operator,
so this is a pre-filter; the operator's own gateway is the authority. Segments, as listed by
github.com/VincentSit/ChinaMobilePhoneNumberRegex (README-CN.md and rules.json, "Rules"; it
cites zh.wikipedia "中国内地移动终端通讯号码") and cross-checked against libphonenumber's carrier
data (`phonenumbers.carrier`, tested in tests/verify/test_numbers.py):

- China Mobile: 1340-1348, 135-139, 147 (data card), 150-152, 157-159, 172, 178, 182-184,
  187, 188, 195, 197, 198; virtual operators 165, 1703, 1705, 1706; IoT 1440, 1441, 148.
- China Unicom: 130-132, 145 (data card), 155, 156, 166, 175, 176, 185, 186, 196; virtual
  167, 1704, 1707-1709, 171; IoT 146.
- China Telecom: 133, 149 (data card), 153, 173, 177, 180, 181, 189, 190, 191, 193, 199;
  virtual 162, 1700-1702; IoT 1410.
- China Broadnet: 192.
- None of them: 1349 and 1749 (satellite), 17400-17412 (Tiantong satellite, MIIT emergency
  communications), and unallocated segments (140, 142, 143, 154, 161, 164, 194 ...).

The 145/147/149 data cards receive SMS and some carry voice, so they count as the operator's
ordinary numbers. IoT segments have 13 digits; libphonenumber refuses them, so `parse_phone`
never returns one, and `cn_carrier_of` still marks them for callers with other sources.

The UNVS agreement (/work/shared/seeds, clause 4.5.1) limits one-tap verification to "中国三大
运营商（中国移动、中国电信、中国联通）用户": `is_three_carriers` says whether a number is one of
those, Broadnet excluded, virtual operators only when allowed, IoT never.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import idna
import phonenumbers
from phonenumbers import PhoneNumberType

from humangate.errors import InvalidInput

CnOperator = Literal["china-mobile", "china-unicom", "china-telecom", "china-broadnet"]
NumberType = Literal[
    "mobile",
    "fixed-line-or-mobile",
    "fixed-line",
    "voip",
    "premium-rate",
    "toll-free",
    "shared-cost",
    "pager",
    "uan",
    "voicemail",
    "personal",
    "unknown",
]

MAX_PHONE_INPUT = 48
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64
SMS_TYPES: frozenset[str] = frozenset({"mobile", "fixed-line-or-mobile"})
THREE_CARRIERS: frozenset[str] = frozenset({"china-mobile", "china-unicom", "china-telecom"})

_TYPES: dict[int, NumberType] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed-line-or-mobile",
    PhoneNumberType.FIXED_LINE: "fixed-line",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
}

# What people type around the digits; letters (vanity numbers, "ext.") are refused.
_PHONE_CHARS = re.compile(r"\+?[0-9 ().\-/]+", re.ASCII)
_REGION = re.compile(r"[A-Za-z]{2}", re.ASCII)
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


@dataclass(frozen=True, slots=True)
class CnCarrier:
    """The operator a mainland-China mobile segment was allocated to."""

    operator: CnOperator
    virtual: bool = False
    iot: bool = False


def _segments() -> dict[str, CnCarrier]:
    table: dict[str, CnCarrier] = {}

    def put(
        operator: CnOperator, prefixes: str, *, virtual: bool = False, iot: bool = False
    ) -> None:
        for prefix in prefixes.split():
            table[prefix] = CnCarrier(operator, virtual=virtual, iot=iot)

    put("china-mobile", "1340 1341 1342 1343 1344 1345 1346 1347 1348 135 136 137 138 139")
    put("china-mobile", "147 150 151 152 157 158 159 172 178 182 183 184 187 188 195 197 198")
    put("china-unicom", "130 131 132 145 155 156 166 175 176 185 186 196")
    put("china-telecom", "133 149 153 173 177 180 181 189 190 191 193 199")
    put("china-broadnet", "192")
    put("china-mobile", "165 1703 1705 1706", virtual=True)
    put("china-unicom", "167 171 1704 1707 1708 1709", virtual=True)
    put("china-telecom", "162 1700 1701 1702", virtual=True)
    put("china-mobile", "1440 1441 148", iot=True)
    put("china-unicom", "146", iot=True)
    put("china-telecom", "1410", iot=True)
    return table


CN_SEGMENTS = _segments()


@dataclass(frozen=True, slots=True)
class Phone:
    """A valid phone number in E.164, with what a sender needs to know about it."""

    e164: str
    region: str
    country_code: int
    number_type: NumberType
    can_receive_sms: bool
    prefix: str
    cn_carrier: CnCarrier | None = None


@dataclass(frozen=True, slots=True)
class Email:
    """A normalised e-mail address: local part as typed, domain lower-case and IDNA-encoded."""

    address: str
    domain: str
    masked: str


def _refuse(what: str) -> InvalidInput:
    return InvalidInput(f"The {what} is not a valid destination.", code="invalid-destination")


def cn_carrier_of(national: str) -> CnCarrier | None:
    """The allocated operator of a mainland-China mobile number's national digits, if any.

    Args:
        national: the national significant number, 11 digits (13 for IoT segments).
    """
    if not national.isascii() or not national.isdigit():
        return None
    found = CN_SEGMENTS.get(national[:4]) or CN_SEGMENTS.get(national[:3])
    if found is None or len(national) != (13 if found.iot else 11):
        return None
    return found


def _phone_text(raw: str) -> str:
    if len(raw) > MAX_PHONE_INPUT * 2:
        raise _refuse("phone number")
    # NFKC turns full-width digits and "＋" (typed with a CJK input method) into ASCII.
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or len(text) > MAX_PHONE_INPUT or not _PHONE_CHARS.fullmatch(text):
        raise _refuse("phone number")
    return text


def _check_region(region: str) -> str:
    # Matched before upper-casing: "ß".upper() is "SS", a region.
    if not isinstance(region, str) or not _REGION.fullmatch(region.strip()):
        raise InvalidInput("The default region is not a country code.", code="invalid-region")
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("The default region is not a known country code.", code="invalid-region")
    return upper


def parse_phone(raw: str, default_region: str | None = None) -> Phone:
    """Parse and classify a phone number.

    Args:
        raw: what the person typed; "+" and a country code, or a national number.
        default_region: ISO 3166-1 alpha-2 region for a number written without "+".

    Returns:
        The number in E.164 with its region, type, SMS capability, prefix and CN operator.

    Raises:
        InvalidInput: `invalid-destination` for anything but a valid number of an ISO region;
            `invalid-region` for a default region libphonenumber does not know.
    """
    if not isinstance(raw, str):
        raise _refuse("phone number")
    region = None if default_region is None else _check_region(default_region)
    text = _phone_text(raw)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise _refuse("phone number") from exc
    where = phonenumbers.region_code_for_number(number)
    if not phonenumbers.is_valid_number(number) or not where or not _REGION.fullmatch(where):
        raise _refuse("phone number")
    kind = _TYPES.get(phonenumbers.number_type(number), "unknown")
    national = phonenumbers.national_significant_number(number)
    carrier = cn_carrier_of(national) if where == "CN" and kind == "mobile" else None
    country_code = int(number.country_code or 0)
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=where,
        country_code=country_code,
        number_type=kind,
        can_receive_sms=kind in SMS_TYPES,
        prefix=f"+{country_code}{national[:3]}",
        cn_carrier=carrier,
    )


def is_three_carriers(phone: Phone, allow_virtual: bool) -> bool:
    """Whether a number is China Mobile's, Unicom's or Telecom's (UNVS clause 4.5.1).

    Broadnet and IoT segments never are; virtual operators' segments only if `allow_virtual`.
    """
    carrier = phone.cn_carrier
    if phone.region != "CN" or carrier is None or carrier.iot:
        return False
    if carrier.virtual and not allow_virtual:
        return False
    return carrier.operator in THREE_CARRIERS


def mask_phone(e164: str) -> str:
    """A number as it may be shown back: `+86 138****8000`.

    At most the first 3 and the last 4 national digits are shown, and always at least 4 are
    masked: a shorter number shows fewer leading digits first, then fewer trailing ones.

    Raises:
        InvalidInput: `invalid-destination` when `e164` is not "+" and 8 to 15 digits.
    """
    if not isinstance(e164, str) or not re.fullmatch(r"\+[1-9][0-9]{7,14}", e164, re.ASCII):
        raise _refuse("phone number")
    try:
        country_code = phonenumbers.parse(e164).country_code or 0
    except phonenumbers.NumberParseException as exc:
        raise _refuse("phone number") from exc
    national = e164[1 + len(str(country_code)) :]
    shown = max(0, min(7, len(national) - 4))
    tail = min(4, shown)
    lead = shown - tail
    masked = "*" * (len(national) - shown)
    return f"+{country_code} {national[:lead]}{masked}{national[len(national) - tail :]}"


def _mask_local(local: str) -> str:
    # Three stars whatever the length; the first character only when it is at most a third.
    return (local[0] if len(local) >= 3 else "") + "***"


def _scripts(label: str) -> set[str]:
    return {unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0] for ch in label if ch.isalpha()}


def _encode_domain(domain: str) -> str:
    labels = domain.lower().split(".")
    for label in labels:
        if not label.isascii() and len(_scripts(label) & _CONFUSABLE_SCRIPTS) > 1:
            raise _refuse("e-mail domain")  # e.g. Latin with Cyrillic: a look-alike domain
    try:
        encoded = idna.encode(domain, uts46=True, std3_rules=True, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise _refuse("e-mail domain") from exc
    ascii_domain = encoded.decode("ascii")
    parts = ascii_domain.split(".")
    if len(parts) < 2 or parts[-1].isdigit() or not all(_LABEL.fullmatch(p) for p in parts):
        raise _refuse("e-mail domain")
    return ascii_domain


def parse_email(raw: str) -> Email:
    """Parse an e-mail address; no DNS or mailbox check is made.

    The local part is an RFC 5322 dot-atom of ASCII (no quoted strings, no UTF-8 local parts);
    the domain is IDNA 2008 (UTS 46) encoded and lower-case, with no IP literal, no
    whitespace or control or format characters (soft hyphens, zero-width joiners) and no label
    mixing Latin, Cyrillic or Greek letters.

    Raises:
        InvalidInput: `invalid-destination` for anything else.
    """
    if not isinstance(raw, str):
        raise _refuse("e-mail address")
    text = raw.strip()
    if not text or len(text) > MAX_EMAIL_LENGTH * 2:
        raise _refuse("e-mail address")
    if any(unicodedata.category(ch)[0] in "CZ" for ch in text):
        raise _refuse("e-mail address")
    local, at, domain = text.partition("@")
    if not at or "@" in domain or len(local) > MAX_LOCAL_LENGTH or not _LOCAL.fullmatch(local):
        raise _refuse("e-mail address")
    ascii_domain = _encode_domain(domain)
    address = f"{local}@{ascii_domain}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise _refuse("e-mail address")
    return Email(
        address=address, domain=ascii_domain, masked=f"{_mask_local(local)}@{ascii_domain}"
    )


def mask_email(address: str) -> str:
    """An address as it may be shown back: `j***@example.com`.

    Raises:
        InvalidInput: `invalid-destination` when `address` is not a valid address.
    """
    return parse_email(address).masked
