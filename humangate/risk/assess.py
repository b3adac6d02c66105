"""Combine the risk engine's parts into one assessment.

`score = sigmoid(behaviour + sum(findings))` in logit units: behaviour comes from the trained
trace model (or a fixed start when there is no trace), findings from the environment, rate and
replay rules. Reasons are the findings and behaviour features that lowered the score, worst
first. Everything learned or chosen lives in `weights/*.json`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from humangate.risk.base import Assessment, Finding, RateFacts, Trace
from humangate.risk.environment import RequestFacts, environment_findings
from humangate.risk.features import trajectory_features
from humangate.risk.model import BehaviourModel, load_model
from humangate.risk.rate import rate_findings

Pointer = Literal["mouse", "touch", "pen", "keyboard", "none"]


@dataclass(frozen=True, slots=True)
class CombineWeights:
    no_trace_logit: float
    keyboard_logit: float
    replayed_trace: float
    trace_ttl_seconds: int
    visual_floor_fraction: float


@cache
def combine_weights() -> CombineWeights:
    text = resources.files("humangate.risk").joinpath("weights/combine-v1.json").read_text()
    data = json.loads(text)
    return CombineWeights(
        no_trace_logit=float(data["no_trace_logit"]["value"]),
        keyboard_logit=float(data["keyboard_logit"]["value"]),
        replayed_trace=float(data["replayed_trace"]["value"]),
        trace_ttl_seconds=int(data["trace_ttl_seconds"]["value"]),
        visual_floor_fraction=float(data["visual_floor_fraction"]["value"]),
    )


def default_threshold() -> float:
    return load_model().threshold


def context_findings(
    environment: Mapping[str, object] | None, request: RequestFacts, rate: RateFacts
) -> list[Finding]:
    """What is known before any gesture: the browser's environment and the counted rates."""
    return [*environment_findings(environment or {}, request), *rate_findings(rate)]


def assess(
    trace: Trace | None,
    pointer: Pointer,
    context: Iterable[Finding],
    *,
    replayed: bool = False,
    model: BehaviourModel | None = None,
) -> Assessment:
    """Score a gesture (or its absence) together with the findings gathered before it."""
    weights = combine_weights()
    context = list(context)
    gesture_findings: list[Finding] = []
    features: dict[str, float] = {}
    traced = trace is not None and len(trace) >= 2 and pointer != "keyboard"
    if trace is not None and traced:
        features = trajectory_features(trace)
        behaviour, gesture_findings = (model or load_model()).logit(features)
    elif pointer == "keyboard":
        behaviour = weights.keyboard_logit
        gesture_findings.append(Finding("keyboard-gesture", 0.0))
    else:
        behaviour = weights.no_trace_logit
    if replayed:
        gesture_findings.append(Finding("replayed-trace", weights.replayed_trace))
    gesture = behaviour + sum(f.weight for f in gesture_findings)
    findings = [*context, *gesture_findings]
    return Assessment(
        score=_sigmoid(gesture + sum(f.weight for f in context)),
        reasons=_reasons(findings),
        features=features,
        gesture=_sigmoid(gesture) if traced else None,
    )


def findings_from_json(pairs: Sequence[Sequence[object]]) -> list[Finding]:
    """Findings kept in a challenge's stored state as [reason, weight] pairs."""
    return [Finding(str(reason), float(weight)) for reason, weight in pairs]  # type: ignore[arg-type]


def findings_to_json(findings: Iterable[Finding]) -> list[list[object]]:
    return [[f.reason, round(f.weight, 4)] for f in findings]


def _reasons(findings: Iterable[Finding]) -> tuple[str, ...]:
    worst: dict[str, float] = {}
    for finding in findings:
        if finding.weight < 0 or finding.reason == "keyboard-gesture":
            worst[finding.reason] = worst.get(finding.reason, 0.0) + finding.weight
    return tuple(sorted(worst, key=lambda reason: worst[reason]))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
