"""The behaviour model: a logistic score over standardised trajectory features, read from JSON.

Each feature `v` is standardised against the human training traces, `z = (v - centre) / scale`
(their median and robust spread), clipped to `[-clip, clip_high]` so that no single feature,
however extreme, can move the logit by more than a bounded amount, then contributes
`coef * z + coef_sq * z ** 2` (`coef_sq` is non-zero only for the few features where both tails
are implausible, such as duration), plus, for each pair in the file's optional `interactions`,
`coef * z_a * z_b`, half of it counted to each of the two features (combinations of values that
people do not produce together). `logit = intercept + sum(contributions)`. Because `z = 0` is
the typical person, the intercept is the typical person's logit and a contribution is how far a
feature moves this trace from a typical person: a negative one is evidence of a machine, named
by the feature's `reason_low` (when `z < 0`) or `reason_high` (when `z > 0`). `clip_high` is
`clip` unless the file says otherwise; 0 makes a feature one-sided: a value on the "more than
the typical person" side counts as the typical person, so a cue a script adds in a line (a
pause, a drift) can cost a trace that lacks it but never buys one that has it.

Everything learned (centres, scales, coefficients, intercept, threshold, clip, margin) lives in
`weights/behaviour-v1.json`, written by `python -m bench.risk.train`; nothing learned is in code.
A degenerate trace (see `features.degenerate_features`) gets the file's `degenerate.logit`.

`BehaviourModel.logit` follows base.py's convention `score = sigmoid(behaviour_logit +
sum(finding.weight))`: it returns the model's logit minus the weights of the findings it
reports, so that adding the findings back gives exactly the model's logit (`full_logit`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humangate.errors import ConfigError
from humangate.risk.base import Finding

DEFAULT_WEIGHTS = "behaviour-v1.json"


@dataclass(frozen=True, slots=True)
class FeatureTerm:
    """One feature's standardisation, coefficients and reason names."""

    name: str
    centre: float
    scale: float
    coef: float
    coef_sq: float
    clip: float
    reason_low: str
    reason_high: str
    clip_high: float | None = None  # None: `clip`

    def standardise(self, value: float) -> float:
        """The clipped z-score of `value` (0 for a non-finite value)."""
        z = (value - self.centre) / self.scale
        if not math.isfinite(z):
            return 0.0
        high = self.clip if self.clip_high is None else self.clip_high
        return min(max(z, -self.clip), high)

    def contribution(self, value: float) -> float:
        """This feature's term of the logit: `coef * z + coef_sq * z ** 2`."""
        z = self.standardise(value)
        return self.coef * z + self.coef_sq * z * z

    def reason(self, value: float) -> str:
        """The reason name for this value's side of the typical person."""
        return self.reason_low if self.standardise(value) < 0 else self.reason_high


@dataclass(frozen=True, slots=True)
class Interaction:
    """A pair of features whose clipped z-scores' product adds `coef` times itself."""

    a: int  # indices into the model's terms
    b: int
    coef: float


@dataclass(frozen=True, slots=True)
class BehaviourModel:
    """A loaded weights file. `threshold` is on the score, `sigmoid(logit)`."""

    version: str
    terms: tuple[FeatureTerm, ...]
    intercept: float
    threshold: float
    finding_margin: float
    degenerate_logit: float
    degenerate_reason: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    interactions: tuple[Interaction, ...] = ()
    pair_arrays: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        pairs = self.interactions
        arrays = (
            np.array([p.a for p in pairs], dtype=np.intp),
            np.array([p.b for p in pairs], dtype=np.intp),
            np.array([p.coef for p in pairs], dtype=np.float64),
        )
        object.__setattr__(self, "pair_arrays", arrays)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(term.name for term in self.terms)

    @property
    def threshold_logit(self) -> float:
        return math.log(self.threshold / (1.0 - self.threshold))

    def contributions(self, features: Mapping[str, float]) -> dict[str, float]:
        """Each feature's term of the logit.

        Raises:
            ValueError: a feature the model needs is missing (a features/weights mismatch).
        """
        missing = [term.name for term in self.terms if term.name not in features]
        if missing:
            raise ValueError(f"The features lack {', '.join(missing)} that {self.version} needs.")
        parts = {term.name: term.contribution(float(features[term.name])) for term in self.terms}
        if self.interactions:
            z = np.array([term.standardise(float(features[term.name])) for term in self.terms])
            a, b, coef = self.pair_arrays
            half = 0.5 * coef * z[a] * z[b]
            shares = np.bincount(a, half, len(z)) + np.bincount(b, half, len(z))
            for term, share in zip(self.terms, shares.tolist(), strict=True):
                parts[term.name] += share
        return parts

    def full_logit(self, features: Mapping[str, float]) -> float:
        """The model's logit: `intercept + sum(contributions)`, or the degenerate logit."""
        if features.get("degenerate", 0.0) >= 0.5:
            return self.degenerate_logit
        return self.intercept + sum(self.contributions(features).values())

    def logit(self, features: Mapping[str, float]) -> tuple[float, list[Finding]]:
        """The behaviour logit and the findings that lowered it, worst first.

        Args:
            features: the output of `trajectory_features`.

        Returns:
            `(behaviour_logit, findings)`, such that `behaviour_logit + sum(f.weight for f in
            findings) == full_logit(features)`. Findings merge the negative contributions per
            reason name and keep those below `-finding_margin`; a degenerate trace gives one
            finding, `degenerate.reason`, weighing its distance below the typical person.

        Raises:
            ValueError: a feature the model needs is missing (a features/weights mismatch).
        """
        if features.get("degenerate", 0.0) >= 0.5:
            weight = self.degenerate_logit - self.intercept
            return self.intercept, [Finding(self.degenerate_reason, weight)]
        parts = self.contributions(features)
        merged: dict[str, float] = {}
        for term in self.terms:
            value = parts[term.name]
            if value < 0:
                reason = term.reason(float(features[term.name]))
                merged[reason] = merged.get(reason, 0.0) + value
        findings = [Finding(r, w) for r, w in merged.items() if w < -self.finding_margin]
        findings.sort(key=lambda f: (f.weight, f.reason))
        rest = self.intercept + sum(parts.values()) - sum(f.weight for f in findings)
        return rest, findings

    def score(self, features: Mapping[str, float]) -> float:
        """`sigmoid(full_logit)`: the behaviour score alone, in (0, 1)."""
        return _sigmoid(self.full_logit(features))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"The behaviour weights need a finite number at {where}.{key}.")
    return float(value)


