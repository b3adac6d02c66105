"""The one parser of a unit's settings: what it accepts, and each refusal with its sentence."""

from __future__ import annotations

from typing import Any

import pytest

from humangate.errors import InvalidInput
from humangate.risk.access import CRAWLERS
from humangate.units import (
    DEFAULT_POW_DIFFICULTY,
    UnitChanges,
    Wording,
    parse_unit_input,
)
from humangate.units.input import AccessListName, WholeField

KNOWN = ", ".join(CRAWLERS)


def test_options_as_the_cli_gives_them() -> None:
    changes = parse_unit_input(
        name="  Shop  ",
        domains=["Shop.Example.COM", "example.org.", "shop.example.com"],
        mode="score",
        kinds=["text", "slide"],
        difficulty=3,
        pow_difficulty=2000,
        threshold=0.7,
        allow_networks=["10.1.2.3/8", "2001:db8::/32"],
        deny_networks=["192.0.2.9"],
        good_bots=["googlebot", "bingbot", "googlebot"],
        disabled=True,
    )
    assert changes == UnitChanges(
        name="Shop",
        domains=("shop.example.com", "example.org"),
        mode="score",
        kinds=("slide", "text"),  # in order of demand
        difficulty=3,
        pow_difficulty=2000,
        disabled=True,
        score_threshold=0.7,
        allow_networks=("10.0.0.0/8", "2001:db8::/32"),
        deny_networks=("192.0.2.9/32",),
        good_bots=("bingbot", "googlebot"),
    )


def test_fields_as_a_form_sends_them() -> None:
    changes = parse_unit_input(
        name="Shop",
        domains="shop.example.com\nexample.org, a.org  b.org",
        mode="managed",
        kinds=["slide"],
        difficulty="1",
        pow_difficulty="",
        threshold="0.25",
        allow_networks="203.0.113.7/24  # the office\n\n203.0.113.0/24",
        deny_networks="",
        good_bots=[],
    )
    assert changes.domains == ("shop.example.com", "example.org", "a.org", "b.org")
    assert (changes.difficulty, changes.pow_difficulty) == (1, DEFAULT_POW_DIFFICULTY)
    assert (changes.score_threshold, changes.clear_threshold) == (0.25, False)
    assert changes.allow_networks == ("203.0.113.0/24",)
    assert (changes.deny_networks, changes.good_bots) == ((), ())


def test_an_empty_threshold_clears_it() -> None:
    changes = parse_unit_input(threshold="")
    assert (changes.score_threshold, changes.clear_threshold) == (None, True)


def test_what_is_not_given_stays_unchanged() -> None:
    assert parse_unit_input() == UnitChanges()
    assert parse_unit_input(disabled=False) == UnitChanges(disabled=False)


