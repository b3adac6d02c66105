"""The behaviour model: its arithmetic on a hand-made weights file, then the shipped weights."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from bench.risk.train import ONE_SIDED, QUADRATIC, SPEC
from humangate.errors import ConfigError
from humangate.risk.features import FEATURE_NAMES, degenerate_features, trajectory_features
from humangate.risk.model import BehaviourModel, load_model, model_from_dict
from tests.risk._traces import reach

WEIGHTS = Path(__file__).parents[2] / "humangate/risk/weights/behaviour-v1.json"


def hand_weights(**coefs: float) -> dict[str, Any]:
    """Centre 0, scale 1, clip 3 for every feature; coefficients 0 unless given."""
    reasons = {"a_low": "same-reason", "b_low": "same-reason"}
    features = [
        {
            "name": name,
            "centre": 0.0,
            "scale": 1.0,
            "coef": coefs.get(name, 0.0),
            "coef_sq": coefs.get(f"{name}_sq", 0.0),
            "clip": 3.0,
            "reason_low": reasons.get(f"{name}_low", f"{name}-low"),
            "reason_high": f"{name}-high",
        }
        for name in ("a", "b", "c", "d")
    ]
    return {
        "version": "test",
        "features": features,
        "intercept": 1.0,
        "threshold": 0.5,
        "finding_margin": 0.25,
        "degenerate": {"logit": -5.0, "reason": "no-movement"},
    }


def row(**values: float) -> dict[str, float]:
    return {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "degenerate": 0.0, **values}


def test_logit_is_intercept_plus_contributions_with_findings_split_out() -> None:
    model = model_from_dict(hand_weights(a=1.0, b=2.0, c=-0.5, d=1.0, d_sq=-1.0))
    features = row(a=-1.0, b=0.1, c=2.0, d=2.0)
    expected = 1.0 + (-1.0) + 0.2 + (-1.0) + (2.0 - 4.0)
    assert model.full_logit(features) == pytest.approx(expected)
    rest, findings = model.logit(features)
    assert rest + sum(f.weight for f in findings) == pytest.approx(expected)
    assert [(f.reason, f.weight) for f in findings] == [
        ("d-high", pytest.approx(-2.0)),
        ("c-high", pytest.approx(-1.0)),
        ("same-reason", pytest.approx(-1.0)),
    ]


def test_findings_merge_per_reason_and_small_ones_stay_unnamed() -> None:
    model = model_from_dict(hand_weights(a=0.2, b=0.2))
    rest, findings = model.logit(row(a=-1.0, b=-1.0))  # -0.2 each: alone below the margin
    assert [(f.reason, round(f.weight, 6)) for f in findings] == [("same-reason", -0.4)]
    _, alone = model.logit(row(a=-1.0))
    assert alone == []


def test_clipping_bounds_what_one_feature_can_do() -> None:
    model = model_from_dict(hand_weights(a=1.0))
    assert model.full_logit(row(a=1e9)) == pytest.approx(1.0 + 3.0)
    assert model.full_logit(row(a=-1e9)) == pytest.approx(1.0 - 3.0)
    assert model.full_logit(row(a=float("nan"))) == pytest.approx(1.0)


def test_interactions_add_their_product_split_between_the_two_features() -> None:
    weights = hand_weights(a=1.0)
    weights["interactions"] = [{"a": "a", "b": "b", "coef": -0.5}]
    model = model_from_dict(weights)
    features = row(a=2.0, b=-1.0)
    assert model.full_logit(features) == pytest.approx(1.0 + 2.0 + 1.0)
    parts = model.contributions(features)
    assert parts["a"] == pytest.approx(2.5) and parts["b"] == pytest.approx(0.5)


def test_a_one_sided_feature_costs_below_the_typical_person_and_never_buys_above() -> None:
    weights = hand_weights(a=1.0)
    weights["features"][0]["clip_high"] = 0.0
    model = model_from_dict(weights)
    assert model.full_logit(row(a=-2.0)) == pytest.approx(-1.0)
    assert model.full_logit(row(a=5.0)) == model.full_logit(row(a=0.0)) == pytest.approx(1.0)


def test_a_degenerate_trace_gets_the_degenerate_logit_and_reason() -> None:
    model = model_from_dict(hand_weights(a=1.0))
    rest, findings = model.logit({"degenerate": 1.0})
    assert [f.reason for f in findings] == ["no-movement"]
    assert rest + findings[0].weight == pytest.approx(-5.0) == model.full_logit({"degenerate": 1})
    assert model.score({"degenerate": 1.0}) == pytest.approx(1 / (1 + math.exp(5.0)))


def test_a_missing_feature_is_a_mismatch_not_a_guess() -> None:
    model = model_from_dict(hand_weights())
    with pytest.raises(ValueError, match="lack d"):
        model.logit({"a": 0.0, "b": 0.0, "c": 0.0})


@pytest.mark.parametrize(
    "change",
    [
        lambda w: w.update(threshold=1.0),
        lambda w: w.update(intercept=float("inf")),
        lambda w: w.update(intercept="1"),
        lambda w: w.update(features=[]),
        lambda w: w.pop("degenerate"),
        lambda w: w["degenerate"].pop("reason"),
        lambda w: w["features"][0].update(scale=0.0),
        lambda w: w["features"][0].update(coef=True),
        lambda w: w["features"][1].pop("reason_high"),
        lambda w: w["features"][0].update(clip_high=4.0),
        lambda w: w.update(interactions=[{"a": "a", "b": "zz", "coef": 1.0}]),
        lambda w: w.update(interactions=[{"a": "a", "b": "a", "coef": 1.0}]),
        lambda w: w.update(interactions={"a": "b"}),
    ],
)
def test_a_broken_weights_file_is_a_config_error(change: Any) -> None:
    weights = hand_weights()
    change(weights)
    with pytest.raises(ConfigError):
        model_from_dict(weights)


def test_load_model_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(hand_weights(a=2.0)))
    assert load_model(path).full_logit(row(a=1.0)) == pytest.approx(3.0)
    path.write_text("{not json")
    with pytest.raises(ConfigError):
        load_model(path)


# The shipped weights.


@pytest.fixture(scope="module")
def shipped() -> BehaviourModel:
    return load_model()


def test_the_shipped_weights_match_the_features(shipped: BehaviourModel) -> None:
    assert load_model() is shipped  # cached
    assert shipped.feature_names == FEATURE_NAMES
    assert set(trajectory_features(reach())) == {*shipped.feature_names, "degenerate"}
    assert 0.0 < shipped.threshold < 1.0
    assert shipped.full_logit(degenerate_features()) < shipped.threshold_logit


def test_the_shipped_weights_say_how_they_were_made_without_a_date() -> None:
    data = json.loads(WEIGHTS.read_text())
    training = data["training"]
    assert training["command"].startswith("python -m bench.risk.train")
    assert training["train_seed"] != training["holdout_seed"]
    assert all(count > 0 for count in training["samples"].values())
    assert "replayed" not in training["samples"]
    text = WEIGHTS.read_text()
    # A year on its own, not the digits of a coefficient such as 0.202455.
    assert not re.search(r"(?<![\d.])20[2-3]\d(?!\d)", text)
    assert not any(word in text for word in ("timestamp", "date"))


def test_the_shipped_coefficients_keep_the_declared_signs(shipped: BehaviourModel) -> None:
    for term in shipped.terms:
        sign = SPEC[term.name][0]
        assert sign * term.coef >= 0, term.name
        assert term.coef_sq <= 0, term.name
        assert (term.coef_sq != 0) <= (term.name in QUADRATIC), term.name


def test_the_shipped_interactions_pair_free_sign_features(shipped: BehaviourModel) -> None:
    assert shipped.interactions
    for pair in shipped.interactions:
        names = {shipped.terms[pair.a].name, shipped.terms[pair.b].name}
        assert names <= set(QUADRATIC), names


def test_cues_a_script_adds_in_a_line_never_buy_a_pass(shipped: BehaviourModel) -> None:
    """Pauses, drift, a late start, irregular timing: lacking them may cost, but having more
    of them than the typical person gives exactly what the typical person gets."""
    one_sided = {t.name: t for t in shipped.terms if t.clip_high == 0.0}
    assert set(one_sided) == set(ONE_SIDED)
    for seed in range(4):
        person = trajectory_features(reach(hz=125, jitter=1.0, drift=3.0, tremor=0.4, seed=seed))
        for name, term in one_sided.items():
            typical = shipped.full_logit({**person, name: term.centre})
            more = shipped.full_logit({**person, name: term.centre + 10 * term.scale})
            assert more == pytest.approx(typical), name


def test_perfectly_regular_timing_never_raises_the_score(shipped: BehaviourModel) -> None:
    timing = ("interval_cv", "interval_repeat_frac")
    gains = []
    for seed in range(8):
        shape = {"drift": 3.0 + seed, "tremor": 0.3, "second": 8.0 * (seed % 3), "seed": seed}
        shape["duration"] = 896.0  # whole 8 ms intervals
        jittered = trajectory_features(reach(hz=125, jitter=1.5, rounding=1.0, **shape))
        regular = trajectory_features(reach(hz=125, rounding=1.0, **shape))
        assert regular["interval_cv"] < 1e-9 < jittered["interval_cv"]
        # The timing features alone, everything else as measured: never a gain.
        made_regular = {**jittered, **{k: regular[k] for k in timing}}
        assert shipped.full_logit(made_regular) <= shipped.full_logit(jittered), seed
        gains.append(shipped.full_logit(regular) - shipped.full_logit(jittered))
    # Whole traces: sampling on time also moves movement features a little (where the pointer
    # is caught leaving its start, the tremor residual), so only the average must not gain.
    assert sum(gains) / len(gains) < 0


def test_automation_like_properties_lower_the_score(shipped: BehaviourModel) -> None:
    person = reach(hz=125, jitter=1.0, rounding=1.0, drift=6.0, tremor=0.4, second=12.0)
    base = shipped.full_logit(trajectory_features(person))
    flat = [(x, 0.0, t) for x, _, t in person]  # no vertical drift at all
    assert shipped.full_logit(trajectory_features(flat)) < base
    instant = [(x, y, t - person[0][2] + 5.0) for x, y, t in person]  # grabbed within 5 ms
    assert shipped.full_logit(trajectory_features(instant)) < base
