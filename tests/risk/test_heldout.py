"""The held-out bench: post-processing tricks, new bot families, human variants, and the
leave-one-family-out evaluation (run on a tiny n so it cannot rot; figures are not asserted)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bench.risk import lofo, train, tricks
from bench.risk.adversaries import HELD_OUT
from bench.risk.cells import TRICKS, cell_traces
from bench.risk.task import Point
from bench.risk.variants import HUMAN_VARIANTS
from humangate.risk.features import trajectory_features
from tests.risk._traces import reach


def well_formed(trace: list[Point]) -> None:
    values = np.array(trace, dtype=np.float64)
    assert values.ndim == 2 and values.shape[1] == 3 and len(values) >= 2
    assert np.isfinite(values).all()
    assert trace[0][:2] == (0.0, 0.0)
    assert trace[0][2] > 0.0
    assert (np.diff(values[:, 2]) >= 0.0).all()


NEW_BOTS = [*HELD_OUT, "randomized"]
CELLS = [*NEW_BOTS, *HUMAN_VARIANTS, *(f"{f}{TRICKS}" for f in ("straight-line", *NEW_BOTS))]


@pytest.mark.parametrize("cell", CELLS)
def test_every_new_cell_gives_well_formed_reproducible_traces(cell: str) -> None:
    traces = cell_traces(cell, 5, 6)
    for trace in traces:
        well_formed(trace)
        assert trajectory_features(trace)["degenerate"] == 0.0
    assert cell_traces(cell, 5, 3) == traces[:3]
    assert cell_traces(cell, 6, 3) != traces[:3]


def test_tricks_are_not_for_people() -> None:
    with pytest.raises(KeyError):
        cell_traces(f"human{TRICKS}", 0, 1)


def person() -> list[Point]:
    return [(x, y, t) for x, y, t in reach(hz=60, shown=500.0)]


def test_the_pauses_add_a_grab_and_a_hold() -> None:
    plain = trajectory_features(person())
    grabbed = trajectory_features(tricks.grab_pause(random.Random(1), person()))
    held = trajectory_features(tricks.release_pause(random.Random(1), person()))
    assert grabbed["start_delay_log"] > plain["start_delay_log"] + 1.0
    assert held["end_hold_log"] > plain["end_hold_log"] + 1.0


def test_drift_overshoot_noise_and_jitter_change_what_they_say() -> None:
    base = person()
    drifted = tricks.drift(random.Random(2), base)
    assert max(abs(y) for _, y, _ in drifted) >= 1.0
    over = trajectory_features(tricks.overshoot(random.Random(2), base))
    assert over["overshoot_rel"] > 0.02 and over["reversals"] >= 1
    noisy = tricks.point_noise(random.Random(2), base)
    assert np.allclose([p[2] for p in noisy], [p[2] for p in base], atol=0.05) and noisy != base
    jittered = tricks.time_jitter(random.Random(2), base)
    assert [p[2] for p in jittered] != [p[2] for p in base]
    for trace in (drifted, noisy, jittered, tricks.with_tricks(random.Random(3), base)):
        well_formed(trace)


def test_the_held_out_evaluation_runs_and_covers_every_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A toy fit on a handful of traces is separable, so Newton runs to its cap on every refit;
    # without the 231 pair columns that costs seconds, not minutes. The structure is under test.
    monkeypatch.setattr(train, "PAIRS", ())
    cells = lofo.run(n=3, train_n=4)
    names = [c.cell for c in cells]
    for family in lofo.bot_families():
        assert family in names and f"{family}{TRICKS}" in names
    assert set(lofo.human_cells()) <= set(names)
    assert all(c.n == 3 and 0 <= c.passed <= c.n for c in cells)
    assert {c.training for c in cells} <= {"left out", "never trained on", "trained on"}
    assert any(c.training == "left out" for c in cells if not c.human)
    lines = lofo.table(cells, markdown=True)
    rows = len(lofo.bot_families()) + len(lofo.human_cells()) + 4  # and two headers each
    assert sum(line.startswith("| ") for line in lines) == rows
