"""What every visual and audio kind promises, checked once for all of them through the registry."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from humangate.challenges import registry
from humangate.challenges.base import Challenge

KINDS = sorted(registry.KINDS)


def make(kind: str, seed: int, lang: str = "en") -> Challenge:
    return registry.generate(kind, random.Random(seed), level=2, lang=lang)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_identical_bytes(kind: str) -> None:
    a, b = make(kind, 7), make(kind, 7)
    assert a.kind == kind
    assert a.payload == b.payload
    assert a.answer == b.answer


@pytest.mark.parametrize("kind", KINDS)
def test_generation_uses_only_the_given_rng(kind: str) -> None:
    random.seed(123)
    np.random.seed(123)
    global_state, numpy_state = random.getstate(), np.random.get_state()
    make(kind, 5)
    assert random.getstate() == global_state
    assert all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
        for a, b in zip(np.random.get_state(), numpy_state, strict=True)
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lang", registry.LANGUAGES)
def test_payload_and_answer_are_plain_json(kind: str, lang: str) -> None:
    challenge = make(kind, 3, lang)
    assert json.loads(json.dumps(challenge.payload)) == challenge.payload
    assert json.loads(json.dumps(challenge.answer)) == challenge.answer
