"""Slide (jigsaw) challenges: a pure generator with decoys, and a checker that never raises."""

from __future__ import annotations

import json
import math
import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humangate.challenges import _imaging
from humangate.challenges._jigsaw import decoy_sides as _decoy_sides
from humangate.challenges._jigsaw import random_sides as _random_sides
from humangate.challenges.base import CheckResult
from humangate.challenges.slide import (
    DEFAULT_TOLERANCE,
    SlideParams,
    check_slide,
    generate_slide,
)
from tests.challenges._data_urls import image, raw
from tests.strategies import json_values

PAYLOAD_KEYS = {
    "width",
    "height",
    "background",
    "piece",
    "piece_width",
    "piece_height",
    "piece_y",
}


def make(seed: int = 1, params: SlideParams | None = None):
    return generate_slide(random.Random(seed), params or SlideParams())


def drag(x: float, *, duration: float = 600.0, points: int = 12) -> list[list[float]]:
    """A plausible trajectory from 0 to x over `duration` ms."""
    return [
        [x * i / (points - 1), 80.0, 1000.0 + duration * i / (points - 1)] for i in range(points)
    ]


# --- generator -------------------------------------------------------------------------------


def test_different_seeds_give_different_images_and_answers() -> None:
    challenges = [make(seed) for seed in range(12)]
    assert len({c.payload["background"] for c in challenges}) == 12
    assert len({c.payload["piece"] for c in challenges}) == 12
    assert len({c.answer["x"] for c in challenges}) >= 8


def test_payload_has_exactly_the_public_keys_and_is_json() -> None:
    challenge = make(3)
    assert challenge.kind == "slide"
    assert set(challenge.payload) == PAYLOAD_KEYS
    assert set(challenge.answer) == {"x"} and isinstance(challenge.answer["x"], int)
    assert json.loads(json.dumps(challenge.payload)) == challenge.payload
    assert challenge.payload["background"].startswith("data:image/jpeg;base64,")
    assert challenge.payload["piece"].startswith("data:image/webp;base64,")


@pytest.mark.parametrize("seed", range(6))
def test_image_sizes_match_the_payload_and_the_piece_fits(seed: int) -> None:
    challenge = make(seed)
    p = challenge.payload
    background, piece = image(p["background"]), image(p["piece"])
    assert background.size == (p["width"], p["height"]) == (360, 160)
    assert piece.size == (p["piece_width"], p["piece_height"])
    assert piece.mode == "RGBA"
    assert 44 <= p["piece_width"] <= 56 and 29 <= p["piece_height"] <= 56
    # the slider's handle is as wide as the piece: in a 300 px widget (a 280 px track) still
    # a touch target
    assert p["piece_width"] * 280 / p["width"] >= 32
    assert 0 <= p["piece_y"] and p["piece_y"] + p["piece_height"] <= p["height"]
    assert 64 <= challenge.answer["x"] <= p["width"] - p["piece_width"]
    alpha = np.asarray(piece)[..., 3]
    assert alpha.min() == 0 and alpha.max() == 255  # a cut-out shape, not a rectangle


def test_answers_spread_over_the_row() -> None:
    xs = [make(seed).answer["x"] for seed in range(120)]
    assert min(xs) < 110 and max(xs) > 250


def test_answers_are_uniform_over_their_range_so_no_guess_beats_chance() -> None:
    """A fixed guess wins no more often than a tolerance window over the range (issue 16)."""
    params = SlideParams()
    lo, hi = params.answer_range()
    xs = np.array([make(seed, params).answer["x"] for seed in range(1500)])
    assert xs.min() >= lo and xs.max() <= hi and hi - lo >= 150
    window = 2 * DEFAULT_TOLERANCE + 1
    counts = np.bincount(xs - lo, minlength=hi - lo + 1)
    best_guess = np.convolve(counts, np.ones(window), mode="valid").max() / len(xs)
    chance = window / (hi - lo + 1)
    assert best_guess <= chance + 0.03  # sampling noise of 1500 draws


def _jpeg_markers(data: bytes) -> list[int]:
    """Marker bytes of a JPEG's segments up to the start of scan."""
    assert data[:2] == b"\xff\xd8"
    markers, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return markers
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return markers


def _webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    chunks, i = [], 12
    while i + 8 <= len(data):
        tag, (size,) = data[i : i + 4], struct.unpack("<I", data[i + 4 : i + 8])
        chunks.append(tag)
        i += 8 + size + (size & 1)
    return chunks


@pytest.mark.parametrize("seed", range(4))
def test_images_carry_no_metadata(seed: int) -> None:
    p = make(seed).payload
    markers = _jpeg_markers(raw(p["background"]))
    assert 0xE0 in markers  # the JFIF header
    assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE]  # no EXIF/XMP/ICC/comment
    assert set(_webp_chunks(raw(p["piece"]))) <= {b"VP8L", b"VP8 ", b"VP8X", b"ALPH"}
    for data_url in (p["background"], p["piece"]):
        info = image(data_url).info
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(info)


