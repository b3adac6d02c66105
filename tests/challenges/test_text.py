"""Text challenges: a pure generator of distorted words, a checker that never raises."""

from __future__ import annotations

import json
import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humangate.challenges import _glyphs
from humangate.challenges.base import CheckResult
from humangate.challenges.text import TextParams, check_text, generate_text
from tests.challenges._data_urls import image, raw
from tests.strategies import json_values

PAYLOAD_KEYS = {"image", "width", "height", "length"}
GOLDEN_SEED_1 = "DMEYX"  # the answer for seed 1 at the default parameters


def make(seed: int = 1, params: TextParams | None = None):
    return generate_text(random.Random(seed), params or TextParams())


def test_different_seeds_give_different_images_and_answers() -> None:
    challenges = [make(seed) for seed in range(12)]
    assert len({c.payload["image"] for c in challenges}) == 12
    assert len({c.answer["text"] for c in challenges}) == 12


def test_golden_answer_is_stable() -> None:
    assert make(1).answer == {"text": GOLDEN_SEED_1}


def test_payload_has_exactly_the_public_keys_and_no_answer() -> None:
    challenge = make(3)
    assert challenge.kind == "text"
    assert set(challenge.payload) == PAYLOAD_KEYS
    assert set(challenge.answer) == {"text"}
    encoded = json.dumps(challenge.payload)
    assert json.loads(encoded) == challenge.payload
    assert challenge.payload["image"].startswith("data:image/jpeg;base64,")
    text = challenge.answer["text"]
    assert text not in encoded and text.lower() not in encoded


@pytest.mark.parametrize("level", range(5))
def test_image_matches_the_payload_at_every_level(level: int) -> None:
    challenge = make(level, TextParams(level=level))
    p = challenge.payload
    picture = image(p["image"])
    assert picture.size == (p["width"], p["height"]) == (200, 70)
    assert p["length"] == len(challenge.answer["text"]) == 5
    assert set(challenge.answer["text"]) <= set(_glyphs.LATIN_SAFE)
    assert len(raw(p["image"])) < 8000
    grey = np.asarray(picture.convert("L"), dtype=np.float32)
    assert grey.std() > 10  # something is drawn


def test_letters_are_drawn_where_the_word_is() -> None:
    """Level 0 has no negative cut: dark ink on pale paper, spread over most of the width."""
    grey = np.asarray(image(make(2, TextParams(level=0)).payload["image"]).convert("L"))
    dark_columns = np.flatnonzero((grey < 110).sum(axis=0) >= 3)
    assert dark_columns[-1] - dark_columns[0] > 100


def _paper_bands(challenge) -> int:
    """How many times the paper turns from light to dark or back across the picture, from the
    median brightness of each column (letters take less than half of one)."""
    grey = np.asarray(image(challenge.payload["image"]).convert("L"), dtype=np.float32)
    paper = np.convolve(np.median(grey, axis=0), np.ones(5) / 5, mode="valid")
    light = paper > (paper.min() + paper.max()) / 2
    return int(np.count_nonzero(light[1:] != light[:-1]))


@pytest.mark.parametrize("seed", range(6))
def test_from_the_default_level_the_paper_turns_between_every_two_letters(seed: int) -> None:
    """Issue 16: a reader trained on dark-on-light (or light-on-dark) captchas meets both
    polarities in every word: light and dark paper alternate under successive letters."""
    assert _paper_bands(make(seed)) == 4
    assert _paper_bands(make(seed, TextParams(length=3, width=120, level=4))) == 2


def _jpeg_markers(data: bytes) -> list[int]:
    markers, i = [], 2
    while i < len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return markers


def test_image_carries_no_metadata() -> None:
    data = raw(make(4).payload["image"])
    assert data[:2] == b"\xff\xd8"
    markers = _jpeg_markers(data)
    assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE]


def test_custom_alphabet_and_length() -> None:
    challenge = make(9, TextParams(length=4, alphabet="ACE"))
    assert set(challenge.answer["text"]) <= set("ACE") and len(challenge.answer["text"]) == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 10},
        {"length": 0},
        {"length": 11},
        {"alphabet": "A"},
        {"alphabet": "A!"},
        {"level": 5},
        {"jpeg_quality": 10},
    ],  # fmt: skip
)
def test_params_are_validated(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        TextParams(**kwargs)


# --- checker ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "submission", ["ACD7K", "acd7k", " AcD7k ", "ac d7 k", {"text": "acd7K"}, "ACD7K\n"]
)
def test_checker_accepts_the_answer_in_any_case_and_spacing(submission: object) -> None:
    assert check_text({"text": "ACD7K"}, submission) == CheckResult.ok()


@pytest.mark.parametrize("submission", ["ACD7", "ACD7KK", "ACD7X", "KD7CA"])
def test_checker_rejects_wrong_text(submission: str) -> None:
    assert check_text({"text": "ACD7K"}, submission) == CheckResult.fail("wrong-answer")


@pytest.mark.parametrize(
    "submission", [None, "", "   ", 5, ["ACD7K"], {"answer": "ACD7K"}, {"text": 1}, "A" * 65]
)
def test_checker_rejects_malformed_submissions(submission: object) -> None:
    assert check_text({"text": "ACD7K"}, submission) == CheckResult.fail("invalid-answer")


@pytest.mark.parametrize("answer", [None, {}, {"text": ""}, {"text": 5}, "ACD7K"])
def test_checker_rejects_a_broken_stored_answer(answer: object) -> None:
    assert check_text(answer, "ACD7K") == CheckResult.fail("invalid-challenge")  # type: ignore[arg-type]


def test_checker_passes_a_generated_answer() -> None:
    challenge = make(11)
    assert check_text(challenge.answer, challenge.answer["text"].lower()).passed


@settings(max_examples=300, deadline=None)
@given(answer=json_values | st.fixed_dictionaries({"text": json_values}), submission=json_values,
       trajectory=json_values)  # fmt: skip
def test_checker_never_raises(answer: object, submission: object, trajectory: object) -> None:
    result = check_text(answer, submission, trajectory)  # type: ignore[arg-type]
    assert isinstance(result, CheckResult)


@settings(max_examples=200, deadline=None)
@given(
    flips=st.lists(st.booleans(), min_size=5, max_size=5),
    spaces=st.lists(st.sampled_from(["", " ", "\t", "\n"]), min_size=6, max_size=6),
)
def test_any_case_and_spacing_of_the_answer_passes(flips: list[bool], spaces: list[str]) -> None:
    letters = [c.lower() if flip else c for c, flip in zip("ACD7K", flips, strict=True)]
    submission = "".join(space + c for space, c in zip(spaces, [*letters, ""], strict=True))
    assert check_text({"text": "ACD7K"}, submission).passed
