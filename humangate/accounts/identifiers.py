"""E-mail addresses and phone numbers that name an account: parsing and normalisation (pure).

An identifier has a `value` (what mail or SMS is sent to) and a `key` (what accounts, holds and
rate limits are matched on). Phone numbers are E.164 in both. An e-mail address keeps its local
part as typed for delivery, lower-cases and IDNA-encodes its domain, and matches on the fully
lower-cased address, so that `Alice@Example.com` and `alice@example.com` are one account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from humangate.errors import InvalidInput

IdentifierKind = Literal["email", "phone"]

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL_LENGTH = 64
MAX_LABEL_LENGTH = 63
MAX_INPUT_LENGTH = 320  # anything longer is refused before any parsing

# RFC 5322 dot-atom: no quoted local parts, no comments, no IP-literal domains.
_LOCAL_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_PHONE_CHARS_RE = re.compile(r"[0-9+\-(). ]+")

_PHONE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "its country code does not exist",
    phonenumbers.ValidationResult.TOO_SHORT: "it is too short",
    phonenumbers.ValidationResult.TOO_LONG: "it is too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it can only be dialled locally",
}
_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: ": its country code does not exist",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: ": it is too short",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: ": it is too short",
    phonenumbers.NumberParseException.TOO_LONG: ": it is too long",
}


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised e-mail address or E.164 phone number."""

    kind: IdentifierKind
    value: str
    key: str

    @property
    def channel(self) -> Literal["email", "sms"]:
        """The message channel that reaches this identifier."""
        return "email" if self.kind == "email" else "sms"


def parse_identifier(text: str, *, default_region: str) -> Identifier:
    """Read an e-mail address (anything with an `@`) or a phone number.

    Args:
        text: what the person typed.
        default_region: ISO 3166 region for numbers written without `+` (e.g. "CN", "US").

    Raises:
        InvalidInput: the text is neither a valid e-mail address nor a valid phone number.
    """
    if not isinstance(text, str):
        raise InvalidInput("An e-mail address or phone number must be text.")
    if "@" in text:
        return parse_email(text)
    return parse_phone(text, default_region=default_region)


def parse_email(text: str) -> Identifier:
    """Validate and normalise an e-mail address; no DNS or mailbox check is made.

    Raises:
        InvalidInput: the address is malformed or too long, with the reason.
    """
    text = text.strip()
    if not text:
        raise InvalidInput("The e-mail address is empty.")
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidInput(f"The e-mail address is longer than {MAX_EMAIL_LENGTH} characters.")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidInput("The e-mail address needs a name before and a domain after the @.")
    if len(local) > MAX_LOCAL_LENGTH:
        raise InvalidInput(f"The part before the @ is longer than {MAX_LOCAL_LENGTH} characters.")
    if not _LOCAL_RE.fullmatch(local):
        raise InvalidInput(
            "The part before the @ may only hold letters a-z, digits and ! # $ % & ' * + / = ? "
            "^ _ ` { | } ~ - with single dots between them."
        )
    ascii_domain = _encode_domain(domain)
    address = f"{local}@{ascii_domain}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidInput(f"The e-mail address is longer than {MAX_EMAIL_LENGTH} characters.")
    return Identifier(kind="email", value=address, key=address.lower())


def _encode_domain(domain: str) -> str:
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidInput("The e-mail domain needs at least one dot, as in example.com.")
    encoded: list[str] = []
    for label in labels:
        if not label:
            raise InvalidInput("The e-mail domain has an empty part between two dots.")
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidInput(
                f"The e-mail domain part {label[:20]!r}… is longer than {MAX_LABEL_LENGTH} "
                "characters."
            )
        try:
            ascii_label = label.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidInput(f"The e-mail domain part {label!r} is not a valid name.") from exc
        if len(ascii_label) > MAX_LABEL_LENGTH:
            raise InvalidInput(
                f"The e-mail domain part {label!r} is longer than {MAX_LABEL_LENGTH} characters."
            )
        if not _LABEL_RE.fullmatch(ascii_label):
            raise InvalidInput(
                f"The e-mail domain part {label!r} may only hold letters, digits and inner hyphens."
            )
        encoded.append(ascii_label)
    if encoded[-1].isdigit():
        raise InvalidInput("The e-mail domain must end in a name, not a number.")
    return ".".join(encoded)


def parse_phone(text: str, *, default_region: str) -> Identifier:
    """Validate a phone number and return it in E.164 (`+8613800138000`).

    Raises:
        InvalidInput: the number has letters, cannot exist, or is not in use in its region.
    """
    text = text.strip()
    if not text:
        raise InvalidInput("The phone number is empty.")
    if len(text) > 40 or not _PHONE_CHARS_RE.fullmatch(text):
        raise InvalidInput(
            "A phone number may only hold digits, spaces, + - ( ) and dots; "
            "write an e-mail address with an @."
        )
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        why = _PARSE_REASONS.get(exc.error_type, "")
        raise InvalidInput(f"{text!r} is not a phone number{why}.") from exc
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        why = _PHONE_REASONS.get(reason, "it is not a possible number")
        raise InvalidInput(f"{text!r} is not a possible phone number: {why}.")
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number) or default_region.upper()
        raise InvalidInput(f"{text!r} is not a phone number in use in {region}.")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Identifier(kind="phone", value=e164, key=e164)