def test_answer_is_not_among_the_payload_numbers() -> None:
    hits = 0
    for seed in range(60):
        challenge = make(seed)
        numbers = [v for k, v in challenge.payload.items() if isinstance(v, int)]
        hits += challenge.answer["x"] in numbers
    assert hits <= 2  # an occasional coincidence, never a rule


def test_transparent_piece_pixels_hide_nothing() -> None:
    """Under alpha 0 the piece holds one flat colour, so dropping alpha shows no silhouette."""
    for seed in range(5):
        rgba = np.asarray(image(make(seed).payload["piece"]))
        hidden = rgba[rgba[..., 3] == 0][:, :3]
        assert len(hidden) > 0
        assert (hidden == hidden[0]).all()


def _clean_background(seed: int, params: SlideParams) -> np.ndarray:
    """The hole-free background a challenge starts from, replayed from the same seed."""
    rng = random.Random(seed)
    gen = _imaging.numpy_generator(rng)
    index, palette = _imaging.render_background(rng, gen, params.width, params.height)
    return np.asarray(_imaging.to_rgb(index, palette), dtype=np.float32)


def _holes_on_the_row(seed: int, params: SlideParams) -> list[tuple[int, int]]:
    """Column runs where the served background differs from the clean one on the piece's row."""
    challenge = generate_slide(random.Random(seed), params)
    p = challenge.payload
    served = np.asarray(image(p["background"]).convert("RGB"), dtype=np.float32)
    rows = slice(p["piece_y"], p["piece_y"] + p["piece_height"])
    changed = np.abs(served - _clean_background(seed, params))[rows].max(axis=2) > 20
    columns = np.flatnonzero(changed.mean(axis=0) > 0.3)
    runs: list[tuple[int, int]] = []
    for column in columns:
        if runs and column - runs[-1][1] <= 3:
            runs[-1] = (runs[-1][0], column)
        else:
            runs.append((column, column))
    return [run for run in runs if run[1] - run[0] >= 20]


@pytest.mark.parametrize("seed", range(5))
def test_decoy_holes_share_the_row_with_the_real_one(seed: int) -> None:
    params = SlideParams()
    challenge = make(seed, params)
    holes = _holes_on_the_row(seed, params)
    assert len(holes) == 1 + params.decoys
    x, width = challenge.answer["x"], challenge.payload["piece_width"]
    centre = x + width / 2
    assert sum(start <= centre <= end for start, end in holes) == 1


def test_without_decoys_there_is_one_hole() -> None:
    assert len(_holes_on_the_row(2, SlideParams(decoys=0))) == 1


def test_decoys_are_near_twins_each_on_a_side_of_its_own() -> None:
    rng = random.Random(1)
    for _ in range(200):
        piece = _random_sides(rng)
        taken = [piece]
        while (sides := _decoy_sides(rng, piece, taken)) is not None:
            taken.append(sides)
        assert len(taken) == 1 + sum(side != 0 for side in piece) >= 4  # room for three decoys
        changed = [[i for i in range(4) if d[i] != piece[i]] for d in taken[1:]]
        assert all(len(c) == 1 for c in changed)
        assert len({c[0] for c in changed}) == len(changed)
        assert all(d[c[0]] == -piece[c[0]] != 0 for d, c in zip(taken[1:], changed, strict=True))


def test_decoy_outlines_cannot_be_mistaken_for_the_piece() -> None:
    rng = random.Random(9)
    for _ in range(200):
        piece = _random_sides(rng)
        decoy = _decoy_sides(rng, piece, [piece])
        assert decoy is not None
        assert sorted(decoy) != sorted(piece)  # so no turn or mirror image of the piece


@pytest.mark.parametrize(
    "overrides",
    [{"width": 100}, {"height": 4000}, {"piece_size": 10}, {"decoys": 9}, {"min_x": 300}],
)
def test_params_out_of_range_are_refused(overrides: dict) -> None:
    with pytest.raises(ValueError):
        SlideParams(**overrides)


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(160, 640),
    height=st.integers(80, 320),
    piece_size=st.integers(20, 60),
    decoys=st.integers(0, 4),
    min_x=st.integers(0, 120),
    seed=st.integers(0, 2**32),
)
def test_any_accepted_params_generate_a_consistent_challenge(
    width: int, height: int, piece_size: int, decoys: int, min_x: int, seed: int
) -> None:
    try:
        params = SlideParams(width, height, piece_size, decoys, min_x)
    except ValueError:
        return
    challenge = generate_slide(random.Random(seed), params)
    p = challenge.payload
    assert image(p["background"]).size == (width, height)
    assert image(p["piece"]).size == (p["piece_width"], p["piece_height"])
    assert min_x <= challenge.answer["x"] <= width - p["piece_width"]
    assert 0 <= p["piece_y"] <= height - p["piece_height"]


# --- checker ---------------------------------------------------------------------------------


ANSWER = {"x": 150}


