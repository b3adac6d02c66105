"""Loader of the rule weights file (`weights/rules-v1.json`), validated once and cached.

Weights are data, not code, so that a change of weight is a new file version, reviewable on its
own and recorded with every assessment. The loader refuses a file that breaks the invariants the
rules rely on (a reason without a "why", a positive weight, grades that are not monotonic), so a
bad edit fails at start-up instead of skewing scores.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from humangate.risk.base import Finding

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_VERSION = "rules-v1"


@dataclass(frozen=True, slots=True)
class Grade:
    """From `at` upward (inclusive), `value` applies: a weight, or a difficulty factor."""

    at: float
    value: float


@dataclass(frozen=True, slots=True)
class Load:
    """When a unit's rate counts as load: the minimum rate, and the floor of its usual rate."""

    min_per_minute: int
    min_baseline: float


@dataclass(frozen=True, slots=True)
class DifficultyTable:
    """Factors of the adaptive proof of work; see `humangate.risk.difficulty`."""

    max: int
    max_level: int
    failures: tuple[Grade, ...]
    network_per_minute: tuple[Grade, ...]
    device_per_minute: tuple[Grade, ...]
    unit_load: tuple[Grade, ...]
    score_below: tuple[Grade, ...]


@dataclass(frozen=True, slots=True)
class PowRate:
    """The fastest proof-of-work rate the widget reaches in a browser, by device class, and the
    fewest hashes over which a rate is judged; see `humangate.risk.pow_rate`."""

    desktop_hashes_per_second: float
    mobile_hashes_per_second: float
    min_hashes: int


@dataclass(frozen=True, slots=True)
class RuleBook:
    """One validated version of the weights file."""

    version: str
    weights: Mapping[str, float]
    grades: Mapping[str, tuple[Grade, ...]]
    load: Load
    difficulty: DifficultyTable
    pow_rate: PowRate

    def finding(self, reason: str) -> Finding:
        """The finding for a flat rule, with its weight from the file."""
        return Finding(reason, self.weights[reason])


def graded(value: float, grades: tuple[Grade, ...]) -> float | None:
    """The value of the highest grade `value` reaches, or None below the first."""
    reached = None
    for grade in grades:
        if value >= grade.at:
            reached = grade.value
    return reached


class RulesFileError(ValueError):
    """The weights file is malformed; the message names the entry."""


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RulesFileError(f"{where} must be a finite number, not {value!r}.")
    return float(value)


def _why(entry: object, where: str) -> None:
    if not isinstance(entry, Mapping):
        raise RulesFileError(f"{where} must be an object.")
    why = entry.get("why")
    if not isinstance(why, str) or len(why.strip()) < 10:
        raise RulesFileError(f"{where} needs a 'why' that says why it has its weight.")


def _flat(section: Mapping[str, Any], where: str) -> dict[str, float]:
    weights = {}
    for reason, entry in section.items():
        _why(entry, f"{where}.{reason}")
        weight = _number(entry.get("weight"), f"{where}.{reason}.weight")
        if weight > 0:
            raise RulesFileError(f"{where}.{reason}.weight must be <= 0 (machine-like evidence).")
        weights[reason] = weight
    return weights


def _grades(raw: object, where: str, key: str, *, rising: bool) -> tuple[Grade, ...]:
    """Grades sorted by `at` (ascending, or descending for `rising=False` thresholds such as
    score_below), whose values must move one way only: weights down, factors up."""
    if not isinstance(raw, list) or not raw:
        raise RulesFileError(f"{where} must be a non-empty list of grades.")
    if not all(isinstance(g, Mapping) for g in raw):
        raise RulesFileError(f"{where}: every grade must be an object.")
    grades = tuple(
        Grade(_number(g.get("at"), f"{where}[{i}].at"), _number(g.get(key), f"{where}[{i}].{key}"))
        for i, g in enumerate(raw)
    )
    for before, after in zip(grades, grades[1:], strict=False):
        if (after.at <= before.at) if rising else (after.at >= before.at):
            order = "increase" if rising else "decrease"
            raise RulesFileError(f"{where}: thresholds must strictly {order}.")
        if key == "weight" and after.value > before.value:
            raise RulesFileError(f"{where}: weights must not rise with the threshold.")
        if key == "factor" and after.value < before.value:
            raise RulesFileError(f"{where}: factors must not fall with the threshold.")
    if key == "weight" and grades[0].value > 0:
        raise RulesFileError(f"{where}: weights must be <= 0.")
    if key == "factor" and (grades[0].value < 1 or any(g.value % 1 for g in grades)):
        raise RulesFileError(f"{where}: factors must be whole numbers >= 1.")
    return grades


def _difficulty(raw: Mapping[str, Any]) -> DifficultyTable:
    _why(raw, "difficulty")
    cap = _number(raw.get("max"), "difficulty.max")
    level = _number(raw.get("max_level"), "difficulty.max_level")
    if cap < 1 or cap % 1 or level < 0 or level % 1:
        raise RulesFileError("difficulty.max and max_level must be whole numbers (max >= 1).")

    def table(key: str, rising: bool = True) -> tuple[Grade, ...]:
        return _grades(raw.get(key), f"difficulty.{key}", "factor", rising=rising)

    return DifficultyTable(
        max=int(cap),
        max_level=int(level),
        failures=table("failures"),
        network_per_minute=table("network_per_minute"),
        device_per_minute=table("device_per_minute"),
        unit_load=table("unit_load"),
        score_below=table("score_below", rising=False),
    )


def _pow_rate(raw: Mapping[str, Any]) -> PowRate:
    _why(raw, "pow_rate")
    rates = [
        _number(raw.get(key), f"pow_rate.{key}")
        for key in ("desktop_hashes_per_second", "mobile_hashes_per_second", "min_hashes")
    ]
    if min(rates) <= 0 or rates[2] % 1:
        raise RulesFileError("pow_rate: rates must be > 0 and min_hashes a whole number.")
    return PowRate(rates[0], rates[1], int(rates[2]))


def parse_rules(data: Mapping[str, Any]) -> RuleBook:
    """Validate a decoded weights file.

    Raises:
        RulesFileError: on any entry that breaks the invariants, naming it.
    """
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise RulesFileError("The weights file needs a 'version'.")
    weights = {**_flat(data.get("environment", {}), "environment")}
    weights.update(_flat(data.get("access", {}), "access"))
    weights.update(_flat(data.get("pow", {}), "pow"))
    grades = {}
    for reason, entry in data.get("rate", {}).items():
        _why(entry, f"rate.{reason}")
        grades[reason] = _grades(entry.get("grades"), f"rate.{reason}", "weight", rising=True)
    load = data.get("load", {})
    _why(load, "load")
    return RuleBook(
        version=version,
        weights=weights,
        grades=grades,
        load=Load(
            min_per_minute=int(_number(load.get("min_per_minute"), "load.min_per_minute")),
            min_baseline=_number(load.get("min_baseline"), "load.min_baseline"),
        ),
        difficulty=_difficulty(data.get("difficulty", {})),
        pow_rate=_pow_rate(data.get("pow_rate", {})),
    )


@cache
def load_rules(version: str = DEFAULT_VERSION) -> RuleBook:
    """The validated rule book of `version`, read once from the package's weights directory."""
    if not version.replace("-", "").isalnum():
        raise RulesFileError(f"{version!r} is not a weights file version.")
    return parse_rules(json.loads((WEIGHTS_DIR / f"{version}.json").read_text("utf-8")))
