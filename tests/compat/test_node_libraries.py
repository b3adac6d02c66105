"""Published npm server libraries of reCAPTCHA and Turnstile against a live HumanGate, each
changed only by its URL setting (docs/api.md, "Compat matrix"); tests/compat/node/verify.js
runs one verification per call, in node, with the library as installed by the test command.

No npm hCaptcha server library lets its URL be set (each has the host written in), so hCaptcha
is covered by the Python libraries.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from humangate.api.siteverify import TEST_ACTION
from humangate.testkeys import LOW_SCORE_SECRET, SCORE_SECRET, SCORE_SITEKEY
from tests.compat.matrix import ACTION, WRONG_SECRET, Keys, Outcome, fresh_token, make_unit
from tests.live import LiveServer, humangate_env, running_server

NODE_DIR = Path(__file__).parent / "node"

# library: (unit mode, whether it exposes the service's error codes, whether it reads the score)
LIBRARIES = {
    "recaptcha-node-v2": ("invisible", True, False),
    "recaptcha-node-v3": ("score", True, True),
    "cf-turnstile": ("invisible", True, False),
    "google-recaptcha": ("invisible", True, False),
    "nestlab-google-recaptcha": ("score", True, True),
}
NAMES = sorted(LIBRARIES)


def verify(library: str, server: LiveServer, secret: str, token: str, action: str = "") -> Outcome:
    done = subprocess.run(
        ["node", "verify.js", library, server.url, secret, token, *([action] if action else [])],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    return Outcome(
        parsed["passed"],
        codes=parsed["codes"],
        score=parsed["score"],
        action=parsed["action"],
        threw=parsed["threw"],
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = humangate_env(tmp_path_factory.mktemp("compat-node"), demo="false")
    with running_server(env) as live:
        yield live


@pytest.fixture(scope="module")
def units(server: LiveServer) -> dict[str, Keys]:
    return {"invisible": make_unit(server, "invisible"), "score": make_unit(server, "score")}


@pytest.mark.parametrize("library", NAMES)
def test_fresh_token_passes_and_its_replay_is_refused(
    server: LiveServer, units: dict[str, Keys], library: str
) -> None:
    mode = LIBRARIES[library][0]
    keys = units[mode]
    token = fresh_token(server, keys.sitekey)
    # The v3 libraries are given the action the token was minted for and its score floor
    # (nestlab's 0.5 is met by the score test secret below; a client with no browser scores
    # lower, so it is checked with recaptcha-node, which leaves the threshold to its caller).
    if library == "nestlab-google-recaptcha":
        test_token = fresh_token(server, SCORE_SITEKEY)
        first = verify(library, server, SCORE_SECRET, test_token, TEST_ACTION)
    else:
        first = verify(library, server, keys.secret, token, ACTION)
    assert first.passed is True and first.threw is None, first
    if library == "nestlab-google-recaptcha":
        return  # a test secret has no single use
    replay = verify(library, server, keys.secret, token, ACTION)
    assert replay.passed is False and replay.threw is None, replay
    assert replay.codes == ["timeout-or-duplicate"]


@pytest.mark.parametrize("library", NAMES)
def test_wrong_secret_is_refused_with_its_code(
    server: LiveServer, units: dict[str, Keys], library: str
) -> None:
    token = fresh_token(server, units[LIBRARIES[library][0]].sitekey)
    refused = verify(library, server, WRONG_SECRET, token, ACTION)
    assert refused.passed is False and refused.threw is None, refused
    assert refused.codes == ["invalid-input-secret"]


@pytest.mark.parametrize("library", [name for name in NAMES if LIBRARIES[name][2]])
def test_v3_library_reads_score_and_action(
    server: LiveServer, units: dict[str, Keys], library: str
) -> None:
    # The score test secrets answer their score and the fixed action "test".
    test_token = fresh_token(server, SCORE_SITEKEY)
    high = verify(library, server, SCORE_SECRET, test_token, TEST_ACTION)
    assert (high.passed, high.score, high.action) == (True, 0.9, TEST_ACTION), high
    low = verify(library, server, LOW_SCORE_SECRET, test_token, TEST_ACTION)
    assert low.score == 0.1, low
    if library == "nestlab-google-recaptcha":  # it holds scores to its 0.5 floor itself
        assert low.passed is False and "low-score" in (low.codes or [])
    token = fresh_token(server, units["score"].sitekey)
    real = verify(library, server, units["score"].secret, token, ACTION)
    assert real.action == ACTION and real.score is not None and 0.0 <= real.score <= 1.0, real