def _term(data: Mapping[str, Any], index: int) -> FeatureTerm:
    where = f"features[{index}]"
    name, low, high = data.get("name"), data.get("reason_low"), data.get("reason_high")
    if not all(isinstance(v, str) and v for v in (name, low, high)):
        raise ConfigError(f"The behaviour weights need name and reasons at {where}.")
    scale = _number(data, "scale", where)
    if scale <= 0:
        raise ConfigError(f"The behaviour weights need a positive scale at {where}.")
    numbers = {k: _number(data, k, where) for k in ("centre", "coef", "coef_sq", "clip")}
    clip_high = _number(data, "clip_high", where) if "clip_high" in data else None
    if clip_high is not None and not 0.0 <= clip_high <= numbers["clip"]:
        raise ConfigError(f"The behaviour weights need 0 <= clip_high <= clip at {where}.")
    return FeatureTerm(
        str(name),
        scale=scale,
        reason_low=str(low),
        reason_high=str(high),
        clip_high=clip_high,
        **numbers,
    )


def _interactions(data: Any, names: list[str]) -> tuple[Interaction, ...]:
    if not isinstance(data, list):
        raise ConfigError("The behaviour weights' interactions must be a list.")
    out = []
    for index, item in enumerate(data):
        pair = (item.get("a"), item.get("b")) if isinstance(item, dict) else (None, None)
        if not all(name in names for name in pair) or pair[0] == pair[1]:
            raise ConfigError(f"The behaviour weights need two features at interactions[{index}].")
        coef = _number(item, "coef", f"interactions[{index}]")
        out.append(Interaction(names.index(str(pair[0])), names.index(str(pair[1])), coef))
    return tuple(out)


def model_from_dict(data: Mapping[str, Any]) -> BehaviourModel:
    """Build a model from the weights file's JSON object.

    Raises:
        ConfigError: a field is missing or not a finite number of the right kind.
    """
    features = data.get("features")
    degenerate = data.get("degenerate")
    if not isinstance(features, list) or not features or not isinstance(degenerate, dict):
        raise ConfigError("The behaviour weights need a features list and a degenerate object.")
    terms = tuple(_term(item, i) for i, item in enumerate(features))
    threshold = _number(data, "threshold", "weights")
    if not 0.0 < threshold < 1.0:
        raise ConfigError("The behaviour weights' threshold must lie strictly between 0 and 1.")
    reason = degenerate.get("reason")
    if not isinstance(reason, str) or not reason:
        raise ConfigError("The behaviour weights need degenerate.reason.")
    return BehaviourModel(
        version=str(data.get("version", "")),
        terms=terms,
        intercept=_number(data, "intercept", "weights"),
        threshold=threshold,
        finding_margin=_number(data, "finding_margin", "weights"),
        degenerate_logit=_number(degenerate, "logit", "degenerate"),
        degenerate_reason=reason,
        metadata=dict(data.get("training", {})),
        interactions=_interactions(data.get("interactions", []), [t.name for t in terms]),
    )


@lru_cache(maxsize=1)
def _default_model() -> BehaviourModel:
    text = (resources.files("humangate.risk") / "weights" / DEFAULT_WEIGHTS).read_text("utf-8")
    return model_from_dict(json.loads(text))


def load_model(path: str | Path | None = None) -> BehaviourModel:
    """The behaviour model of a weights file; without `path`, the shipped one (cached).

    Raises:
        ConfigError: the file is not a valid weights file.
        OSError: the file cannot be read.
    """
    if path is None:
        return _default_model()
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"The behaviour weights at {path} are not JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"The behaviour weights at {path} are not a JSON object.")
    return model_from_dict(data)
