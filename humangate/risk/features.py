"""Behaviour features of one pointer trace: named, scale-free where they can be, rate-robust.

`trajectory_features(trace)` returns a flat `dict[str, float]` with the keys of `FEATURE_NAMES`
plus `degenerate`. Every value is finite. Browsers sample pointers at 30 to 1000 Hz with jittery,
rounded timestamps and (often) integer coordinates, so the kinematic features are not computed
on the raw points: the trace is linearly resampled on a fixed `GRID_MS` grid and smoothed with a
Gaussian of `SMOOTH_MS` (never narrower than the trace's own median interval, so a 30 Hz trace's
linear-interpolation kinks do not read as jerk). Timing features (`interval_*`, `step_repeat_*`)
deliberately use the raw events: they describe the event stream, not the movement.

Each feature is defined in docs/risk-model.md; every threshold is a named constant below. A
timestamp's error moves a point along its path, so tremor and the raw residual are measured
across the smoothed direction of motion: a recorder's jitter does not read as a shaking hand.

A trace that cannot be measured (not a sequence of 3-number points, fewer than 3 distinct times,
zero duration, or no movement beyond `MOVE_PX`) gives the degenerate set: every feature 0.0 and
`degenerate` 1.0. Nothing here raises on any input.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

GRID_MS = 10.0  # resampling step: 100 Hz, Nyquist 50 Hz, above the tremor band
MAX_GRID_POINTS = 2000  # beyond 20 s the grid coarsens: bounded work (a drag takes 0.3-5 s)
SMOOTH_MS = 40.0  # Gaussian sigma: keeps the movement (< 4 Hz), leaves < 5 % of 10 Hz tremor
KERNEL_SIGMAS = 4.0  # kernel radius; its cut-off tail (3e-4 of the peak) never reads as jerk
MOVING_FRACTION = 0.05  # of peak speed: below it the pointer counts as stopped
PAUSE_MIN_MS = 60.0
MOVE_PX = 2.0  # rounding and tremor stay within this of a resting point
REVERSAL_PX = 2.0
PEAK_PROMINENCE = 0.1
PEAK_BAND = 0.95  # speeds this close to the top count as the peak
TREMOR_BAND_HZ = (8.0, 12.0)  # physiological tremor
TREMOR_FLOOR_PX = 0.01  # below any real sensor's resolution; keeps the log finite at zero
EXACT_MS = 1e-3  # intervals equal within a microsecond are "exactly" equal
EXACT_PX = 1e-6
FITTS_WIDTH_PX = 8.0  # a typical target width, for the movement time per bit of difficulty
RESIDUAL_TRIM = 0.1  # share of the raw points left out at each end for the raw residual
RESIDUAL_LAG_MS = 16.0  # the residual's autocorrelation lag: one 60 Hz frame, at any rate
RESIDUAL_SMOOTH_MS = 30.0  # the path residuals are read from, twiced (see _Kinematics)
CENTROID_BAND_HZ = (3.0, 20.0)  # where the residual's mean frequency is read (tremor: 8-12)
SPARC_CUTOFF_HZ = 10.0  # spectral arc length: movement content lies below it
SPARC_FLOOR = 0.05  # the spectrum is read up to where it last exceeds this share of its top
APPROACH_SHARE = 0.9  # the final approach: from this share of the distance to the end
CLOCK_MIN_INTERVALS = 30  # fewer intervals than this: too few to compare thirds
CLOCK_QUANTILE = 10.0  # percentile: a device's report period, under skipped reports
CLOCK_FLOOR_MS = 5.0  # intervals this short (or shorter) all count as this long
CLOCK_SLACK = 0.15  # log ratio by which three jittery estimates of one period may differ

FEATURE_NAMES: tuple[str, ...] = (
    "duration_log",
    "reaction_log",
    "distance_log",
    "path_efficiency",
    "y_std_log",
    "y_drift_log",
    "peak_time_frac",
    "peak_mean_ratio",
    "speed_skew",
    "speed_cv",
    "accel_log",
    "jerk_log",
    "turning_log",
    "curvature_cv",
    "pause_count",
    "pause_frac",
    "start_delay_log",
    "end_hold_log",
    "overshoot_rel",
    "reversals",
    "submovements",
    "tremor_log",
    "tremor_frac",
    "interval_cv",
    "interval_repeat_frac",
    "step_repeat_frac",
    "fitts_time_log",
    "residual_log",
    "residual_lag1",
    "tremor_centroid",
    "speed_sparc",
    "approach_frac",
    "clock_drift",
    "point_repeats_log",
)

Array = NDArray[np.float64]
CArray = NDArray[np.complex128]


def degenerate_features() -> dict[str, float]:
    """The feature set of a trace that cannot be measured: all zero, `degenerate` 1."""
    features = dict.fromkeys(FEATURE_NAMES, 0.0)
    features["degenerate"] = 1.0
    return features


def trajectory_features(trace: Any) -> dict[str, float]:
    """Measure one trace.

    Args:
        trace: a sequence of `(x, y, t)` points (px, px, ms since the widget was shown).

    Returns:
        The features of `FEATURE_NAMES` and `degenerate` (0.0, or 1.0 with every feature 0.0).
    """
    points = _as_points(trace)
    if points is None:
        return degenerate_features()
    t, x, y = points
    timing = _timing(np.diff(t), np.diff(x), np.diff(y))
    timing["clock_drift"] = _clock_drift(np.diff(t))
    # Events at one time (within a microsecond; browsers stamp 5 us or coarser): keep the last.
    keep = np.append(np.diff(t) > EXACT_MS, True)
    t, x, y = t[keep], x[keep], y[keep]
    duration = float(t[-1] - t[0])
    if len(t) < 3 or duration <= 0 or not _moves(x, y):
        return degenerate_features()
    kin = _Kinematics(t, x, y)
    if not math.isfinite(kin.peak):  # absurd but finite input can still overflow a speed
        return degenerate_features()
    features = {
        "duration_log": math.log1p(duration),
        "reaction_log": math.log1p(max(float(t[0]), 0.0)),
        "distance_log": math.log1p(kin.distance),
        **_path(kin),
        **_speed_profile(kin),
        **_derivatives(kin),
        **_pauses(kin),
        **_holds(t, x, y),
        **_corrections(kin),
        **_tremor(kin),
        **_raw_residual(kin, t, x, y),
        **_structure(kin),
        **timing,
    }
    out = {name: _finite(features[name]) for name in FEATURE_NAMES}
    out["degenerate"] = 0.0
    return out


def _as_points(trace: Any) -> tuple[Array, Array, Array] | None:
    try:
        arr = np.asarray(trace, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] < 3 or not np.isfinite(arr).all():
        return None
    if np.abs(arr).max() > 1e12:  # finite but absurd: squares would overflow
        return None
    order = np.argsort(arr[:, 2], kind="stable")
    arr = arr[order]
    return arr[:, 2].copy(), arr[:, 0] - arr[0, 0], arr[:, 1] - arr[0, 1]


def _moves(x: Array, y: Array) -> bool:
    return bool(np.hypot(x - x[0], y - y[0]).max() >= MOVE_PX)


def _finite(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else 0.0


class _Kinematics:
    """The resampled trace and its smoothed derivatives (complex positions, x + iy), once."""

    __slots__ = ("h", "seconds", "g", "s", "fine", "v", "a", "j", "speed", "peak", "moving",
                 "distance", "path", "sigma", "unit", "inner")  # fmt: skip

    def __init__(self, t: Array, x: Array, y: Array) -> None:
        duration = float(t[-1] - t[0])
        self.h = max(GRID_MS, duration / (MAX_GRID_POINTS - 1))
        grid = t[0] + np.arange(int(duration / self.h) + 1) * self.h
        if grid[-1] < t[-1]:
            grid = np.append(grid, t[-1])
        self.g = np.interp(grid, t, x + 1j * y)
        self.sigma = max(SMOOTH_MS, float(np.median(np.diff(t))))
        self.s = _smooth(self.g, _gaussian(self.sigma / self.h))
        # The path the residuals are read from, twiced (Tukey: the smoothed path plus the
        # smoothed remainder): it follows a bend, which a Gaussian alone cuts, so a fast curved
        # move leaves no residual that reads as jitter, and it still leaves most of a tremor.
        fine = _gaussian(max(RESIDUAL_SMOOTH_MS, float(np.median(np.diff(t)))) / self.h)
        rough = _smooth(self.g, fine)
        self.fine = rough + _smooth(self.g - rough, fine)
        hs = self.h / 1000.0
        self.seconds = duration / 1000.0
        self.v = _derivative(self.s, hs)
        self.a = _derivative(self.v, hs)
        self.j = _derivative(self.a, hs)
        self.speed = np.abs(self.v)
        self.peak = float(self.speed.max())
        self.moving = self.speed >= MOVING_FRACTION * self.peak
        # Away from the ends, where a start or stop at speed (a kink against the padding)
        # reaches jerk and the residual through the kernel's width.
        n, edge = len(grid), math.ceil(min(KERNEL_SIGMAS * self.sigma, 0.4 * duration) / self.h)
        self.inner = slice(edge, n - edge) if n - 2 * edge >= 3 else slice(0, n)
        end = complex(x[-1], y[-1])
        self.distance = abs(end)
        self.path = max(float(np.abs(np.diff(self.s)).sum()), MOVE_PX)
        if self.distance >= MOVE_PX:
            self.unit = end / self.distance
        else:  # out and back: measure along the furthest excursion instead
            far = complex(self.g[int(np.argmax(np.abs(self.g)))])
            self.unit = far / max(abs(far), 1e-9)


def _gaussian(sigma: float) -> Array:
    radius = max(1, math.ceil(KERNEL_SIGMAS * sigma))
    k: Array = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return k / float(k.sum())


def _smooth(values: CArray, kernel: Array) -> CArray:
    radius = len(kernel) // 2
    padded = np.concatenate([np.full(radius, values[0]), values, np.full(radius, values[-1])])
    return np.convolve(padded, kernel, mode="valid")


def _derivative(values: CArray, h: float) -> CArray:
    """Central differences inside, one-sided at the ends (`np.gradient`, without its overhead)."""
    out = np.zeros_like(values)
    if len(values) < 2:
        return out
    out[1:-1] = (values[2:] - values[:-2]) / (2 * h)
    out[0], out[-1] = (values[1] - values[0]) / h, (values[-1] - values[-2]) / h
    return out


def _path(k: _Kinematics) -> dict[str, float]:
    y = k.g.imag
    return {
        "path_efficiency": min(k.distance / k.path, 1.0),
        "y_std_log": math.log1p(float(np.std(y))),
        "y_drift_log": math.log1p(abs(float(y[-1] - y[0]))),
    }


def _speed_profile(k: _Kinematics) -> dict[str, float]:
    idx = np.flatnonzero(k.moving)
    s, peak = k.speed[idx[0] : idx[-1] + 1], k.peak  # holds before and after left out
    mean = float(s.mean())
    if peak <= 0 or mean <= 0:
        return {"peak_time_frac": 0.0, "peak_mean_ratio": 1.0, "speed_skew": 0.0, "speed_cv": 0.0}
    tau = np.linspace(0.0, 1.0, len(s))
    w = s / s.sum()
    d = tau - float(w @ tau)
    var = float(w @ (d * d))
    skew = float(w @ (d * d * d)) / var**1.5 if var > 1e-12 else 0.0
    moving = s[s >= MOVING_FRACTION * peak]
    return {
        "peak_time_frac": _peak_time(s, peak) / max(len(s) - 1, 1),
        "peak_mean_ratio": peak / mean,
        "speed_skew": skew,
        "speed_cv": float(moving.std() / moving.mean()),
    }


def _peak_time(s: Array, peak: float) -> float:
    """The middle of the stretch around the top speed where speed stays within `PEAK_BAND` of
    it: near a rounded peak the argmax alone jumps with every sample's noise."""
    top = int(np.argmax(s))
    low = s < PEAK_BAND * peak
    before = np.flatnonzero(low[:top])
    after = np.flatnonzero(low[top:])
    first = int(before[-1]) + 1 if len(before) else 0
    last = top + int(after[0]) - 1 if len(after) else len(s) - 1
    return 0.5 * (first + last)


