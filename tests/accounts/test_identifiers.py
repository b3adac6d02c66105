"""E-mail addresses and phone numbers: normalisation and clear refusals."""

from __future__ import annotations

import pytest

from humangate.accounts.identifiers import Identifier, parse_email, parse_identifier, parse_phone


@pytest.mark.parametrize(
    "text, value, key",
    [
        ("alice@example.com", "alice@example.com", "alice@example.com"),
        (
            "  Alice.Smith+tag@EXAMPLE.Com  ",
            "Alice.Smith+tag@example.com",
            "alice.smith+tag@example.com",
        ),
        (
            "o'brien@Bücher.Example",
            "o'brien@xn--bcher-kva.example",
            "o'brien@xn--bcher-kva.example",
        ),
        ("user@例え.jp", "user@xn--r8jz45g.jp", "user@xn--r8jz45g.jp"),
        ("x@sub.domain.example.", "x@sub.domain.example", "x@sub.domain.example"),
    ],
)
def test_emails_are_normalised(text: str, value: str, key: str) -> None:
    assert parse_email(text) == Identifier("email", value, key)
    assert parse_identifier(text, default_region="CN").channel == "email"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("alice", "write an e-mail address with an @"),  # read as a phone number
        ("@example.com", "name before and a domain after"),
        ("alice@", "name before and a domain after"),
        ("alice@localhost", "at least one dot"),
        ("a..b@example.com", "single dots"),
        (".a@example.com", "single dots"),
        ('"quoted"@example.com', "may only hold"),
        ("ünïcode@example.com", "may only hold"),
        ("alice@exa mple.com", "may only hold letters"),
        ("alice@-example.com", "inner"),
        ("alice@example..com", "empty part"),
        ("alice@example.123", "must end in a name"),
        ("a" * 65 + "@example.com", "longer than 64"),
        ("a@" + "b" * 64 + ".com", "longer than 63"),
        ("a@" + ".".join(["b" * 60] * 5) + ".com", "longer than 254"),
        ("a" * 400 + "@example.com", "longer than 254"),
    ],
)
def test_bad_emails_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_identifier(text, default_region="US")


@pytest.mark.parametrize(
    "text, region, e164",
    [
        ("+86 138 0013 8000", "US", "+8613800138000"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("+1 202-555-0143", "CN", "+12025550143"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
    ],
)
def test_phone_numbers_become_e164(text: str, region: str, e164: str) -> None:
    identifier = parse_phone(text, default_region=region)
    assert identifier == Identifier("phone", e164, e164)
    assert identifier.channel == "sms"
    assert parse_identifier(text, default_region=region) == identifier


@pytest.mark.parametrize(
    "text, region, message",
    [
        ("13800138000", "US", "not a phone number in use"),  # a Chinese mobile read as American
        ("+1 202 555", "US", "too short"),
        ("+86 138 0013 8000 1234 5", "US", "too long"),
        ("+999 1234567", "US", "country code does not exist"),
        ("+1 800 FLOWERS", "US", "may only hold digits"),
        ("12", "US", "not a possible phone number"),
        ("+", "US", "not a phone number"),
        ("1" * 41, "US", "may only hold digits"),
    ],
)
def test_bad_phone_numbers_are_refused_with_a_reason(text: str, region: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_identifier(text, default_region=region)


def test_non_text_is_refused() -> None:
    with pytest.raises(ValueError, match="must be text"):
        parse_identifier(12345, default_region="US")  # type: ignore[arg-type]
