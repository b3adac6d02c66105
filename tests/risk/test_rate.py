"""Rate findings: graded by the file's thresholds, and never lighter as a count rises."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from humangate.risk._rules import WEIGHTS_DIR, RulesFileError, load_rules, parse_rules
from humangate.risk.base import RateFacts
from humangate.risk.rate import rate_findings

COUNTS = st.integers(min_value=0, max_value=100_000)
FACTS = st.builds(
    RateFacts,
    network_per_minute=COUNTS,
    device_per_minute=COUNTS,
    unit_per_minute=COUNTS,
    unit_baseline_per_minute=st.floats(min_value=0.01, max_value=10_000),
    failures=COUNTS,
)


def weights(facts: RateFacts) -> dict[str, float]:
    return {finding.reason: finding.weight for finding in rate_findings(facts)}


def total(facts: RateFacts) -> float:
    return sum(weights(facts).values())


def test_quiet_traffic_gives_no_finding() -> None:
    assert rate_findings(RateFacts()) == []
    usual = RateFacts(
        network_per_minute=2,
        device_per_minute=1,
        unit_per_minute=40,
        unit_baseline_per_minute=35.0,
        failures=1,
    )
    assert rate_findings(usual) == []


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("network_per_minute", "busy-network"),
        ("device_per_minute", "busy-device"),
        ("failures", "failure-streak"),
    ],
)
def test_each_count_is_graded_by_its_thresholds(field: str, reason: str) -> None:
    grades = load_rules().grades[reason]
    assert len(grades) >= 2
    for below, grade in zip((None, *grades), grades, strict=False):
        facts = RateFacts(**{field: int(grade.at)})
        assert weights(facts) == {reason: grade.value}
        just_under = RateFacts(**{field: int(grade.at) - 1})
        assert weights(just_under).get(reason) == (below.value if below else None)
    heaviest = RateFacts(**{field: 10**6})
    assert weights(heaviest) == {reason: grades[-1].value}
    assert grades[-1].value < grades[0].value < 0


def test_unit_load_is_judged_against_the_baseline_only_with_history_and_volume() -> None:
    book = load_rules()
    surge = RateFacts(unit_per_minute=600, unit_baseline_per_minute=20.0)
    assert weights(surge) == {"unit-under-load": book.grades["unit-under-load"][-1].value}
    assert weights(replace(surge, unit_baseline_per_minute=0.0)) == {}  # no history yet
    quiet = RateFacts(unit_per_minute=book.load.min_per_minute - 1, unit_baseline_per_minute=0.5)
    assert weights(quiet) == {}  # too few to call it load
    # The usual rate is floored: 30 a minute over a baseline of 0.5 is 6x the floor, not 60x.
    floored = RateFacts(unit_per_minute=30, unit_baseline_per_minute=0.5)
    assert weights(floored) == {"unit-under-load": book.grades["unit-under-load"][0].value}


FIELDS = st.sampled_from(["network_per_minute", "device_per_minute", "unit_per_minute", "failures"])


@given(FACTS, FIELDS, st.integers(min_value=0, max_value=10_000))
def test_more_of_any_count_never_raises_a_weight(facts: RateFacts, field: str, more: int) -> None:
    busier = replace(facts, **{field: getattr(facts, field) + more})
    before, after = weights(facts), weights(busier)
    for reason, weight in before.items():
        assert after[reason] <= weight
    assert total(busier) <= total(facts)


@given(FACTS, st.floats(min_value=0, max_value=10_000))
def test_a_higher_baseline_never_lowers_the_weights(facts: RateFacts, more: float) -> None:
    usual = replace(facts, unit_baseline_per_minute=facts.unit_baseline_per_minute + more)
    assert total(usual) >= total(facts)


def test_the_shipped_rules_file_is_valid_and_every_entry_says_why() -> None:
    data = json.loads((WEIGHTS_DIR / "rules-v1.json").read_text())
    book = parse_rules(data)
    assert book.version == "rules-v1"
    assert all(weight < 0 for weight in book.weights.values())
    for section in ("environment", "access", "rate"):
        assert all(len(entry["why"]) > 40 for entry in data[section].values())


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("environment", "automation-flag", "weight"), 1.0, "must be <= 0"),
        (("environment", "automation-flag", "why"), "", "needs a 'why'"),
        (("environment", "automation-flag", "weight"), "x", "finite number"),
        (
            ("rate", "busy-network", "grades"),
            [{"at": 5, "weight": -1}, {"at": 3, "weight": -2}],
            "strictly increase",
        ),  # fmt: skip
        (
            ("rate", "busy-network", "grades"),
            [{"at": 1, "weight": -2}, {"at": 3, "weight": -1}],
            "must not rise",
        ),  # fmt: skip
        (
            ("difficulty", "failures"),
            [{"at": 1, "factor": 4}, {"at": 3, "factor": 2}],
            "must not fall",
        ),  # fmt: skip
        (
            ("difficulty", "score_below"),
            [{"at": 0.1, "factor": 2}, {"at": 0.5, "factor": 4}],
            "strictly decrease",
        ),  # fmt: skip
        (("difficulty", "max"), 0, "whole numbers"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_entry(
    path: tuple[str, ...], value: object, message: str
) -> None:
    data = json.loads((WEIGHTS_DIR / "rules-v1.json").read_text())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(RulesFileError, match=message):
        parse_rules(data)
