"""The one parser of a unit's settings as people type them: CLI options, console forms, the demo.

`parse_unit_input` turns plain strings and lists into checked `UnitChanges`, with the same rules
for every caller. Only the sentences that name a field differ (`--allow` on the command line,
"the allow list" on the console's form, in the reader's language); a `Wording` supplies them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from humangate.errors import InvalidInput
from humangate.risk.access import CRAWLERS, parse_networks
from humangate.units.rules import (
    check_difficulty,
    check_domains,
    check_mode,
    check_name,
    check_pow_difficulty,
    check_threshold,
    normalize_kinds,
)
from humangate.units.view import (
    DEFAULT_POW_DIFFICULTY,
    MAX_DIFFICULTY,
    MAX_POW_DIFFICULTY,
    Mode,
)

T = TypeVar("T")
AccessListName = Literal["allow", "deny"]
WholeField = Literal["difficulty", "pow_difficulty"]
# Domains typed in one text box: one a line, or separated by spaces or commas.
_DOMAIN_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class UnitChanges:
    """Checked settings of a unit; None leaves a field as it is (or takes the default)."""

    name: str | None = None
    domains: Sequence[str] | None = None
    mode: Mode | None = None
    kinds: tuple[str, ...] | None = None
    difficulty: int | None = None
    pow_difficulty: int | None = None
    disabled: bool | None = None
    score_threshold: float | None = None
    allow_networks: tuple[str, ...] | None = None
    deny_networks: tuple[str, ...] | None = None
    good_bots: tuple[str, ...] | None = None
    hide_mark: bool | None = None
    # None cannot both mean "leave it" and "the model's default", so clearing is explicit.
    clear_threshold: bool = False


class Wording:
    """The refusals that name a field as its user knows it; these name the CLI's options.

    The console subclasses it with its form's labels, as sentences its catalogue translates.
    """

    def bad_access_list(self, which: AccessListName, error: str) -> str:
        """An access list (`--allow`, `--deny`) has a bad line: `error` says which and why."""
        return f"--{which}: {error}"

    def unknown_crawler(self, name: str) -> str:
        """`name` is not one of CRAWLERS."""
        return f"--good-bot: unknown crawler {name!r}; known: {', '.join(CRAWLERS)}."

    def not_whole(self, field: WholeField) -> str:
        """A difficulty typed as text is not a whole number."""
        if field == "difficulty":
            return f"The difficulty must be a whole number from 0 to {MAX_DIFFICULTY}."
        limit = MAX_POW_DIFFICULTY
        return f"The proof-of-work difficulty must be a whole number from 1 to {limit}."

    def bad_threshold_text(self) -> str:
        """A threshold typed as text is no number from 0 to 1 (empty would have cleared it)."""
        return "The threshold must be a number between 0 and 1, or empty."


CLI_WORDING = Wording()


def parse_unit_input(
    *,
    name: str | None = None,
    domains: str | Sequence[str] | None = None,
    mode: str | None = None,
    kinds: Sequence[str] | None = None,
    difficulty: int | str | None = None,
    pow_difficulty: int | str | None = None,
    threshold: float | str | None = None,
    allow_networks: str | Sequence[str] | None = None,
    deny_networks: str | Sequence[str] | None = None,
    good_bots: Sequence[str] | None = None,
    disabled: bool | None = None,
    hide_mark: bool | None = None,
    wording: Wording = CLI_WORDING,
) -> UnitChanges:
    """Check a unit's settings as typed; a field left None stays None (unchanged).

    Text is read as a form sends it: domains one a line (or separated by spaces or commas),
    numbers as digits, an access list one network a line. An empty proof-of-work difficulty
    means the default, an empty threshold clears it (the behaviour model's default applies),
    an empty access list or crawler list empties it.

    Raises:
        InvalidInput: the first field that is wrong (a difficulty or threshold typed as text
            that is no number, then the fields in the order of the arguments), with one
            sentence saying what to write instead.
    """
    # Text that is no number is refused first, as the console's form always did.
    clear_threshold = threshold == ""
    difficulty = _whole(difficulty, "difficulty", wording)
    if isinstance(threshold, str):
        threshold = _threshold_text(threshold, wording)
    checked_name = _given(check_name, name)
    checked_domains = None if domains is None else tuple(check_domains(_domain_list(domains)))
    checked_mode = None if mode is None else check_mode(mode)
    checked_kinds = None if kinds is None else normalize_kinds(list(kinds))
    checked_difficulty = _given(check_difficulty, difficulty)
    if pow_difficulty == "":
        pow_difficulty = DEFAULT_POW_DIFFICULTY
    checked_pow = _given(check_pow_difficulty, _whole(pow_difficulty, "pow_difficulty", wording))
    return UnitChanges(
        name=checked_name,
        domains=checked_domains,
        mode=checked_mode,
        kinds=checked_kinds,
        difficulty=checked_difficulty,
        pow_difficulty=checked_pow,
        disabled=disabled,
        score_threshold=_given(check_threshold, threshold),
        clear_threshold=clear_threshold,
        allow_networks=_access_list(allow_networks, "allow", wording),
        deny_networks=_access_list(deny_networks, "deny", wording),
        good_bots=_crawlers(good_bots, wording),
        hide_mark=hide_mark,
    )


def _given(check: Callable[[T], T], value: T | None) -> T | None:
    return None if value is None else check(value)


def _domain_list(domains: str | Sequence[str]) -> list[str]:
    if isinstance(domains, str):
        return [domain for domain in _DOMAIN_SEPARATORS.split(domains) if domain]
    return list(domains)


def _whole(value: int | str | None, field: WholeField, wording: Wording) -> int | None:
    """A number as typed: text must be a whole number."""
    if not isinstance(value, str):
        return value
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(wording.not_whole(field)) from None


def _threshold_text(text: str, wording: Wording) -> float | None:
    """A threshold typed as text: empty, or a number from 0 to 1."""
    if not text:
        return None
    try:
        return check_threshold(float(text))
    except ValueError:
        raise InvalidInput(wording.bad_threshold_text()) from None


def _access_list(
    lines: str | Sequence[str] | None, which: AccessListName, wording: Wording
) -> tuple[str, ...] | None:
    if lines is None:
        return None
    try:
        return tuple(str(network) for network in parse_networks(lines))
    except ValueError as exc:
        raise InvalidInput(wording.bad_access_list(which, str(exc))) from None


def _crawlers(names: Sequence[str] | None, wording: Wording) -> tuple[str, ...] | None:
    """Declared crawlers from the catalogue, sorted and without repeats."""
    if names is None:
        return None
    unknown = sorted(set(names) - set(CRAWLERS))
    if unknown:
        raise InvalidInput(wording.unknown_crawler(unknown[0]))
    return tuple(sorted(set(names)))
