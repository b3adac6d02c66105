"""Hand-made traces with known properties, for the behaviour tests."""

from __future__ import annotations

import numpy as np

Points = list[tuple[float, float, float]]


def minimum_jerk(tau: np.ndarray) -> np.ndarray:
    """Progress 0 to 1 of a minimum-jerk reach at normalised times `tau`."""
    tau = np.clip(tau, 0.0, 1.0)
    return 10 * tau**3 - 15 * tau**4 + 6 * tau**5


def times(duration: float, hz: float, *, jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    """Sample times 0..duration ms at `hz`, optionally jittered by up to +-`jitter` ms."""
    t = np.arange(0.0, duration + 1e-9, 1000.0 / hz)
    if t[-1] < duration:
        t = np.append(t, duration)
    if jitter:
        noise = np.random.default_rng(seed).uniform(-jitter, jitter, len(t))
        noise[0] = noise[-1] = 0.0
        t = np.sort(np.clip(t + noise, 0.0, duration))
    return t


def reach(
    *,
    distance: float = 220.0,
    duration: float = 900.0,
    hz: float = 120.0,
    shown: float = 800.0,
    drift: float = 0.0,
    tremor: float = 0.0,
    tremor_hz: float = 10.0,
    overshoot: float = 0.0,
    second: float = 0.0,
    jitter: float = 0.0,
    rounding: float = 0.0,
    seed: int = 0,
) -> Points:
    """A person-like drag: a minimum-jerk reach (an optional `overshoot` in px, taken back by a
    second reach in the last 35 % of the time; or a `second` corrective submovement in px), a
    linear y `drift`, a sinusoidal `tremor` of `tremor` px, timestamps jittered, coordinates
    rounded to multiples of `rounding`."""
    t = times(duration, hz, jitter=jitter, seed=seed)
    tau = t / duration
    if overshoot or second:
        first_end, split = distance + overshoot - second, 0.65
        x = first_end * minimum_jerk(tau / split) + (distance - first_end) * minimum_jerk(
            (tau - split) / (1 - split)
        )
    else:
        x = distance * minimum_jerk(tau)
    y = drift * tau
    if tremor:
        phase = 2 * np.pi * tremor_hz * t / 1000.0
        x = x + tremor * np.sin(phase)
        y = y + tremor * np.sin(phase + 1.3)
    if rounding:
        x, y = np.round(x / rounding) * rounding, np.round(y / rounding) * rounding
    return [(float(a), float(b), float(c + shown)) for a, b, c in zip(x, y, t, strict=True)]


def line(
    *, distance: float = 220.0, duration: float = 900.0, hz: float = 60.0, shown: float = 800.0
) -> Points:
    """A script's drag: a straight line at constant speed, perfectly regular events."""
    t = times(duration, hz)
    x = distance * t / duration
    return [(float(a), 0.0, float(c + shown)) for a, c in zip(x, t, strict=True)]
