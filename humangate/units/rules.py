"""The pure rules of a unit's settings: each checks one value and names what is wrong.

Every refusal is an `InvalidInput` (a ValueError too) with one full sentence for the user.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from humangate.errors import InvalidInput
from humangate.units.view import (
    MAX_DIFFICULTY,
    MAX_DOMAINS,
    MAX_NAME,
    MAX_POW_DIFFICULTY,
    MODES,
    VISUAL_KINDS,
    Mode,
)

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def normalize_domain(domain: str) -> str:
    """Lower-case a host name and check it; raises InvalidInput with a full sentence if invalid."""
    host = domain.strip().lower().rstrip(".")
    if "://" in host:
        host = urlsplit(host).hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput(f"{domain!r} is not a valid domain name.") from exc
    if not _HOSTNAME.match(host):
        raise InvalidInput(f"{domain!r} is not a valid domain name.")
    return host


def normalize_kinds(kinds: list[str]) -> tuple[str, ...]:
    """Check visual kinds and put them in order of demand; raises InvalidInput if invalid."""
    unknown = sorted(set(kinds) - set(VISUAL_KINDS))
    if unknown or not kinds:
        allowed = ", ".join(VISUAL_KINDS)
        raise InvalidInput(f"Kinds must be a non-empty selection of {allowed}; got {kinds!r}.")
    return tuple(kind for kind in VISUAL_KINDS if kind in kinds)


def check_name(name: str) -> str:
    """A unit's name, stripped; raises InvalidInput unless it is 1 to MAX_NAME characters."""
    text = name.strip()
    if not 1 <= len(text) <= MAX_NAME:
        raise InvalidInput(f"The name must be 1 to {MAX_NAME} characters.")
    return text


def check_domains(domains: list[str]) -> list[str]:
    """Normalise host names, dropping repeats; raises InvalidInput for an empty or bad list."""
    found: list[str] = []
    for domain in domains:
        host = normalize_domain(domain)
        if host not in found:
            found.append(host)
    if not found:
        raise InvalidInput("At least one domain is required.")
    if len(found) > MAX_DOMAINS:
        raise InvalidInput(f"A unit has at most {MAX_DOMAINS} domains.")
    return found


def check_mode(mode: str) -> Mode:
    """One of MODES; raises InvalidInput otherwise."""
    for known in MODES:
        if mode == known:
            return known
    raise InvalidInput(f"The mode must be one of {', '.join(MODES)}; got {mode!r}.")


def check_difficulty(difficulty: int) -> int:
    """A visual challenge's base difficulty, 0 to MAX_DIFFICULTY; raises InvalidInput otherwise."""
    if not 0 <= difficulty <= MAX_DIFFICULTY:
        raise InvalidInput(f"The difficulty must be between 0 and {MAX_DIFFICULTY}.")
    return difficulty


def check_pow_difficulty(pow_difficulty: int) -> int:
    """The proof of work's search space, 1 to MAX_POW_DIFFICULTY; raises InvalidInput otherwise."""
    if not 1 <= pow_difficulty <= MAX_POW_DIFFICULTY:
        limit = MAX_POW_DIFFICULTY
        raise InvalidInput(f"The proof-of-work difficulty must be between 1 and {limit}.")
    return pow_difficulty


def check_threshold(threshold: float) -> float:
    """A risk score from 0 to 1; raises InvalidInput otherwise (NaN included)."""
    # NaN fails both comparisons, so it is refused too.
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInput("The threshold must be between 0 and 1.")
    return threshold
