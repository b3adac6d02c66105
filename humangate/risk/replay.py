"""Replay fingerprints: locality-sensitive hashes of a trace's normalised progress profile.

A recorded human trace, replayed, passes any per-trace classifier; what gives it away is that
it was seen before. The API keeps the fingerprints of recently accepted traces per unit and
flags a new trace sharing any fingerprint with one of them as "replayed-trace".

What is hashed is invariant to what a replayer cheaply changes. Progress is x travelled over
x's net travel (y when the drag is vertical), so rescaling to another distance or squashing y
changes nothing; the start and end positions are means over the first and last `END_SHARE` of
the time, which averages out per-point noise. Time is centred on the mean time of progress and
scaled by its spread (moments of time under d(progress), computed as integrals of progress over
time, so noise is averaged rather than differenced and holds change nothing), so a shifted
start or a uniform stretch changes nothing either. The vector read from that is progress at
`QUANTILES` (each the mean over its bin), the log of the time before and after the mean in
spreads (the holds and the ramps), and the log of the duration (the one coordinate a time
stretch moves).

The hashes are learned, by `python -m bench.risk.train`, into the "replay" section of
weights/behaviour-v1.json: a centre (typical person) and a projection onto the directions
along which people differ most relative to how much a replay's noise moves a trace (a
generalised eigenproblem of the two covariances, in units of that noise). Each of `hashes`
hashes quantises the projection with `width` on its own grid offset (evenly spread fractions
of `width`) and digests the buckets; a collision on any one hash is a match. Measured recall
and false-collision rates are in docs/risk-model.md ("Evaluation").
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from humangate.errors import ConfigError

QUANTILES = (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5)  # in spreads of time around the mean
END_SHARE = 0.2
MIN_DISTANCE_PX = 8.0  # below this the profile is all noise: no fingerprint
VECTOR_SIZE = len(QUANTILES) + 3
_BIN_SAMPLES = 8  # interpolated samples averaged per bin
_PERSON = b"humangate-replay"  # keeps these digests apart from any other blake2b use
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # offsets at multiples of it modulo 1 spread evenly

Vector = NDArray[np.float64]


def replay_vector(trace: Any) -> Vector | None:
    """The `VECTOR_SIZE` numbers fingerprints are made of, or None when unmeasurable."""
    try:
        arr = np.asarray(trace, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    if arr.ndim != 2 or arr.shape[1] != 3 or len(arr) < 3 or not np.isfinite(arr).all():
        return None
    if np.abs(arr).max() > 1e9:
        return None
    arr = arr[np.argsort(arr[:, 2], kind="stable")]
    t = arr[:, 2]
    duration = float(t[-1] - t[0])
    if duration <= 0:
        return None
    window = END_SHARE * duration
    first, last = t <= t[0] + window, t >= t[-1] - window
    travel = arr[last, :2].mean(axis=0) - arr[first, :2].mean(axis=0)
    axis = 0 if abs(travel[0]) >= abs(travel[1]) else 1
    if abs(travel[axis]) < MIN_DISTANCE_PX:
        return None
    start = float(arr[first, axis].mean())
    progress = (arr[:, axis] - start) / float(travel[axis])
    return _read_profile(t - t[0], progress)


def _read_profile(s: Vector, p: Vector) -> Vector | None:
    """Progress at `QUANTILES` of normalised time, then lead, tail and duration (logs).

    With p taken from 0 to 1, the mean time of dp is `total - integral(p dt)` and its second
    moment `total^2 - 2 integral(t p dt)` (integration by parts).
    """
    dt = np.diff(s)
    area = float(0.5 * (p[1:] + p[:-1]) @ dt)
    moment = float(0.5 * (s[1:] * p[1:] + s[:-1] * p[:-1]) @ dt)
    total = float(s[-1])
    mean = total - area
    variance = total * total - 2.0 * moment - mean * mean
    if not (variance > 0 and 0 < mean < total):
        return None
    spread = math.sqrt(variance)
    half = 0.5 * (QUANTILES[1] - QUANTILES[0])
    offsets = np.linspace(-half, half, _BIN_SAMPLES)
    grid = mean + spread * (np.array(QUANTILES)[:, None] + offsets[None, :])
    profile = np.interp(grid.ravel(), s, p).reshape(len(QUANTILES), _BIN_SAMPLES).mean(axis=1)
    shape = [math.log(mean / spread), math.log((total - mean) / spread), math.log(total)]
    vector = np.concatenate([profile, shape])
    return vector if np.isfinite(vector).all() else None  # absurd input can overflow


@dataclass(frozen=True, slots=True)
class ReplayHasher:
    """The learned part of the fingerprints: where to centre, what to project on, how coarse."""

    version: str
    centre: Vector
    projection: NDArray[np.float64]  # rows: directions, in units of replay noise
    width: float
    hashes: int

    def fingerprints(self, vector: Vector) -> tuple[str, ...]:
        z = self.projection @ (vector - self.centre) / self.width
        out = []
        for h in range(self.hashes):
            offsets = (np.arange(len(z)) * self.hashes + h) * _GOLDEN % 1.0
            buckets = np.floor(z + offsets).astype("<i8")  # one byte order everywhere
            digest = hashlib.blake2b(buckets.tobytes(), digest_size=8, person=_PERSON)
            out.append(f"{self.version}:{h}:{digest.hexdigest()}")
        return tuple(out)


def hasher_from_dict(data: Mapping[str, Any]) -> ReplayHasher:
    """Build a hasher from the weights file's "replay" object.

    Raises:
        ConfigError: a field is missing or malformed.
    """
    try:
        centre = np.asarray(data["centre"], dtype=np.float64)
        projection = np.asarray(data["projection"], dtype=np.float64)
        width, hashes, version = float(data["width"]), int(data["hashes"]), str(data["version"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"The replay weights are malformed: {exc!r}.") from exc
    ok = centre.shape == (VECTOR_SIZE,) and projection.ndim == 2
    ok = ok and projection.shape[1] == VECTOR_SIZE and width > 0 and hashes > 0
    if not ok or not (np.isfinite(centre).all() and np.isfinite(projection).all()):
        raise ConfigError("The replay weights do not fit the replay vector.")
    return ReplayHasher(version, centre, projection, width, hashes)


@lru_cache(maxsize=1)
def load_hasher() -> ReplayHasher:
    """The shipped hasher, from the "replay" section of weights/behaviour-v1.json."""
    text = (resources.files("humangate.risk") / "weights" / "behaviour-v1.json").read_text()
    return hasher_from_dict(json.loads(text)["replay"])


def trace_fingerprints(
    trace: Sequence[Sequence[float]] | Any, hasher: ReplayHasher | None = None
) -> tuple[str, ...]:
    """The fingerprints of a trace, or () when it has no measurable movement.

    Args:
        trace: a sequence of `(x, y, t)` points; anything else gives ().
        hasher: the learned hashes; the shipped ones by default.

    Returns:
        Strings `"<version>:<hash index>:<16 hex digits>"`; two traces match when they share
        any one.
    """
    vector = replay_vector(trace)
    if vector is None:
        return ()
    return (hasher or load_hasher()).fingerprints(vector)
