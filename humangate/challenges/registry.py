"""Every visual kind behind one shape: `generate(rng, level, lang)` and `check(answer, ...)`.

`level` (0..4) is the unit's base difficulty plus the risk the loop sees; each kind turns it into
its own parameters here, so the loop never knows a kind's knobs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from humangate.challenges import audio, click, rotate, slide, text
from humangate.challenges.base import Challenge, CheckResult

Language = str  # "en" or "zh"
Generate = Callable[[random.Random, int, Language], Challenge]
Check = Callable[[dict[str, Any], Any, Any], CheckResult]


@dataclass(frozen=True, slots=True)
class KindSpec:
    generate: Generate
    check: Check


def _slide(rng: random.Random, level: int, lang: Language) -> Challenge:
    return slide.generate_slide(rng, slide.SlideParams(decoys=2 if level < 3 else 3))


def _click(rng: random.Random, level: int, lang: Language) -> Challenge:
    # Symbols in every language: public OCR reads characters, prompt and scene alike.
    return click.generate_click(rng, click.ClickParams(script="symbols", level=level))


def _rotate(rng: random.Random, level: int, lang: Language) -> Challenge:
    return rotate.generate_rotate(rng, rotate.RotateParams(level=level))


def _text(rng: random.Random, level: int, lang: Language) -> Challenge:
    return text.generate_text(rng, text.TextParams(level=level))


def _audio(rng: random.Random, level: int, lang: Language) -> Challenge:
    return audio.generate_audio(rng, audio.AudioParams(language=lang, level=level))


KINDS: dict[str, KindSpec] = {
    "slide": KindSpec(_slide, slide.check_slide),
    "rotate": KindSpec(_rotate, rotate.check_rotate),
    "click": KindSpec(_click, click.check_click),
    "text": KindSpec(_text, text.check_text),
    "audio": KindSpec(_audio, audio.check_audio),
}
LANGUAGES = ("en", "zh")


def generate(kind: str, rng: random.Random, *, level: int, lang: Language) -> Challenge:
    return KINDS[kind].generate(rng, level, lang)


def check(kind: str, answer: dict[str, Any], submission: Any, trajectory: Any) -> CheckResult:
    return KINDS[kind].check(answer, submission, trajectory)
