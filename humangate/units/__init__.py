"""Verification units: the snapshot the hot path reads, the rules of their settings, and the one
parser of those settings as the CLI, the console and the demo receive them.

The operations on stored units (create, update, rotate, list, …) are in `humangate.units.service`,
which callers import themselves: it reaches the database, which this package's core does not.
"""

from __future__ import annotations

from humangate.units.input import (
    CLI_WORDING,
    UnitChanges,
    Wording,
    parse_unit_input,
)
from humangate.units.rules import (
    check_difficulty,
    check_domains,
    check_mode,
    check_name,
    check_pow_difficulty,
    check_threshold,
    normalize_domain,
    normalize_kinds,
)
from humangate.units.view import (
    DEFAULT_DIFFICULTY,
    DEFAULT_KINDS,
    DEFAULT_POW_DIFFICULTY,
    MAX_DIFFICULTY,
    MAX_DOMAINS,
    MAX_NAME,
    MAX_POW_DIFFICULTY,
    MODES,
    VISUAL_KINDS,
    Mode,
    UnitView,
    hostname_allowed,
    origin_hostname,
    unit_settings,
)

__all__ = [
    "CLI_WORDING",
    "DEFAULT_DIFFICULTY",
    "DEFAULT_KINDS",
    "DEFAULT_POW_DIFFICULTY",
    "MAX_DIFFICULTY",
    "MAX_DOMAINS",
    "MAX_NAME",
    "MAX_POW_DIFFICULTY",
    "MODES",
    "VISUAL_KINDS",
    "Mode",
    "UnitChanges",
    "UnitView",
    "Wording",
    "check_difficulty",
    "check_domains",
    "check_mode",
    "check_name",
    "check_pow_difficulty",
    "check_threshold",
    "hostname_allowed",
    "normalize_domain",
    "normalize_kinds",
    "origin_hostname",
    "unit_settings",
    "parse_unit_input",
]
