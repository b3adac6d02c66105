"""Calibration from owner feedback: counts, pass rates, and a threshold only with enough labels."""

from __future__ import annotations

import json
import math

import pytest

from humangate.risk.calibration import calibrate


def labelled(legit: list[float], abusive: list[float]) -> list[tuple[float, str]]:
    return [(s, "legitimate") for s in legit] + [(s, "abusive") for s in abusive]


def test_no_labels_give_no_rates_and_no_suggestion() -> None:
    c = calibrate([], threshold=0.5)
    assert (c.legitimate, c.abusive, c.ignored) == (0, 0, 0)
    assert c.legitimate_pass_rate is None and c.abusive_pass_rate is None
    assert c.suggested_threshold is None and c.suggested_abusive_pass_rate is None
    assert "legitimate 0 of 20" in c.reason and "abusive 0 of 20" in c.reason


def test_pass_rates_at_the_current_threshold_count_equal_scores_as_passing() -> None:
    c = calibrate(labelled([0.5, 0.6, 0.4, 0.9], [0.1, 0.5]), threshold=0.5)
    assert c.legitimate_pass_rate == 0.75
    assert c.abusive_pass_rate == 0.5


@pytest.mark.parametrize(("legit", "abusive"), [(19, 40), (40, 19), (19, 19)])
def test_fewer_than_twenty_of_either_kind_suggest_nothing(legit: int, abusive: int) -> None:
    c = calibrate(labelled([0.9] * legit, [0.1] * abusive), threshold=0.5)
    assert c.suggested_threshold is None
    assert "Too few labels" in c.reason
    assert ("legitimate 19 of 20" in c.reason) == (legit == 19)
    assert ("abusive 19 of 20" in c.reason) == (abusive == 19)


def test_twenty_of_each_suggest_the_largest_threshold_keeping_97_percent() -> None:
    legit = [0.30] + [0.80] * 19  # one of 20 below: passing all 20 needs <= 0.30
    c = calibrate(labelled(legit, [0.1] * 20), threshold=0.5)
    assert c.suggested_threshold == 0.30  # 19 of 20 is 95%, below 97%
    assert c.suggested_abusive_pass_rate == 0.0


def test_a_hundred_legitimate_scores_let_exactly_three_fail() -> None:
    legit = [i / 100 for i in range(1, 101)]  # 0.01 .. 1.00
    c = calibrate(labelled(legit, [0.02, 0.035, 0.5] + [0.0] * 17), threshold=0.5)
    assert c.suggested_threshold == pytest.approx(0.04)  # 0.04 .. 1.00 is 97 scores
    assert sum(s >= c.suggested_threshold for s in legit) == 97  # not 98 by a rounding slip
    assert c.suggested_abusive_pass_rate == pytest.approx(1 / 20)


def test_a_lower_target_allows_a_higher_threshold() -> None:
    legit = [i / 100 for i in range(1, 101)]
    strict = calibrate(labelled(legit, [0.0] * 20), threshold=0.5, target=0.97)
    lenient = calibrate(labelled(legit, [0.0] * 20), threshold=0.5, target=0.9)
    assert lenient.suggested_threshold is not None and strict.suggested_threshold is not None
    assert lenient.suggested_threshold > strict.suggested_threshold


def test_tied_scores_all_pass_at_their_own_value() -> None:
    c = calibrate(labelled([0.7] * 30, [0.2] * 25), threshold=0.9)
    assert c.suggested_threshold == 0.7
    assert c.legitimate_pass_rate == 0.0


def test_unusable_pairs_are_counted_and_left_out() -> None:
    bad = [
        (float("nan"), "legitimate"),
        (float("inf"), "abusive"),
        (1.5, "legitimate"),
        (-0.1, "abusive"),
        (True, "legitimate"),
        ("0.5", "legitimate"),
        (0.5, "spam"),
        (0.5,),
        "legitimate",
        None,
    ]
    c = calibrate([*bad, (0.6, "legitimate"), [0.4, "abusive"]], threshold=0.5)  # type: ignore[list-item]
    assert (c.legitimate, c.abusive, c.ignored) == (1, 1, len(bad))


def test_the_result_is_plain_json() -> None:
    c = calibrate(labelled([0.9] * 25, [0.1] * 25), threshold=0.5)
    data = json.loads(json.dumps(c.as_dict()))
    assert data["suggested_threshold"] == 0.9
    assert data["legitimate"] == 25 and data["target_pass_rate"] == 0.97
    assert all(not isinstance(v, float) or math.isfinite(v) for v in data.values())