def _derivatives(k: _Kinematics) -> dict[str, float]:
    accel = math.sqrt(float(np.mean(np.abs(k.a) ** 2)))
    jerk = math.sqrt(float(np.mean(np.abs(k.j[k.inner]) ** 2)))
    v = k.v[k.moving]
    turn = np.abs(np.angle(v[1:] * np.conj(v[:-1])))
    curvature = turn / np.maximum(np.abs(v[1:]) * (k.h / 1000.0), 1e-9)
    c_mean = float(curvature.mean()) if len(curvature) else 0.0
    return {
        "accel_log": math.log1p(accel * k.seconds**2 / k.path),
        "jerk_log": math.log1p(jerk * k.seconds**3 / k.path),
        "turning_log": math.log1p(float(turn.sum())),
        "curvature_cv": float(curvature.std()) / c_mean if c_mean > 1e-12 else 0.0,
    }


def _run_lengths(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Lengths of the runs of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def _pauses(k: _Kinematics) -> dict[str, float]:
    idx = np.flatnonzero(k.moving)
    still = ~k.moving[idx[0] : idx[-1] + 1]
    lengths = _run_lengths(still) * k.h
    long = lengths[lengths >= PAUSE_MIN_MS]
    return {"pause_count": float(len(long)), "pause_frac": float(long.sum()) / (k.seconds * 1e3)}


def _holds(t: Array, x: Array, y: Array) -> dict[str, float]:
    left_start = np.flatnonzero(np.hypot(x - x[0], y - y[0]) >= MOVE_PX)
    away_end = np.flatnonzero(np.hypot(x - x[-1], y - y[-1]) >= MOVE_PX)
    start = float(t[left_start[0]] - t[0]) if len(left_start) else 0.0
    end = float(t[-1] - t[away_end[-1]]) if len(away_end) else 0.0
    return {"start_delay_log": math.log1p(start), "end_hold_log": math.log1p(end)}


def _zigzags(values: Array, threshold: float) -> int:
    """Direction changes of at least `threshold` (hysteresis, so rounding jitter never counts)."""
    count, direction = 0, 0
    low = high = float(values[0])
    for v in values.tolist():
        if direction == 0:
            low, high = min(low, v), max(high, v)
            if v - low >= threshold:
                direction, high = 1, v
            elif high - v >= threshold:
                direction, low = -1, v
        elif direction == 1:
            high = max(high, v)
            if high - v >= threshold:
                count, direction, low = count + 1, -1, v
        else:
            low = min(low, v)
            if v - low >= threshold:
                count, direction, high = count + 1, 1, v
    return count


def _corrections(k: _Kinematics) -> dict[str, float]:
    along = (k.g * k.unit.conjugate()).real
    final = float(along[-1])
    overshoot = max(float(along.max()) - final, 0.0) / max(k.distance, MOVE_PX)
    peak = k.peak
    return {
        "overshoot_rel": overshoot,
        "reversals": float(_zigzags(along, REVERSAL_PX)),
        "submovements": float(_peaks(k.speed, PEAK_PROMINENCE * peak)),
    }


def _peaks(values: Array, prominence: float) -> int:
    """Peaks that rise from the last valley and fall again by at least `prominence`."""
    count, rising = 0, True
    low = high = float(values[0])
    for v in values.tolist():
        if rising:
            high = max(high, v)
            if high - v >= prominence:
                count += int(high - low >= prominence)
                rising, low = False, v
        else:
            low = min(low, v)
            if v - low >= prominence:
                rising, high = True, v
    return count + int(rising and high - low >= prominence)


def _across(k: _Kinematics, v: CArray, residual: CArray) -> Array:
    """The component of `residual` across the direction of `v` (the overall one where slow)."""
    speed = np.abs(v)
    tangent = np.where(speed > MOVING_FRACTION * k.peak, v / np.maximum(speed, 1e-12), k.unit)
    across: Array = (residual * np.conj(tangent)).imag
    return across


def _raw_residual(k: _Kinematics, t: Array, x: Array, y: Array) -> dict[str, float]:
    """The raw points' distance across the smoothed path (size, lag-1 autocorrelation: per-point
    noise is white), and the movement time per bit of a typical target (Fitts' law)."""
    grid = np.minimum(t[0] + np.arange(len(k.s)) * k.h, t[-1])
    v = np.interp(t, grid, k.v.real) + 1j * np.interp(t, grid, k.v.imag)
    smooth = np.interp(t, grid, k.fine.real) + 1j * np.interp(t, grid, k.fine.imag)
    trim = int(len(t) * RESIDUAL_TRIM)
    r = _across(k, v, (x + 1j * y) - smooth)[trim : len(t) - trim]
    energy, lag = float(r @ r), max(1, round(RESIDUAL_LAG_MS / float(np.median(np.diff(t)))))
    lag1 = float(r[lag:] @ r[:-lag]) / energy if energy > 1e-9 and len(r) > lag + 2 else 0.0
    moving = np.flatnonzero(k.moving)
    t_move = max(float(moving[-1] - moving[0]) * k.h, k.h)
    bits = math.log2(2.0 + k.distance / FITTS_WIDTH_PX)
    return {
        "fitts_time_log": math.log(t_move / bits),
        "residual_log": math.log(TREMOR_FLOOR_PX + math.sqrt(energy / max(len(r), 1))),
        "residual_lag1": lag1,
    }


def _tremor(k: _Kinematics) -> dict[str, float]:
    residual = _across(k, k.v[k.inner], (k.g - k.fine)[k.inner])
    n = len(residual)
    # A Hann taper keeps the residual's large slow part from leaking into the band.
    window = np.hanning(n + 2)[1:-1]
    freq = np.abs(np.fft.fftfreq(n, k.h / 1000.0))
    # Complex input: bins +f and -f together hold both axes' power at f.
    power = np.abs(np.fft.fft(residual * window)) ** 2 / (n * float(window @ window))
    lo, hi = TREMOR_BAND_HZ
    band = float(power[(freq >= lo) & (freq <= hi)].sum())
    above = float(power[freq >= 2.0].sum())
    low, high = CENTROID_BAND_HZ
    wide = (freq >= low) & (freq <= high)
    wide_power = float(power[wide].sum())
    centroid = float(freq[wide] @ power[wide]) / wide_power if wide_power > 1e-12 else 0.0
    return {
        "tremor_log": math.log(TREMOR_FLOOR_PX + math.sqrt(band)),
        "tremor_frac": band / above if above > 1e-12 else 0.0,
        "tremor_centroid": centroid,
    }


def _structure(k: _Kinematics) -> dict[str, float]:
    """The speed profile's smoothness (spectral arc length, Balasubramanian et al. 2015: one
    bell is about -1.6, every further submovement or wobble lengthens the arc) and the share of
    the movement time spent on the last tenth of the distance (aimed movements slow down long
    before the target: the precision phase)."""
    idx = np.flatnonzero(k.moving)
    speed = k.speed[idx[0] : idx[-1] + 1]
    size = 1 << (max(len(speed), 2) * 4 - 1).bit_length()
    spectrum = np.abs(np.fft.rfft(speed, size))
    spectrum = spectrum / max(float(spectrum[0]), 1e-12)
    freq = np.fft.rfftfreq(size, k.h / 1000.0)
    inside = np.flatnonzero(freq <= SPARC_CUTOFF_HZ)
    loud = inside[spectrum[inside] >= SPARC_FLOOR]
    last = int(loud[-1]) + 1 if len(loud) else 2
    f, m = freq[:last] / SPARC_CUTOFF_HZ, spectrum[:last]
    sparc = -float(np.sqrt(np.diff(f) ** 2 + np.diff(m) ** 2).sum())
    along = (k.s[idx[0] : idx[-1] + 1] * k.unit.conjugate()).real
    reached = np.flatnonzero(along >= APPROACH_SHARE * max(k.distance, MOVE_PX))
    span = max(len(along) - 1, 1)
    approach = (span - int(reached[0])) / span if len(reached) else 0.0
    return {"speed_sparc": sparc, "approach_frac": approach}


def _clock_drift(dt: Array) -> float:
    """How far the event clock's period differs between the first, middle and last third of
    the events (log ratio of the largest to the smallest, less what jitter explains: timing
    noise must never read as a warped clock, or regular timing would gain). A device reports
    at a fixed rate, skipping reports when still, so its shortest intervals are the same all
    along; a recording whose time was warped, or a script that eases its sleeps, speeds its
    clock up and slows it down."""
    positive = dt[dt > EXACT_MS]
    if len(positive) < CLOCK_MIN_INTERVALS:
        return 0.0
    periods = []
    for part in np.array_split(positive, 3):
        rank = int(CLOCK_QUANTILE / 100.0 * (len(part) - 1))  # np.percentile is 30 us a call
        periods.append(max(float(np.partition(part, rank)[rank]), CLOCK_FLOOR_MS))
    return max(math.log(max(periods) / min(periods)) - CLOCK_SLACK, 0.0)


def _timing(dt: Array, dx: Array, dy: Array) -> dict[str, float]:
    positive = dt[dt > 0]
    cv = float(positive.std() / positive.mean()) if len(positive) >= 2 else 0.0
    pairs = np.abs(np.diff(positive))
    repeat = float((pairs <= EXACT_MS).mean()) if len(pairs) else 0.0
    moving = (dt > 0) & (np.hypot(dx, dy) >= MOVE_PX)  # 1 px steps of rounded input repeat
    sx, sy = dx[moving], dy[moving]
    same = (np.abs(np.diff(sx)) <= EXACT_PX) & (np.abs(np.diff(sy)) <= EXACT_PX)
    # A pointer that did not move fires no pointermove; a script that sends its points
    # regardless (CDP replays an unchanged position) does. The release is left out: pointer-up
    # lands where the last move did.
    stayed = (np.abs(dx[:-1]) <= EXACT_PX) & (np.abs(dy[:-1]) <= EXACT_PX)
    later = dt[:-1] > EXACT_MS
    return {
        "interval_cv": cv,
        "interval_repeat_frac": repeat,
        "step_repeat_frac": float(same.mean()) if len(same) else 0.0,
        "point_repeats_log": math.log1p(float((stayed & later).sum())),
    }
