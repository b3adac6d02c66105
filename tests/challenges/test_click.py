"""Click-in-order challenges: a pure scene generator and a checker that never raises."""

from __future__ import annotations

import json
import math
import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humangate.challenges import _glyphs, click, registry
from humangate.challenges.base import CheckResult
from humangate.challenges.click import ClickParams, check_click, generate_click
from tests.challenges._data_urls import image, raw
from tests.strategies import json_values

PAYLOAD_KEYS = {
    "image",
    "width",
    "height",
    "prompt_image",
    "prompt_width",
    "prompt_height",
    "count",
}
GOLDEN_SEED_1 = [[189, 150], [160, 51], [42, 114]]  # the answer's points for seed 1 at the defaults
ANSWER = {"points": [[50, 50], [150, 60], [250, 150]], "radius": 16, "width": 320, "height": 200}


def make(seed: int = 1, params: ClickParams | None = None):
    return generate_click(random.Random(seed), params or ClickParams())


# --- generator -------------------------------------------------------------------------------


def test_different_seeds_give_different_scenes_and_answers() -> None:
    challenges = [make(seed) for seed in range(8)]
    assert len({c.payload["image"] for c in challenges}) == 8
    assert len({c.payload["prompt_image"] for c in challenges}) == 8
    assert len({json.dumps(c.answer["points"]) for c in challenges}) == 8


def test_golden_answer_is_stable() -> None:
    assert make(1).answer["points"] == GOLDEN_SEED_1


def test_payload_has_exactly_the_public_keys_and_no_answer() -> None:
    challenge = make(3)
    assert challenge.kind == "click"
    assert set(challenge.payload) == PAYLOAD_KEYS
    assert set(challenge.answer) == {"points", "radius", "width", "height"}
    encoded = json.dumps(challenge.payload, ensure_ascii=False)
    assert json.loads(encoded) == challenge.payload
    assert not any(c in encoded for c in _glyphs.CJK_COMMON)  # no character names in the JSON
    assert challenge.payload["image"].startswith("data:image/jpeg;base64,")
    assert challenge.payload["prompt_image"].startswith("data:image/webp;base64,")


@pytest.mark.parametrize("script", ["symbols", "latin", "cjk", "mixed"])
@pytest.mark.parametrize("level", [0, 2, 4])
def test_images_match_the_payload(script: str, level: int) -> None:
    params = ClickParams(script=script, level=level)  # type: ignore[arg-type]
    challenge = make(level + 10, params)
    p, answer = challenge.payload, challenge.answer
    assert image(p["image"]).size == (p["width"], p["height"]) == (320, 200)
    assert image(p["prompt_image"]).size == (p["prompt_width"], p["prompt_height"])
    assert p["count"] == len(answer["points"]) == 3 and answer["radius"] == 16
    for x, y in answer["points"]:
        assert 0 <= x <= 320 and 0 <= y <= 200
    for a, b in zip(answer["points"], answer["points"][1:], strict=False):
        assert math.dist(a, b) > 2 * answer["radius"]  # click circles never meet


def test_targets_are_drawn_at_their_points() -> None:
    """The scene differs from its surroundings' mean around each target: ink is there."""
    challenge = make(5)
    scene = np.asarray(image(challenge.payload["image"]).convert("L"), dtype=np.float32)
    for x, y in challenge.answer["points"]:
        patch = scene[max(0, y - 12) : y + 12, max(0, x - 12) : x + 12]
        assert patch.std() > 15


def _prompt_ink(data_url: str) -> int:
    grey = np.asarray(image(data_url).convert("L"), dtype=np.int16)
    return int((grey < grey.max() - 80).sum())


@pytest.mark.parametrize("script", ["symbols", "cjk", "latin"])
@pytest.mark.parametrize("seed", range(3))
def test_prompt_draws_each_target_in_its_own_slot(script: str, seed: int) -> None:
    """Each of the prompt's `count` slots holds a glyph drawn with an outline that stands out
    from the ground (many pixels far in colour from the median of the slot's top and bottom
    rows, which are ground), whatever the script."""
    challenge = make(seed, ClickParams(script=script))  # type: ignore[arg-type]
    p = challenge.payload
    rgb = np.asarray(image(p["prompt_image"]).convert("RGB"), dtype=np.float32)
    pitch = (p["prompt_width"] - 12) / p["count"]
    for i in range(p["count"]):
        slot = rgb[:, round(6 + i * pitch + 8) : round(6 + (i + 1) * pitch - 8)]
        ground = np.median(np.concatenate([slot[:3], slot[-3:]]).reshape(-1, 3), axis=0)
        assert (np.abs(slot - ground).max(axis=2) > 60).sum() >= 60


