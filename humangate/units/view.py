"""A verification unit as the hot path sees it, the limits of its settings, and origin checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Mode = Literal["managed", "interactive", "invisible", "score"]
MODES: tuple[Mode, ...] = ("managed", "interactive", "invisible", "score")
DEFAULT_POW_DIFFICULTY = 50_000
# Visual kinds from the least to the most demanding; risk moves a visitor along this order.
VISUAL_KINDS: tuple[str, ...] = ("slide", "rotate", "click", "text")
DEFAULT_KINDS: tuple[str, ...] = ("slide",)
MAX_DIFFICULTY = 4
MAX_POW_DIFFICULTY = 10_000_000
MAX_NAME = 200
MAX_DOMAINS = 50
# The level the challenge kinds are hardened and measured at (bench/adversary); 0..1 are milder.
DEFAULT_DIFFICULTY = 2


@dataclass(frozen=True, slots=True)
class UnitView:
    """An immutable snapshot of a unit, safe to cache for a few seconds."""

    id: int
    sitekey: str
    name: str
    domains: tuple[str, ...]
    mode: Mode
    pow_difficulty: int
    disabled: bool = False
    any_origin: bool = False
    kinds: tuple[str, ...] = DEFAULT_KINDS
    difficulty: int = DEFAULT_DIFFICULTY
    score_threshold: float | None = None  # None: the behaviour model's default
    calibrated_threshold: float | None = None  # from the owner's feedback labels
    threshold_model: str | None = None  # the behaviour model both were set against
    allow_networks: tuple[str, ...] = ()
    deny_networks: tuple[str, ...] = ()
    good_bots: tuple[str, ...] = ()
    device_salt: str = ""
    # The owner asked the widget to leave the HumanGate name out; honoured for the enterprise
    # edition only when billing is on (humangate/billing/editions.py).
    hide_mark: bool = False
    account_id: int | None = None  # the owning console account; None for CLI and demo units

    def threshold(self, default: float, *, model: str) -> float:
        """The score a visitor needs on `model`'s scale: calibrated by feedback, else the
        owner's, else `default`. Thresholds set against another model do not apply."""
        if self.threshold_model != model:
            return default
        if self.calibrated_threshold is not None:
            return self.calibrated_threshold
        return default if self.score_threshold is None else self.score_threshold

    def threshold_outdated(self, model: str) -> bool:
        """The owner set (or feedback calibrated) a threshold for a model no longer in use."""
        has_threshold = self.score_threshold is not None or self.calibrated_threshold is not None
        return has_threshold and self.threshold_model != model


def unit_settings(unit: UnitView) -> dict[str, object]:
    """The settings a unit's `--json` listing and its owner's data export both show, alike."""
    return {
        "sitekey": unit.sitekey,
        "name": unit.name,
        "domains": list(unit.domains),
        "mode": unit.mode,
        "kinds": list(unit.kinds),
        "difficulty": unit.difficulty,
        "pow_difficulty": unit.pow_difficulty,
        "disabled": unit.disabled,
        "hide_mark": unit.hide_mark,
    }


def origin_hostname(origin: str | None, referer: str | None) -> str | None:
    """The host name a browser request came from, from Origin or else Referer."""
    for value in (origin, referer):
        if value and value != "null":
            try:
                host = urlsplit(value).hostname
            except ValueError:
                return None
            if host:
                return host.lower()
    return None


def hostname_allowed(unit: UnitView, hostname: str | None) -> bool:
    """A host matches a unit's domain exactly or as a subdomain of it."""
    if hostname is None:
        return False
    if unit.any_origin:
        return True
    return any(hostname == d or hostname.endswith("." + d) for d in unit.domains)
