"""Verification units as the hot path sees them, and the pure rules about them."""

from __future__ import annotations

import re
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

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


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
    allow_networks: tuple[str, ...] = ()
    deny_networks: tuple[str, ...] = ()
    good_bots: tuple[str, ...] = ()
    device_salt: str = ""

    def threshold(self, default: float) -> float:
        """The score a visitor needs: calibrated by feedback, else the owner's, else `default`."""
        if self.calibrated_threshold is not None:
            return self.calibrated_threshold
        return default if self.score_threshold is None else self.score_threshold


def normalize_domain(domain: str) -> str:
    """Lower-case a host name and check it; raises ValueError with a full sentence if invalid."""
    host = domain.strip().lower().rstrip(".")
    if "://" in host:
        host = urlsplit(host).hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{domain!r} is not a valid domain name.") from exc
    if not _HOSTNAME.match(host):
        raise ValueError(f"{domain!r} is not a valid domain name.")
    return host


def normalize_kinds(kinds: list[str]) -> tuple[str, ...]:
    """Check visual kinds and put them in order of demand; raises ValueError if invalid."""
    unknown = sorted(set(kinds) - set(VISUAL_KINDS))
    if unknown or not kinds:
        allowed = ", ".join(VISUAL_KINDS)
        raise ValueError(f"Kinds must be a non-empty selection of {allowed}; got {kinds!r}.")
    return tuple(kind for kind in VISUAL_KINDS if kind in kinds)


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


def check_name(name: str) -> str:
    """A unit's name, stripped; raises ValueError unless it is 1 to MAX_NAME characters."""
    text = name.strip()
    if not 1 <= len(text) <= MAX_NAME:
        raise ValueError(f"The name must be 1 to {MAX_NAME} characters.")
    return text


def check_domains(domains: list[str]) -> list[str]:
    """Normalise host names, dropping repeats; raises ValueError for an empty or bad list."""
    found: list[str] = []
    for domain in domains:
        host = normalize_domain(domain)
        if host not in found:
            found.append(host)
    if not found:
        raise ValueError("At least one domain is required.")
    if len(found) > MAX_DOMAINS:
        raise ValueError(f"A unit has at most {MAX_DOMAINS} domains.")
    return found


def check_mode(mode: str) -> Mode:
    for known in MODES:
        if mode == known:
            return known
    raise ValueError(f"The mode must be one of {', '.join(MODES)}; got {mode!r}.")


def check_difficulty(difficulty: int) -> int:
    if not 0 <= difficulty <= MAX_DIFFICULTY:
        raise ValueError(f"The difficulty must be between 0 and {MAX_DIFFICULTY}.")
    return difficulty


def check_pow_difficulty(pow_difficulty: int) -> int:
    if not 1 <= pow_difficulty <= MAX_POW_DIFFICULTY:
        limit = MAX_POW_DIFFICULTY
        raise ValueError(f"The proof-of-work difficulty must be between 1 and {limit}.")
    return pow_difficulty


def check_threshold(threshold: float) -> float:
    # NaN fails both comparisons, so it is refused too.
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("The threshold must be between 0 and 1.")
    return threshold