LIMITS = "slide, rotate, click, text"
BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "The name must be 1 to 200 characters."),
    ({"name": "x" * 201}, "The name must be 1 to 200 characters."),
    ({"domains": ["not a domain"]}, "'not a domain' is not a valid domain name."),
    ({"domains": "bad_domain.org"}, "'bad_domain.org' is not a valid domain name."),
    ({"domains": []}, "At least one domain is required."),
    ({"domains": " , "}, "At least one domain is required."),
    ({"domains": [f"d{i}.org" for i in range(51)]}, "A unit has at most 50 domains."),
    (
        {"mode": "loud"},
        "The mode must be one of managed, interactive, invisible, score; got 'loud'.",
    ),
    ({"kinds": []}, f"Kinds must be a non-empty selection of {LIMITS}; got []."),
    (
        {"kinds": ["slide", "maze"]},
        f"Kinds must be a non-empty selection of {LIMITS}; got ['slide', 'maze'].",
    ),
    ({"difficulty": 9}, "The difficulty must be between 0 and 4."),
    ({"difficulty": "-1"}, "The difficulty must be between 0 and 4."),
    ({"difficulty": "two"}, "The difficulty must be a whole number from 0 to 4."),
    ({"difficulty": ""}, "The difficulty must be a whole number from 0 to 4."),
    ({"pow_difficulty": 0}, "The proof-of-work difficulty must be between 1 and 10000000."),
    (
        {"pow_difficulty": "10000001"},
        "The proof-of-work difficulty must be between 1 and 10000000.",
    ),
    (
        {"pow_difficulty": "1.5"},
        "The proof-of-work difficulty must be a whole number from 1 to 10000000.",
    ),
    ({"threshold": 1.5}, "The threshold must be between 0 and 1."),
    ({"threshold": float("nan")}, "The threshold must be between 0 and 1."),
    ({"threshold": "abc"}, "The threshold must be a number between 0 and 1, or empty."),
    ({"threshold": "-0.1"}, "The threshold must be a number between 0 and 1, or empty."),
    ({"threshold": "nan"}, "The threshold must be a number between 0 and 1, or empty."),
    ({"allow_networks": ["10.0.0.300/8"]}, "--allow: Line 1: "),
    ({"deny_networks": "192.0.2.0/24\neveryone"}, "--deny: Line 2: "),
    ({"deny_networks": "10.0.0.0/4"}, "--deny: Line 1: 0.0.0.0/4 is broader than /8"),
    (
        {"allow_networks": [f"10.0.{i // 256}.{i % 256}" for i in range(201)]},
        "--allow: An access list holds at most 200 networks.",
    ),
    (
        {"good_bots": ["googlebot", "evilbot"]},
        f"--good-bot: unknown crawler 'evilbot'; known: {KNOWN}.",
    ),
    ({"good_bots": ["none"]}, f"--good-bot: unknown crawler 'none'; known: {KNOWN}."),
]


@pytest.mark.parametrize(("given", "sentence"), BAD_INPUT)
def test_each_bad_input_is_refused_with_its_sentence(given: dict[str, Any], sentence: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_unit_input(**given)
    assert str(refused.value).startswith(sentence), str(refused.value)
    assert refused.value.message == str(refused.value)
    assert refused.value.code == "bad-request"
    assert isinstance(refused.value, ValueError)  # `except ValueError` callers still catch it


def test_numbers_typed_as_text_are_refused_before_the_other_fields() -> None:
    with pytest.raises(InvalidInput, match="difficulty must be a whole number"):
        parse_unit_input(name="", mode="", difficulty="x")
    with pytest.raises(InvalidInput, match="threshold must be a number"):
        parse_unit_input(name="", threshold="x")
    with pytest.raises(InvalidInput, match="name must be"):
        parse_unit_input(name="", difficulty=9, threshold=2.0)


class Labels(Wording):
    """A caller that names its fields its own way."""

    def bad_access_list(self, which: AccessListName, error: str) -> str:
        return f"<{which} list> {error}"

    def unknown_crawler(self, name: str) -> str:
        return f"<bot {name}>"

    def not_whole(self, field: WholeField) -> str:
        return f"<whole {field}>"

    def bad_threshold_text(self) -> str:
        return "<threshold>"


@pytest.mark.parametrize(
    ("given", "sentence"),
    [
        ({"allow_networks": "nope"}, "<allow list> Line 1: "),
        ({"deny_networks": ["nope"]}, "<deny list> Line 1: "),
        ({"good_bots": ["evilbot"]}, "<bot evilbot>"),
        ({"difficulty": "x"}, "<whole difficulty>"),
        ({"pow_difficulty": "x"}, "<whole pow_difficulty>"),
        ({"threshold": "x"}, "<threshold>"),
        # The rules themselves speak the same to every caller.
        ({"difficulty": "9"}, "The difficulty must be between 0 and 4."),
    ],
)
def test_a_wording_names_the_fields(given: dict[str, Any], sentence: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_unit_input(**given, wording=Labels())
    assert str(refused.value).startswith(sentence)
