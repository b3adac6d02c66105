"""Destinations: phone numbers and e-mail addresses, their types, CN operators and masks."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import carrier as libcarrier

from humangate.errors import InvalidInput
from humangate.verify.numbers import (
    CN_SEGMENTS,
    CnCarrier,
    CnOperator,
    Email,
    Phone,
    cn_carrier_of,
    is_three_carriers,
    mask_email,
    mask_phone,
    parse_email,
    parse_phone,
)

MOBILE: CnOperator = "china-mobile"
UNICOM: CnOperator = "china-unicom"
TELECOM: CnOperator = "china-telecom"
BROADNET: CnOperator = "china-broadnet"

# The MIIT allocation as the sources list it (see the module docstring), written out again.
BASIC: dict[CnOperator, str] = {
    MOBILE: "1340 1341 1342 1343 1344 1345 1346 1347 1348 135 136 137 138 139 147 150 151 152 "
    "157 158 159 172 178 182 183 184 187 188 195 197 198",
    UNICOM: "130 131 132 145 155 156 166 175 176 185 186 196",
    TELECOM: "133 149 153 173 177 180 181 189 190 191 193 199",
    BROADNET: "192",
}
VIRTUAL: dict[CnOperator, str] = {
    MOBILE: "165 1703 1705 1706",
    UNICOM: "167 171 1704 1707 1708 1709",
    TELECOM: "162 1700 1701 1702",
}
IOT: dict[CnOperator, str] = {MOBILE: "1440 1441 148", UNICOM: "146", TELECOM: "1410"}
NONE = "1349 1740 1741 1749 140 142 143 154 161 164 194 120 110 100"

SEGMENT_CASES = [
    (segment, CnCarrier(operator, virtual=kind == "virtual", iot=kind == "iot"))
    for kind, table in (("basic", BASIC), ("virtual", VIRTUAL), ("iot", IOT))
    for operator, segments in table.items()
    for segment in segments.split()
]

LIB_NAMES = {"China Mobile": MOBILE, "China Unicom": UNICOM, "China Telecom": TELECOM}
LIB_NAMES["China Broadnet"] = BROADNET


def filled(segment: str, length: int = 11) -> str:
    return (segment + "0123456789123")[:length]


@pytest.mark.parametrize(("segment", "expected"), SEGMENT_CASES)
def test_each_segment_has_its_operator(segment: str, expected: CnCarrier) -> None:
    length = 13 if expected.iot else 11
    assert cn_carrier_of(filled(segment, length)) == expected
    assert cn_carrier_of(filled(segment, 24 - length)) is None  # 11 for IoT, 13 otherwise


def test_the_table_is_exactly_the_listed_segments() -> None:
    assert dict(SEGMENT_CASES) == CN_SEGMENTS


@pytest.mark.parametrize("segment", NONE.split())
def test_satellite_emergency_and_unallocated_segments_have_no_operator(segment: str) -> None:
    assert cn_carrier_of(filled(segment)) is None
    assert cn_carrier_of(filled(segment, 13)) is None


def _lib_valid(segment: str, expected: CnCarrier) -> bool:
    number = "+86" + filled(segment, 13 if expected.iot else 11)
    return phonenumbers.is_valid_number(phonenumbers.parse(number))


# libphonenumber takes no 13-digit IoT number, nor 149's.
LIB_CASES = [
    (segment, expected) for segment, expected in SEGMENT_CASES if _lib_valid(segment, expected)
]


@pytest.mark.parametrize(("segment", "expected"), LIB_CASES)
def test_segments_agree_with_libphonenumbers_carrier_data(
    segment: str, expected: CnCarrier
) -> None:
    number = phonenumbers.parse("+86" + filled(segment))
    named = libcarrier.name_for_number(number, "en")
    if named:  # it names no host for some virtual segments (162, 165)
        assert LIB_NAMES[named] == expected.operator
    phone = parse_phone("+86" + filled(segment))
    assert phone.cn_carrier == expected and phone.number_type == "mobile"
    assert phone.can_receive_sms


@pytest.mark.parametrize(
    ("number", "virtual_allowed", "strict"),
    [
        ("+8613800138000", True, True),  # China Mobile
        ("+8613012345678", True, True),  # Unicom
        ("+8618912345678", True, True),  # Telecom
        ("+8619212345678", False, False),  # Broadnet
        ("+8617012345678", True, False),  # 1701, Telecom's virtual operators
        ("+8617112345678", True, False),  # Unicom's virtual operators
        ("+8616512345678", True, False),  # China Mobile's virtual operators
        ("+8613491234567", False, False),  # 1349, satellite
        ("+8617401234567", False, False),  # 1740, satellite
        ("+447911123456", False, False),  # not China
    ],
)
def test_three_carriers(number: str, virtual_allowed: bool, strict: bool) -> None:
    phone = parse_phone(number)
    assert is_three_carriers(phone, allow_virtual=True) is virtual_allowed
    assert is_three_carriers(phone, allow_virtual=False) is strict


def test_iot_numbers_are_never_three_carriers() -> None:
    phone = Phone(
        e164="+861440012345678",
        region="CN",
        country_code=86,
        number_type="mobile",
        can_receive_sms=True,
        prefix="+86144",
        cn_carrier=cn_carrier_of("1440012345678"),
    )
    assert phone.cn_carrier == CnCarrier(MOBILE, iot=True)
    assert not is_three_carriers(phone, allow_virtual=True)
    with pytest.raises(InvalidInput):
        parse_phone("+861440012345678")


@pytest.mark.parametrize(
    ("raw", "region", "e164", "kind", "sms", "prefix"),
    [
        ("+86 138 0013 8000", None, "+8613800138000", "mobile", True, "+86138"),
        ("13800138000", "CN", "+8613800138000", "mobile", True, "+86138"),
        ("１３８００１３８０００", "cn", "+8613800138000", "mobile", True, "+86138"),
        ("＋８６１３８００１３８０００", None, "+8613800138000", "mobile", True, "+86138"),
        ("010 6552 9988", "CN", "+861065529988", "fixed-line", False, "+86106"),
        ("+44 7911 123456", None, "+447911123456", "mobile", True, "+44791"),
        ("+44 20 7946 0000", None, "+442079460000", "fixed-line", False, "+44207"),
        ("+44 871 234 5678", None, "+448712345678", "premium-rate", False, "+44871"),
        ("(201) 555-0123", "US", "+12015550123", "fixed-line-or-mobile", True, "+1201"),
        ("+1 900 555 0123", None, "+19005550123", "premium-rate", False, "+1900"),
        ("+1 800 555 0123", None, "+18005550123", "toll-free", False, "+1800"),
        ("+39 06 1234 5678", None, "+390612345678", "fixed-line", False, "+39061"),
    ],
)
def test_numbers_are_normalised_and_typed(
    raw: str, region: str | None, e164: str, kind: str, sms: bool, prefix: str
) -> None:
    phone = parse_phone(raw, region)
    assert (phone.e164, phone.number_type, phone.can_receive_sms, phone.prefix) == (
        e164,
        kind,
        sms,
        prefix,
    )
    assert re.fullmatch(r"[A-Z]{2}", phone.region)
    assert phone.e164.startswith(f"+{phone.country_code}")
    assert (phone.cn_carrier is not None) == (phone.region == "CN" and kind == "mobile")


TYPE_NAMES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed-line-or-mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed-line",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium-rate",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll-free",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared-cost",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "uan",
    phonenumbers.PhoneNumberType.VOICEMAIL: "voicemail",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personal",
}


@pytest.mark.parametrize(("kind", "name"), TYPE_NAMES.items())
def test_each_type_is_named_and_only_mobiles_get_sms(kind: int, name: str) -> None:
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    ]
    numbers = [n for n in examples if n is not None and phonenumbers.number_type(n) == kind]
    assert numbers, name
    phone = parse_phone(phonenumbers.format_number(numbers[0], phonenumbers.PhoneNumberFormat.E164))
    assert phone.number_type == name
    assert phone.can_receive_sms is (name in ("mobile", "fixed-line-or-mobile"))


def test_premium_rate_is_flagged_and_gets_no_sms() -> None:
    phone = parse_phone("+1 900 555 0123")
    assert phone.number_type == "premium-rate" and not phone.can_receive_sms


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "13800138000",  # no region and no "+"
        "+86138001380001",  # too long
        "+8612345",  # too short
        "+86 138 0013 8000\x00",
        "+86\x00 13800138000",
        "+86 138 0013 8000 ext. 12",
        "1-800-FLOWERS",
        "+447700900123",  # Ofcom's drama range: not in use
        "+800 1234 5678",  # non-geographic: no region
        "+882 1234 5678",
        "+883 5100 1234 5",
        "+999 1234 5678",
        "+86 138 0013 8000" + " " * 100,
        "1" * 200,
        "+٨٦١٣٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits, which NFKC leaves as they are
    ],
)
def test_anything_but_a_valid_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_phone(raw)
    assert refused.value.code == "invalid-destination"


@pytest.mark.parametrize("region", ["", "XX", "C", "CHN", "ß", "c\u0131", "zz", "86"])
def test_an_unknown_default_region_is_refused(region: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_phone("13800138000", region)
    assert refused.value.code == "invalid-region"


phone_like = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="+0123456789 ()-./", max_size=24),
    st.from_regex(r"\+86 ?1[3-9][0-9] ?[0-9]{4} ?[0-9]{4}", fullmatch=True),
    st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True),
)


@given(phone_like, st.one_of(st.none(), st.sampled_from(["CN", "US", "GB"]), st.text(max_size=4)))
def test_no_text_makes_parse_phone_raise_anything_but_invalid_input(
    raw: str, region: str | None
) -> None:
    try:
        phone = parse_phone(raw, region)
    except InvalidInput as refused:
        assert refused.code in {"invalid-destination", "invalid-region"}
        return
    assert re.fullmatch(r"\+[1-9][0-9]{6,14}", phone.e164)
    assert parse_phone(phone.e164) == phone  # E.164 is a fixed point
    assert phone.can_receive_sms == (phone.number_type in {"mobile", "fixed-line-or-mobile"})
    assert phone.prefix == phone.e164[: len(str(phone.country_code)) + 4]


def test_mask_phone() -> None:
    assert mask_phone("+8613800138000") == "+86 138****8000"
    assert mask_phone("+447911123456") == "+44 79****3456"
    assert mask_phone("+12015550123") == "+1 20****0123"
    assert mask_phone("+34912345678") == "+34 9****5678"
    assert mask_phone("+29012345") == "+290 ****5"  # 5 digits: only one shown


@given(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True))
def test_a_phone_mask_shows_at_most_seven_digits_and_hides_at_least_four(e164: str) -> None:
    try:
        masked = mask_phone(e164)
    except InvalidInput as refused:
        assert refused.code == "invalid-destination"
        return
    code, national = masked[1:].split(" ")
    assert e164.startswith("+" + code)
    digits = e164[1 + len(code) :]
    assert len(national) == len(digits)
    shown = [i for i, ch in enumerate(national) if ch != "*"]
    assert all(national[i] == digits[i] for i in shown)
    assert len(shown) <= 7 and len(digits) - len(shown) >= 4
    assert len(shown) == min(7, len(digits) - 4)


@pytest.mark.parametrize("raw", ["", "8613800138000", "+86 138", "+0123456789", "+1" + "2" * 15])
def test_mask_phone_refuses_what_is_not_e164(raw: str) -> None:
    with pytest.raises(InvalidInput):
        mask_phone(raw)


@pytest.mark.parametrize(
    ("raw", "address", "masked"),
    [
        ("john@example.com", "john@example.com", "j***@example.com"),
        ("  John.Doe@Example.COM ", "John.Doe@example.com", "J***@example.com"),
        ("jo@example.com", "jo@example.com", "***@example.com"),
        ("a+tag@sub.example.org", "a+tag@sub.example.org", "a***@sub.example.org"),
        ("li@Bücher.example", "li@xn--bcher-kva.example", "***@xn--bcher-kva.example"),
        ("wang@例子.中国", "wang@xn--fsqu00a.xn--fiqs8s", "w***@xn--fsqu00a.xn--fiqs8s"),
    ],
)
def test_email_addresses_are_normalised_and_masked(raw: str, address: str, masked: str) -> None:
    assert parse_email(raw) == Email(address=address, domain=address.split("@")[1], masked=masked)
    assert mask_email(raw) == masked


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "john",
        "john@",
        "@example.com",
        "john@@example.com",
        "jo@hn@example.com",
        "john doe@example.com",
        "john@exa mple.com",
        "john\x00@example.com",
        "john@example.com\x00",
        "john@ex\u00adample.com",  # soft hyphen, which IDNA 2003 would silently drop
        "john@ex\u200bample.com",  # zero-width space
        "john@pаypal.com",  # Cyrillic а among Latin letters
        "jöhn@example.com",  # UTF-8 local part
        '"john doe"@example.com',
        "john.@example.com",
        "john..doe@example.com",
        "john@localhost",
        "john@[127.0.0.1]",
        "john@127.0.0.1",
        "john@example..com",
        "john@-example.com",
        "john@exa_mple.com",
        "john@example.com.",
        "j" * 65 + "@example.com",
        "john@" + "a" * 64 + ".com",
        "john@" + ".".join(["a" * 60] * 5) + ".com",
    ],
)
def test_bad_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_email(raw)
    assert refused.value.code == "invalid-destination"


@given(
    st.one_of(
        st.text(max_size=80),
        st.emails(),
        st.builds(lambda a, b: a + "@" + b, st.text(max_size=20), st.text(max_size=30)),
    )
)
def test_no_text_makes_parse_email_raise_anything_but_invalid_input(raw: str) -> None:
    try:
        email = parse_email(raw)
    except InvalidInput as refused:
        assert refused.code == "invalid-destination"
        return
    local, domain = email.address.split("@")
    assert email.address.isascii() and domain == email.domain == domain.lower()
    assert len(email.address) <= 254
    assert parse_email(email.address) == email
    masked_local = email.masked.split("@")[0]
    assert masked_local.endswith("***") and len(masked_local) <= 4
    assert masked_local in ("***", local[0] + "***")
    assert len(masked_local) == 3 or len(local) >= 3