def test_the_default_scene_shows_symbols_in_every_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Public OCR reads characters, so click scenes and prompts show pictograms by default."""
    assert ClickParams().script == "symbols"
    chars: list[str] = []
    original = click._characters

    def spy(rng: random.Random, script: click.Script, n: int) -> list[str]:
        picked = original(rng, script, n)
        chars.extend(picked)
        return picked

    monkeypatch.setattr(click, "_characters", spy)
    for lang in registry.LANGUAGES:
        registry.generate("click", random.Random(4), level=2, lang=lang)
    assert chars and all(c in _glyphs.SYMBOLS for c in chars)


def test_every_symbol_is_in_the_vendored_font_and_distinct() -> None:
    assert 20 <= len(set(_glyphs.SYMBOLS)) == len(_glyphs.SYMBOLS)
    for face in _glyphs.SYMBOL_FONTS:
        assert all(_glyphs.has_glyph(c, face) for c in _glyphs.SYMBOLS)


@pytest.mark.parametrize("face", [*_glyphs.CJK_FONTS, _glyphs.PROMPT_FONT])
def test_every_cjk_character_is_in_the_vendored_fonts(face: str) -> None:
    missing = [c for c in _glyphs.CJK_COMMON if not _glyphs.has_glyph(c, face)]
    assert not missing
    assert all(_glyphs.has_glyph(c, face) for c in _glyphs.LATIN_SAFE)
    assert not _glyphs.has_glyph("丁", face)  # outside the subset


def test_character_set_is_large_and_distinct() -> None:
    assert 300 <= len(_glyphs.CJK_COMMON) <= 500
    assert len(set(_glyphs.CJK_COMMON)) == len(_glyphs.CJK_COMMON)
    assert all(_glyphs.has_glyph(c, f) for f in _glyphs.LATIN_FONTS for c in _glyphs.LATIN_SAFE)


def _webp_chunks(data: bytes) -> list[bytes]:
    chunks, i = [], 12
    while i + 8 <= len(data):
        tag, (size,) = data[i : i + 4], struct.unpack("<I", data[i + 4 : i + 8])
        chunks.append(tag)
        i += 8 + size + (size & 1)
    return chunks


def test_images_carry_no_metadata() -> None:
    p = make(6).payload
    scene = raw(p["image"])
    assert scene[:2] == b"\xff\xd8" and b"Exif" not in scene[:200]
    assert set(_webp_chunks(raw(p["prompt_image"]))) <= {b"VP8L", b"VP8 ", b"VP8X", b"ALPH"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 100},
        {"targets": 0},
        {"distractors": (3, 2)},
        {"script": "greek"},
        {"radius": 2},
        {"level": 7},
        {"targets": 8, "distractors": (6, 6)},
    ],  # fmt: skip
)
def test_params_are_validated(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ClickParams(**kwargs)


# --- checker ---------------------------------------------------------------------------------


def test_checker_accepts_points_within_the_radius_in_order() -> None:
    exact = [[50, 50], [150, 60], [250, 150]]
    near = [[60.5, 55.0], [140, 70], [250, 134]]
    assert check_click(ANSWER, {"points": exact}) == CheckResult.ok()
    assert check_click(ANSWER, near) == CheckResult.ok()
    assert check_click(ANSWER, tuple(tuple(p) for p in near)) == CheckResult.ok()


def test_checker_passes_a_generated_answer() -> None:
    challenge = make(12)
    assert check_click(challenge.answer, challenge.answer["points"]).passed


def test_checker_reports_the_wrong_order() -> None:
    swapped = [[150, 60], [50, 50], [250, 150]]
    assert check_click(ANSWER, swapped) == CheckResult.fail("wrong-order")


@pytest.mark.parametrize(
    "points",
    [
        [[50, 67], [150, 60], [250, 150]],
        [[50, 50], [150, 60], [10, 10]],
        [[50, 50], [50, 50], [250, 150]],
    ],  # fmt: skip
)
def test_checker_rejects_misses(points: list) -> None:
    assert check_click(ANSWER, points) == CheckResult.fail("wrong-answer")


@pytest.mark.parametrize(
    "submission",
    [
        None,
        [],
        [[50, 50], [150, 60]],
        [[50, 50], [150, 60], [250, 150], [1, 1]],
        [[50, 50], [150, 60], [250, 201]],
        [[50, 50], [150, 60], [-1, 150]],
        [[50, 50], [150, 60], [float("nan"), 150]],
        [[50, 50], [150, 60], [True, 150]],
        [[50, 50], [150, 60], ["250", 150]],
        [[50, 50], [150, 60], [250]],
        {"point": [[50, 50], [150, 60], [250, 150]]},
        "50,50;150,60;250,150",
    ],  # fmt: skip
)
def test_checker_rejects_malformed_submissions(submission: object) -> None:
    assert check_click(ANSWER, submission) == CheckResult.fail("invalid-answer")


@pytest.mark.parametrize(
    "answer",
    [
        None,
        {},
        {"points": [], "radius": 16},
        {"points": [[1, 2]], "radius": 0},
        {"points": [[1, 2]], "radius": "16"},
        {"points": [[1]], "radius": 16},
        {"points": [[1, 2]] * 9, "radius": 16},
    ],  # fmt: skip
)
def test_checker_rejects_a_broken_stored_answer(answer: object) -> None:
    assert check_click(answer, [[1, 2]]) == CheckResult.fail("invalid-challenge")  # type: ignore[arg-type]


numbers = st.integers(-10, 5000) | st.floats(allow_nan=True, allow_infinity=True)
point_lists = st.lists(st.lists(numbers, min_size=0, max_size=3), max_size=9)


@settings(max_examples=300, deadline=None)
@given(submission=json_values | point_lists | st.fixed_dictionaries({"points": point_lists}),
       trajectory=json_values)  # fmt: skip
def test_checker_never_raises(submission: object, trajectory: object) -> None:
    assert isinstance(check_click(ANSWER, submission, trajectory), CheckResult)


@settings(max_examples=200, deadline=None)
@given(answer=json_values | st.fixed_dictionaries({"points": point_lists, "radius": numbers}),
       submission=point_lists)  # fmt: skip
def test_checker_never_raises_on_broken_answers(answer: object, submission: object) -> None:
    assert isinstance(check_click(answer, submission), CheckResult)  # type: ignore[arg-type]
