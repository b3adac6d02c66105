"""Pure risk scoring: trajectory features, environment, access lists and rate -> score + reasons.

No I/O: the loop gathers the facts and `humangate.risk.assess.assess` combines them. The names
below are the ones callers use. Those of the modules built on NumPy (assess, features, replay) are
imported on first use, so that reading the settings or running a CLI command does not load NumPy;
`assess` itself is reached as `humangate.risk.assess.assess`, since its module has its name.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from humangate.risk.access import (
    CRAWLERS,
    MAX_ENTRIES,
    MAX_LINE,
    AccessList,
    crawler_findings,
    declared_crawler,
    normalise_network,
    parse_networks,
    verify_crawler,
)
from humangate.risk.base import Assessment, Finding, Point, RateFacts, Trace
from humangate.risk.calibration import calibrate
from humangate.risk.difficulty import pow_difficulty
from humangate.risk.environment import RegionTable, RequestFacts, environment_findings
from humangate.risk.model import BehaviourModel, load_model
from humangate.risk.rate import rate_findings

if TYPE_CHECKING:
    from humangate.risk.assess import (
        Pointer,
        combine_weights,
        context_findings,
        default_threshold,
    )
    from humangate.risk.features import FEATURE_NAMES, trajectory_features
    from humangate.risk.replay import trace_fingerprints

_ON_FIRST_USE = {
    "Pointer": "assess",
    "combine_weights": "assess",
    "context_findings": "assess",
    "default_threshold": "assess",
    "FEATURE_NAMES": "features",
    "trajectory_features": "features",
    "trace_fingerprints": "replay",
}


def __getattr__(name: str) -> object:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "CRAWLERS",
    "FEATURE_NAMES",
    "MAX_ENTRIES",
    "MAX_LINE",
    "AccessList",
    "Assessment",
    "BehaviourModel",
    "Finding",
    "Point",
    "Pointer",
    "RateFacts",
    "RegionTable",
    "RequestFacts",
    "Trace",
    "calibrate",
    "combine_weights",
    "context_findings",
    "crawler_findings",
    "declared_crawler",
    "default_threshold",
    "environment_findings",
    "load_model",
    "normalise_network",
    "parse_networks",
    "pow_difficulty",
    "rate_findings",
    "trace_fingerprints",
    "trajectory_features",
    "verify_crawler",
]