@pytest.mark.parametrize("offset", [-DEFAULT_TOLERANCE, -1.5, 0, 0.25, DEFAULT_TOLERANCE])
def test_check_passes_within_tolerance(offset: float) -> None:
    x = 150 + offset
    assert check_slide(ANSWER, x, drag(x)) == CheckResult.ok()
    assert check_slide(ANSWER, {"x": x}, drag(x)).passed


@pytest.mark.parametrize("offset", [-DEFAULT_TOLERANCE - 1, DEFAULT_TOLERANCE + 0.5, 40])
def test_check_fails_outside_tolerance(offset: float) -> None:
    x = 150 + offset
    assert check_slide(ANSWER, x, drag(x)).reason == "wrong-answer"


def test_tolerance_can_be_tightened_or_widened() -> None:
    assert check_slide(ANSWER, 152, drag(152), tolerance=1).reason == "wrong-answer"
    assert check_slide(ANSWER, 160, drag(160), tolerance=10).passed


def test_generated_answer_passes_and_a_decoy_guess_fails() -> None:
    challenge = make(4)
    x = challenge.answer["x"]
    assert check_slide(challenge.answer, x, drag(x)).passed
    assert check_slide(challenge.answer, x + 30, drag(x + 30)).reason == "wrong-answer"


@pytest.mark.parametrize(
    "submission",
    [True, False, None, "150", b"150", [150], {"y": 150}, {"x": "150"}, {"x": True}, {"x": None},
     math.nan, math.inf, -math.inf, {"x": math.nan}, -1, -0.5, 5000, 10**400, 150j],
)  # fmt: skip
def test_malformed_or_out_of_range_submissions_are_invalid(submission: object) -> None:
    assert check_slide(ANSWER, submission, drag(150)).reason == "invalid-answer"


@pytest.mark.parametrize(
    "trajectory",
    [
        None,
        "[[0, 0, 0], [150, 0, 500]]",
        {"0": [0, 0, 0]},
        [],
        [[150, 80, 0]],  # one point
        drag(150, points=2001),  # too many points
        [[0, 80, 0], [150, 80]],  # not a triple
        [[0, 80, 0], [150, 80, 500, 1]],
        [[0, 80, 0], [150, "80", 500]],
        [[0, 80, 0], [150, True, 500]],
        [[0, 80, 0], [150, 80, math.nan]],
        [[0, 80, math.inf], [150, 80, math.inf]],
        [[0, 80, 0], [10**400, 80, 500]],
        [[0, 80, 500], [150, 80, 400]],  # time runs backwards
        drag(150, duration=149),  # too quick
        drag(120),  # ends far from the submitted x
        [[0, 80, 0], (150, 80, 500), 7],
    ],
)
def test_implausible_trajectories_are_invalid(trajectory: object) -> None:
    assert check_slide(ANSWER, 150, trajectory).reason == "invalid-trajectory"


def test_trajectory_may_end_a_little_off_and_use_tuples() -> None:
    points = [tuple(p) for p in drag(148)]
    assert check_slide(ANSWER, 150, points).passed  # within TRAJECTORY_END_SLACK
    assert check_slide(ANSWER, 150, [[0, 80, 0], [150, 80, 0], [150, 80, 150]]).passed


@pytest.mark.parametrize(
    ("answer", "tolerance"),
    [({}, None), ({"x": "150"}, None), ({"x": True}, None), ({"x": 10**400}, None),
     (None, None), ([150], None), (ANSWER, -1), (ANSWER, True), (ANSWER, 2.5)],
)  # fmt: skip
def test_a_broken_stored_answer_or_tolerance_is_reported(answer: object, tolerance: object) -> None:
    result = check_slide(answer, 150, drag(150), tolerance=tolerance)  # type: ignore[arg-type]
    assert result.reason == "invalid-challenge"


@settings(max_examples=300, deadline=None)
@given(answer=json_values, submission=json_values, trajectory=json_values)
def test_check_never_raises_on_arbitrary_json(answer, submission, trajectory) -> None:
    result = check_slide(answer, submission, trajectory)
    assert isinstance(result, CheckResult)
    assert result.passed is False


numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False) | st.integers(-(10**6), 10**6)


@settings(max_examples=300, deadline=None)
@given(
    x=st.floats(min_value=0, max_value=400, allow_nan=False),
    answer_x=st.integers(0, 400),
    points=st.lists(st.tuples(numbers, numbers, numbers), min_size=0, max_size=30),
)
def test_check_passes_exactly_when_close_and_plausible(x, answer_x, points) -> None:
    trajectory = [list(p) for p in sorted(points, key=lambda p: p[2])] + [[x, 80, 1e7]]
    result = check_slide({"x": answer_x}, x, trajectory)
    duration = 1e7 - min(p[2] for p in trajectory)
    plausible = len(trajectory) >= 2 and duration >= 150
    if not plausible:
        assert result.reason == "invalid-trajectory"
    else:
        assert result.passed == (abs(x - answer_x) <= DEFAULT_TOLERANCE)
