"""The trace generators of bench/risk: well-formed, reproducible, and human-like where claimed."""

from __future__ import annotations

import importlib.util
import math
import random
import statistics

import numpy as np
import pytest

from bench.risk import bots, external
from bench.risk.families import BOT_FAMILIES, FAMILIES, generate, generate_with_tasks
from bench.risk.human import human_movement, human_trace
from bench.risk.task import DragTask, Point, sample_task

INTERNAL = ["human", "straight-line", "constant-speed", "eased", "bezier", "replayed"]
BOT_END_SLACK = 3.0  # px a bot may end off the target (whole-pixel rounding, its own noise)


def assert_well_formed(task: DragTask, trace: list[Point], *, end_slack: float) -> None:
    assert len(trace) >= 2
    assert all(len(point) == 3 for point in trace)
    values = np.array(trace, dtype=np.float64)
    assert np.isfinite(values).all()
    assert trace[0][:2] == (0.0, 0.0)
    assert trace[0][2] > 0.0  # pointer-down comes after the widget was shown
    assert (np.diff(values[:, 2]) >= 0.0).all()
    assert abs(trace[-1][0] - task.distance) <= end_slack


def test_registry_names() -> None:
    assert set(FAMILIES) == {*INTERNAL, "ghost-cursor", "humancursor", "pyclick"}
    assert BOT_FAMILIES == [name for name in FAMILIES if name != "human"]


@pytest.mark.parametrize("family", INTERNAL)
def test_internal_family_traces_are_well_formed(family: str) -> None:
    for task, trace in generate_with_tasks(family, 1, 60):
        slack = task.tolerance if family == "human" else BOT_END_SLACK
        assert_well_formed(task, trace, end_slack=slack)


@pytest.mark.parametrize("family", INTERNAL)
def test_internal_family_is_deterministic_per_seed(family: str) -> None:
    assert generate(family, 7, 5) == generate(family, 7, 5)
    assert generate(family, 7, 5) != generate(family, 8, 5)
    assert generate(family, 7, 5)[:3] == generate(family, 7, 3)


def test_sample_task_covers_bar_and_puzzle() -> None:
    tasks = [sample_task(random.Random(i)) for i in range(400)]
    distances = [task.distance for task in tasks]
    assert min(distances) < 80.0 and max(distances) > 280.0
    assert {task.pointer for task in tasks} == {"mouse", "touch"}
    assert all(4.0 <= task.tolerance <= 10.0 for task in tasks)


def test_human_movement_time_follows_fitts_law() -> None:
    """Onset to settling inside the target, regressed on log2(D / W + 1) with W = 2 x tolerance."""
    difficulty, movement_ms = [], []
    for task, trace in generate_with_tasks("human", 11, 300):
        values = np.array(trace)
        x, t = values[:, 0], values[:, 2]
        onset = t[np.argmax(np.abs(x) >= 2.0)]
        outside = np.nonzero(np.abs(x - task.distance) > task.tolerance)[0]
        settled = t[outside[-1] + 1]
        difficulty.append(math.log2(task.distance / (2 * task.tolerance) + 1))
        movement_ms.append(settled - onset)
    slope, _ = np.polyfit(difficulty, movement_ms, 1)
    assert slope > 100.0  # ms/bit; each person's own b is 70-450
    assert np.corrcoef(difficulty, movement_ms)[0, 1] > 0.15


def test_human_primary_submovement_is_bell_shaped_with_an_early_peak() -> None:
    peaks, edges = [], []
    for seed in range(200):
        rng = random.Random(f"bell/{seed}")
        movement = human_movement(rng, sample_task(rng))
        primary = next(s for s in movement.plan if s.kind == "primary")
        values = np.array(movement.trace)
        since_down = values[:, 2] - values[0, 2]
        grid = np.arange(primary.onset_ms, primary.end_ms, 5.0)
        x = np.interp(grid, since_down, values[:, 0])
        speed = np.convolve(np.gradient(x, grid), np.ones(5) / 5, mode="same")
        peaks.append((grid[np.argmax(speed)] - primary.onset_ms) / primary.duration_ms)
        tenth = max(1, len(grid) // 10)
        edges.append(max(speed[:tenth].mean(), speed[-tenth:].mean()) / speed.max())
    assert np.mean([0.3 <= peak <= 0.6 for peak in peaks]) >= 0.9
    assert 0.35 <= statistics.median(peaks) <= 0.55
    assert statistics.median(edges) < 0.5  # slow at both ends: a bell, not a plateau


def median_intervals(traces: list[list[Point]]) -> np.ndarray:
    return np.array([np.median(np.diff([point[2] for point in trace])) for trace in traces])


def test_sampling_rates_vary_across_people_and_bots() -> None:
    human = median_intervals(generate("human", 3, 300))
    assert np.percentile(human, 10) < 5.0  # 250-1000 Hz mice (still moments send nothing)
    assert np.percentile(human, 90) > 15.0  # 60 Hz touch and frame-aligned browsers
    assert len(set(np.round(human))) >= 6
    for family in ["straight-line", "constant-speed", "eased", "bezier", "replayed"]:
        assert median_intervals(generate(family, 3, 100)).std() > 2.0, family


def test_replayed_sources_come_from_their_own_seed_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    first_draws: list[float] = []

    def recording_human_trace(rng: random.Random, task: DragTask) -> list[Point]:
        clone = random.Random()
        clone.setstate(rng.getstate())
        first_draws.append(clone.random())
        return human_trace(rng, task)

    monkeypatch.setattr(bots, "human_trace", recording_human_trace)
    generate("replayed", 0, 20)
    human_pool = {
        random.Random(f"human/{seed}/{i}").random() for seed in range(3) for i in range(500)
    }
    assert len(first_draws) == 20
    assert not human_pool & set(first_draws)


# The external generators come from the `risk-bench` extra and bench/risk/node, both installed
# by scripts/test: a missing one is a broken set-up, not a reason to skip. The Python packages
# import pyautogui, which needs a display, so presence is checked with find_spec, not import.
def _require_external(family: str) -> None:
    if family == "ghost-cursor":
        missing = external.ghost_cursor_missing()
        if missing is not None:
            pytest.fail(missing)
    elif importlib.util.find_spec(family) is None:
        pytest.fail(f"{family} is not installed (pip install -e '.[risk-bench]')")


@pytest.mark.parametrize("family", ["ghost-cursor", "humancursor", "pyclick"])
def test_external_family_traces_are_well_formed_and_deterministic(family: str) -> None:
    _require_external(family)
    pairs = generate_with_tasks(family, 2, 12)
    for task, trace in pairs:
        assert_well_formed(task, trace, end_slack=BOT_END_SLACK)
    assert [trace for _, trace in pairs[:4]] == generate(family, 2, 4)


def test_ghost_cursor_batch_equals_single_calls() -> None:
    _require_external("ghost-cursor")
    rng = random.Random("ghost-cursor/5/0")
    single = external.ghost_cursor_trace(rng, sample_task(rng))
    assert single == generate("ghost-cursor", 5, 2)[0]
