"""Which behaviour model a unit's thresholds were set against.

A score threshold means something only on the scale of the model that produced the scores: a
retrained model moves every score. Units record the fingerprint of the shipped weights when their
owner sets a threshold or feedback calibrates one, and a threshold from another model is ignored
(the new model's default applies) until it is set again.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

from humangate.risk.model import DEFAULT_WEIGHTS


@lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """A short digest of the shipped behaviour weights: it changes whenever they are retrained."""
    data = (resources.files("humangate.risk") / "weights" / DEFAULT_WEIGHTS).read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]
