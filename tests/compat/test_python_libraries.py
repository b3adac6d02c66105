"""Published Python server libraries of reCAPTCHA, hCaptcha and Turnstile against a live HumanGate,
each changed only by its verify-URL setting (docs/api.md, "Compat matrix").

Each library is checked for: a fresh token passes; its replay is refused; a wrong secret is
refused as a verdict (the library neither throws nor reports a network error, and shows the
error code when it exposes codes at all); and, for a v3-style library, the score is read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_captcha2.GoogleCaptcha.captcha3 import FlaskCaptcha3
from flask_hcaptcha import hCaptcha
from flask_turnstile import Turnstile
from flask_wtf import FlaskForm
from flask_wtf.recaptcha import RecaptchaField

from humangate.testkeys import LOW_SCORE_SECRET, SCORE_SECRET, SCORE_SITEKEY
from tests.compat.matrix import WRONG_SECRET, Keys, Outcome, fresh_token, make_unit
from tests.live import LiveServer, humangate_env, running_server

REPO = Path(__file__).resolve().parents[2]
RECAPTCHA = "/recaptcha/api/siteverify"
HCAPTCHA = "/siteverify"
TURNSTILE = "/turnstile/v0/siteverify"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = humangate_env(tmp_path_factory.mktemp("compat-py"), demo="false")
    with running_server(env) as live:
        yield live


@pytest.fixture(scope="module")
def units(server: LiveServer) -> dict[str, Keys]:
    return {"invisible": make_unit(server, "invisible"), "score": make_unit(server, "score")}


def flask_wtf_recaptcha(url: str, secret: str, token: str) -> Outcome:
    site = Flask("owner-site")
    site.config.update(
        SECRET_KEY="s",
        WTF_CSRF_ENABLED=False,
        RECAPTCHA_PUBLIC_KEY="unused",
        RECAPTCHA_PRIVATE_KEY=secret,
        RECAPTCHA_VERIFY_SERVER=url + RECAPTCHA,
    )

    class SignupForm(FlaskForm):
        recaptcha = RecaptchaField()

    with site.test_request_context(method="POST", data={"g-recaptcha-response": token}):
        form = SignupForm()
        passed = form.validate()
        return Outcome(passed, codes=list(form.errors.get("recaptcha", [])))


def flask_hcaptcha(url: str, secret: str, token: str) -> Outcome:
    hcaptcha = hCaptcha(site_key="unused", secret_key=secret)
    hcaptcha.VERIFY_URL = url + HCAPTCHA
    return Outcome(bool(hcaptcha.verify(response=token, remote_ip="127.0.0.1")))


def flask_turnstile(url: str, secret: str, token: str) -> Outcome:
    site = Flask("owner-site")
    site.config.update(TURNSTILE_SITE_KEY="unused", TURNSTILE_SECRET_KEY=secret)
    turnstile = Turnstile(app=site)
    turnstile.VERIFY_URL = url + TURNSTILE
    with site.test_request_context(method="POST", data={"cf-turnstile-response": token}):
        passed = turnstile.verify()
    # get_response() asks again: the token is spent by then, but a wrong secret still shows.
    with site.test_request_context(method="POST", data={"cf-turnstile-response": token}):
        raw: dict[str, Any] = turnstile.get_response()
    return Outcome(bool(passed), codes=list(raw.get("error-codes", [])))


def flask_captcha2_v3(url: str, secret: str, token: str) -> Outcome:
    site = Flask("owner-site")
    captcha = FlaskCaptcha3(
        CAPTCHA_PUBLIC_KEY="unused",
        CAPTCHA_PRIVATE_KEY=secret,
        CAPTCHA_ENABLED=True,
        CAPTCHA_SCORE=0.5,
        CAPTCHA_LOG=False,
    )
    captcha.GOOGLE_VERIFY_URL = url + RECAPTCHA
    with site.test_request_context(method="POST", data={"g-recaptcha-response": token}):
        return Outcome(bool(captcha.is_verify()))


def django_field(library: str, path: str) -> Callable[[str, str, str], Outcome]:
    def verify(url: str, secret: str, token: str) -> Outcome:
        done = subprocess.run(
            [sys.executable, "-m", "tests.compat.django_forms", library, url + path, secret, token],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        parsed = json.loads(done.stdout)
        return Outcome(parsed["passed"], codes=parsed["codes"])

    return verify


# library: (verify, unit mode, whether it exposes the service's error code, reads the score)
LIBRARIES: dict[str, tuple[Callable[[str, str, str], Outcome], str, bool, bool]] = {
    "flask-wtf-recaptcha-v2": (flask_wtf_recaptcha, "invisible", True, False),
    "flask-hcaptcha": (flask_hcaptcha, "invisible", False, False),
    "flask-turnstile": (flask_turnstile, "invisible", True, False),
    "flask-captcha2-v3": (flask_captcha2_v3, "score", False, True),
    "django-hcaptcha": (django_field("django-hcaptcha", HCAPTCHA), "invisible", False, False),
    "django-turnstile": (django_field("django-turnstile", TURNSTILE), "invisible", False, False),
}
# How each library shows a wrong secret when it shows one: flask-wtf's own message for the
# code, flask-turnstile the raw answer; the Django fields a verdict code, not a network one.
WRONG_SECRET_SHOWN = {
    "flask-wtf-recaptcha-v2": ["The secret parameter is invalid or malformed."],
    "flask-turnstile": ["invalid-input-secret"],
    "django-hcaptcha": ["invalid_hcaptcha"],
    "django-turnstile": ["invalid_turnstile"],
}
NAMES = sorted(LIBRARIES)
# flask-captcha2 holds every score to at least 0.5 (its CAPTCHA_SCORE cannot go lower): a token
# from a client with no browser evidence scores under that, so its fresh token is refused for
# its score (below), and the score test secrets show it reads the score.
FLOOR_ONLY = {"flask-captcha2-v3"}


@pytest.mark.parametrize("library", [name for name in NAMES if name not in FLOOR_ONLY])
def test_fresh_token_passes_and_its_replay_is_refused(
    server: LiveServer, units: dict[str, Keys], library: str
) -> None:
    verify, mode, _, _ = LIBRARIES[library]
    keys = units[mode]
    token = fresh_token(server, keys.sitekey)
    first = verify(server.url, keys.secret, token)
    assert first.passed is True, first
    replay = verify(server.url, keys.secret, token)
    assert replay.passed is False, replay


@pytest.mark.parametrize("library", NAMES)
def test_wrong_secret_is_refused_as_a_verdict(
    server: LiveServer, units: dict[str, Keys], library: str
) -> None:
    verify, mode, _, _ = LIBRARIES[library]
    token = fresh_token(server, units[mode].sitekey)
    refused = verify(server.url, WRONG_SECRET, token)
    assert refused.passed is False
    if library in WRONG_SECRET_SHOWN:
        assert refused.codes == WRONG_SECRET_SHOWN[library]
    if library not in FLOOR_ONLY:  # the refused request did not spend the token
        assert verify(server.url, units[mode].secret, token).passed is True


@pytest.mark.parametrize("library", [name for name in NAMES if LIBRARIES[name][3]])
def test_v3_library_reads_the_score_and_refuses_a_low_one(
    server: LiveServer, units: dict[str, Keys], library: str
) -> None:
    verify, _, _, _ = LIBRARIES[library]
    token = fresh_token(server, SCORE_SITEKEY)
    # The published score test secrets: 0.9 passes the library's 0.5, 0.1 does not.
    assert verify(server.url, SCORE_SECRET, token).passed is True
    assert verify(server.url, LOW_SCORE_SECRET, token).passed is False


@pytest.mark.parametrize("library", sorted(FLOOR_ONLY))
def test_v3_library_refuses_a_token_without_browser_evidence_under_its_floor(
    server: LiveServer, units: dict[str, Keys], library: str
) -> None:
    verify, _, _, _ = LIBRARIES[library]
    token = fresh_token(server, units["score"].sitekey)
    assert verify(server.url, units["score"].secret, token).passed is False
