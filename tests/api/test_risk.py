"""The risk engine through the API: managed gestures, score mode, access lists, lockout,
replay, feedback with calibration, and the visitor's privacy page."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bench.risk.families import FAMILIES
from bench.risk.task import DragTask
from humangate.app import create_app
from humangate.challenges.pow import solve_pow
from humangate.config import Settings
from humangate.db import units as unit_db
from humangate.db.models import RiskEvent
from humangate.risk.assess import default_threshold
from tests.api.helpers import create_unit, issue, siteverify
from tests.app_services import pass_trace_time, services_of, stored_state
from tests.conftest import ORIGIN
from tests.live import humangate_env, run_cli

CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CHROME_ENV: dict[str, Any] = {
    "wd": False,
    "ua": CHROME_UA,
    "lang": "en-US",
    "langs": 2,
    "tz": "Europe/Berlin",
    "tzo": -60,
    "scr": [1920, 1080],
    "avail": [1920, 1050],
    "dpr": 1,
    "touch": 0,
    "hc": 8,
    "mem": 8,
    "plugins": 5,
    "canvas": "1a2b3c4d",
    "webgl": "ANGLE (Intel, Mesa Intel(R) UHD Graphics 620, OpenGL 4.6)",
    "chrome": True,
    "perm": "default",
    "outer": [1920, 1050],
}
TASK = DragTask(distance=240.0, tolerance=6.0, handle_size=40.0, pointer="mouse")
VISITOR_IP = "198.51.100.23"


@pytest.fixture
def browser(settings: Settings) -> Iterator[TestClient]:
    """A client that looks like desktop Chrome from a routable address."""
    headers = {"Origin": ORIGIN, "User-Agent": CHROME_UA, "Accept-Language": "en-US,en;q=0.9"}
    app = create_app(settings)
    with TestClient(app, headers=headers, client=(VISITOR_IP, 50000)) as test_client:
        yield test_client


def trace(family: str, seed: int) -> list[list[float]]:
    return [list(point) for point in FAMILIES[family](random.Random(seed), TASK)]


def ask(client: TestClient, sitekey: str, env: dict[str, Any] | None = CHROME_ENV, **extra: Any):
    signals: dict[str, Any] = {"fp": "a1b2c3d4e5f6a1b2"}
    if env is not None:
        signals["env"] = env
    return issue(client, sitekey, signals=signals, **extra)


def gesture(client: TestClient, challenge: dict[str, Any], signals: dict[str, Any]) -> Any:
    number = solve_pow(challenge["pow"])
    pass_trace_time(client, signals.get("trace"))
    return client.post(
        f"/api/v1/challenges/{challenge['id']}/answer",
        json={"pow": {"number": number}, "signals": signals},
    )


def human_pass(client: TestClient, sitekey: str, seed: int = 1) -> str:
    """A human-like drag from a plausible Chrome passes managed mode invisibly."""
    for attempt in range(5):  # the model lets ~3% of human-like drags through to a challenge
        challenge = ask(client, sitekey)
        reply = gesture(
            client, challenge, {"pointer": "mouse", "trace": trace("human", seed + attempt)}
        ).json()
        if reply["success"]:
            return str(reply["token"])
    raise AssertionError("five human-like drags in a row were escalated")


def flush_events(client: TestClient) -> None:
    client.portal.call(services_of(client).events.flush)  # type: ignore[union-attr]


def last_event(client: TestClient) -> RiskEvent:
    """The newest risk event, as the owner's records keep it (the client is never told why)."""
    flush_events(client)

    async def read() -> RiskEvent:
        async with services_of(client).sessions() as session:
            event = await session.scalar(select(RiskEvent).order_by(RiskEvent.id.desc()))
        assert event is not None
        return event

    return client.portal.call(read)  # type: ignore[union-attr]


def test_managed_mode_asks_for_a_gesture_alongside_the_pow(browser: TestClient) -> None:
    sitekey, _ = create_unit(browser, mode="managed")
    challenge = ask(browser, sitekey)
    assert challenge["kind"] == "pow" and challenge["gesture"] is True


def test_human_like_drag_passes_and_siteverify_reports_the_score(browser: TestClient) -> None:
    sitekey, secret = create_unit(browser, mode="managed")
    token = human_pass(browser, sitekey)
    verdict = siteverify(browser, secret, token).json()
    assert verdict["success"] is True
    assert 0.0 <= verdict["score"] <= 1.0
    assert verdict["score"] >= default_threshold()
    assert isinstance(verdict["score_reasons"], list)


@pytest.mark.parametrize("family", ["straight-line", "constant-speed"])
def test_scripted_drag_is_escalated_to_a_visual_challenge(browser: TestClient, family: str) -> None:
    sitekey, _ = create_unit(browser, mode="managed", kinds=("slide", "rotate"))
    challenge = ask(browser, sitekey)
    reply = gesture(browser, challenge, {"pointer": "mouse", "trace": trace(family, 3)}).json()
    assert reply["success"] is False
    assert reply["error"] == "challenge-required"
    assert reply["next"]["kind"] in ("slide", "rotate")
    assert "score_reasons" not in reply, "the client is not told what to tune"
    event = last_event(browser)
    assert event.outcome == "escalated" and event.reasons, "the owner's record says why"


def test_keyboard_gesture_gets_a_visual_challenge(browser: TestClient) -> None:
    sitekey, _ = create_unit(browser, mode="managed")
    reply = gesture(browser, ask(browser, sitekey), {"pointer": "keyboard"}).json()
    assert reply["error"] == "challenge-required"
    assert reply["next"]["kind"] == "slide"
    assert "keyboard-answer" in last_event(browser).reasons


def test_replayed_trace_is_caught(browser: TestClient) -> None:
    sitekey, _ = create_unit(browser, mode="managed")
    recorded = trace("human", 11)
    gesture(browser, ask(browser, sitekey), {"pointer": "mouse", "trace": recorded})
    assert "replayed-trace" not in last_event(browser).reasons
    again = gesture(browser, ask(browser, sitekey), {"pointer": "mouse", "trace": recorded})
    assert again.json()["error"] == "challenge-required"
    assert "replayed-trace" in last_event(browser).reasons


def test_score_mode_always_passes_and_scores_the_environment(browser: TestClient) -> None:
    sitekey, secret = create_unit(browser, mode="score")
    scores = {}
    for name, env in (("clean", CHROME_ENV), ("automated", {**CHROME_ENV, "wd": True})):
        challenge = ask(browser, sitekey, env=env, action="login")
        assert challenge["kind"] == "pow" and "gesture" not in challenge
        reply = gesture(browser, challenge, {"pointer": "none"}).json()
        assert reply["success"] is True
        verdict = siteverify(browser, secret, reply["token"], expected_action="login").json()
        assert verdict["success"] is True and verdict["action"] == "login"
        scores[name] = verdict
    assert scores["automated"]["score"] < scores["clean"]["score"]
    assert "automation-flag" in scores["automated"]["score_reasons"]


def test_siteverify_refuses_an_unexpected_action(browser: TestClient) -> None:
    sitekey, secret = create_unit(browser, mode="score")
    token = gesture(browser, ask(browser, sitekey, action="login"), {}).json()["token"]
    verdict = siteverify(browser, secret, token, expected_action="checkout").json()
    assert verdict == {"success": False, "error-codes": ["action-mismatch"]}
    assert siteverify(browser, secret, token).json()["error-codes"] == ["timeout-or-duplicate"]


def _set(client: TestClient, sitekey: str, **changes: Any) -> None:
    async def work() -> None:
        async with services_of(client).sessions() as session:
            await unit_db.update_unit(session, sitekey, unit_db.UnitChanges(**changes))

    client.portal.call(work)  # type: ignore[union-attr]


def test_deny_list_refuses_and_allow_list_skips_scoring(browser: TestClient) -> None:
    sitekey, secret = create_unit(browser, mode="managed")
    _set(browser, sitekey, deny_networks=("198.51.100.0/24",))
    denied = browser.post("/api/v1/challenges", json={"sitekey": sitekey})
    assert denied.status_code == 403 and denied.json()["error"] == "access-denied"

    _set(browser, sitekey, deny_networks=(), allow_networks=("198.51.100.0/24",))
    challenge = ask(browser, sitekey, env={**CHROME_ENV, "wd": True})
    assert challenge["kind"] == "pow" and "gesture" not in challenge
    token = gesture(browser, challenge, {}).json()["token"]
    verdict = siteverify(browser, secret, token).json()
    assert verdict["score"] == 1.0 and verdict["score_reasons"] == ["allow-listed"]


def test_good_bot_is_let_through_only_when_dns_confirms_it(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    checked: list[tuple[str, str]] = []

    async def fake_dns(name: str, ip: str) -> bool:
        checked.append((name, ip))
        return ip == "66.249.66.1"

    monkeypatch.setattr("humangate.dnscheck.verify_crawler_dns", fake_dns)
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    for ip, trusted in (("66.249.66.1", True), ("203.0.113.9", False)):
        headers = {"Origin": ORIGIN, "User-Agent": googlebot}
        with TestClient(create_app(settings), headers=headers, client=(ip, 1)) as client:
            sitekey, _ = create_unit(client, mode="interactive")
            _set(client, sitekey, good_bots=("googlebot",))
            for _ in range(2):  # the second is answered from the day-long cache
                challenge = issue(client, sitekey)
                assert (challenge["kind"] == "pow") is trusted
            stored = repr(services_of(client).store._values)  # type: ignore[attr-defined]
            assert "crawler" in stored and ip not in stored  # keyed by an HMAC, not the address
    assert checked == [("googlebot", "66.249.66.1"), ("googlebot", "203.0.113.9")]


def test_repeated_failures_lock_the_network_out(make_settings: Any) -> None:
    with TestClient(
        create_app(make_settings(lockout_failures=3)), headers={"Origin": ORIGIN}
    ) as client:
        sitekey, _ = create_unit(client, mode="invisible")
        challenge = issue(client, sitekey)
        for _ in range(3):
            reply = client.post(
                f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": 10**9}}
            ).json()
            assert reply["success"] is False
            challenge = reply["next"] or {}
        assert challenge == {}, "no next challenge once the lockout is reached"
        locked = client.post("/api/v1/challenges", json={"sitekey": sitekey})
        assert locked.status_code == 429 and locked.json()["error"] == "locked-out"


@pytest.mark.parametrize(
    "signals",
    [
        {"pointer": "mouse", "trace": [[0, 0, 10], [1, 0, 5]]},
        {"pointer": "mouse", "trace": [[0, 0]]},
        {"pointer": "mouse", "trace": [[0, 0, 0]] * 601},
        {"pointer": "mouse", "trace": [[1e9, 0, 0]]},
        {"pointer": "robot"},
        {"pointer": "mouse", "trace": "0,0,0"},
        {"extra": 1},
    ],
)
def test_malformed_gestures_are_refused_and_leave_the_challenge(
    browser: TestClient, signals: dict[str, Any]
) -> None:
    sitekey, _ = create_unit(browser, mode="managed")
    challenge = ask(browser, sitekey)
    reply = gesture(browser, challenge, signals)
    assert reply.status_code == 400 and reply.json()["error"] == "bad-request"
    again = gesture(browser, challenge, {"pointer": "keyboard"})
    assert again.status_code == 200


@pytest.mark.parametrize(
    "env",
    [{"wd": "yes"}, {"scr": [1, 2, 3]}, {"canvas": "not-hex!"}, {"dpr": 1e6}, {"unknown": 1}],
)
def test_malformed_environment_is_refused(browser: TestClient, env: dict[str, Any]) -> None:
    sitekey, _ = create_unit(browser, mode="managed")
    reply = browser.post("/api/v1/challenges", json={"sitekey": sitekey, "signals": {"env": env}})
    assert reply.status_code == 400 and reply.json()["error"] == "bad-request"


def test_feedback_labels_a_token_and_reports_the_calibration(browser: TestClient) -> None:
    sitekey, secret = create_unit(browser, mode="managed")
    token = human_pass(browser, sitekey)
    flush_events(browser)
    reply = browser.post(
        "/api/v1/feedback", json={"secret": secret, "response": token, "label": "abusive"}
    )
    assert reply.status_code == 200, reply.text
    calibration = reply.json()["calibration"]
    assert calibration["abusive"] == 1 and calibration["legitimate"] == 0
    assert calibration["suggested_threshold"] is None  # far too few labels to move anything

    unknown = browser.post(
        "/api/v1/feedback", json={"secret": secret, "response": "x" * 48, "label": "abusive"}
    )
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown-token"
    wrong = browser.post(
        "/api/v1/feedback", json={"secret": "hgs_nope", "response": token, "label": "abusive"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "invalid-input-secret"
    bad = browser.post(
        "/api/v1/feedback", json={"secret": secret, "response": token, "label": "spam"}
    )
    assert bad.status_code == 400
    again = browser.post("/api/v1/calibration", json={"secret": secret}).json()
    assert again["abusive"] == 1, "the refused label changed nothing"


def test_visitor_sees_and_erases_what_is_kept_about_their_device(browser: TestClient) -> None:
    sitekey, _ = create_unit(browser, mode="managed")
    human_pass(browser, sitekey)
    flush_events(browser)
    mine = {"env": CHROME_ENV, "fp": "a1b2c3d4e5f6a1b2", "sitekey": sitekey}
    other = {**mine, "env": {**CHROME_ENV, "canvas": "ffffffff"}}

    held = browser.post("/privacy/device", json=mine).json()["events"]
    assert held and held[0]["outcome"] == "passed"
    assert held[0]["network"] == "198.51.100.0/24"
    # No trace, and nothing a program could tune against: no score, reasons or measurements.
    assert set(held[0]) == {"at", "kind", "outcome", "network", "labelled"}
    assert browser.post("/privacy/device", json=other).json()["events"] == []

    assert browser.post("/privacy/device/erase", json=other).json() == {"erased": 0}
    assert browser.post("/privacy/device/erase", json=mine).json()["erased"] == len(held)
    assert browser.post("/privacy/device", json=mine).json()["events"] == []
    page = browser.get("/privacy/device")
    assert page.status_code == 200 and "What HumanGate keeps" in page.text


def test_a_visitor_can_opt_their_device_out_of_records(browser: TestClient) -> None:
    sitekey, _ = create_unit(browser, mode="managed")
    other_site, _ = create_unit(browser, mode="managed")
    human_pass(browser, sitekey)
    flush_events(browser)
    mine = {"env": CHROME_ENV, "fp": "a1b2c3d4e5f6a1b2", "sitekey": sitekey}
    held = browser.post("/privacy/device", json=mine).json()
    assert held["opted_out"] is False and held["events"]

    gone = browser.post("/privacy/device/opt-out", json=mine).json()
    assert gone == {"opted_out": True, "erased": len(held["events"])}
    assert browser.post("/privacy/device/opt-out", json=mine).json()["erased"] == 0  # idempotent
    token = human_pass(browser, sitekey)  # verification works as before …
    assert token
    human_pass(browser, other_site)
    flush_events(browser)
    after = browser.post("/privacy/device", json=mine).json()
    assert after == {"opted_out": True, "events": []}  # … and leaves no record on this site
    elsewhere = browser.post("/privacy/device", json={**mine, "sitekey": other_site}).json()
    assert elsewhere["opted_out"] is False and elsewhere["events"]  # only this site

    assert browser.post("/privacy/device/opt-in", json=mine).json() == {"opted_out": False}
    human_pass(browser, sitekey)
    flush_events(browser)
    assert browser.post("/privacy/device", json=mine).json()["events"]


def test_opting_out_needs_a_site(browser: TestClient) -> None:
    body = {"env": CHROME_ENV, "fp": "a1b2c3d4e5f6a1b2"}
    for path in ("/privacy/device/opt-out", "/privacy/device/opt-in"):
        reply = browser.post(path, json=body)
        assert reply.status_code == 400 and reply.json()["error"] == "sitekey-required"
    unknown = browser.post("/privacy/device/opt-out", json={**body, "sitekey": "hg-unknown"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid-sitekey"


def test_device_ids_do_not_link_across_units(browser: TestClient) -> None:
    first, _ = create_unit(browser, mode="managed")
    second, _ = create_unit(browser, mode="managed")
    ids = {}
    for sitekey in (first, second):
        challenge = ask(browser, sitekey)
        state = stored_state(browser, challenge["id"])
        assert state is not None
        ids[sitekey] = state.risk.device
    assert ids[first] != ids[second]
    again = ask(browser, first)
    state = stored_state(browser, again["id"])
    assert state is not None
    assert state.risk.device == ids[first], "the same browser is recognised on the same site"


def test_statistics_count_the_loop_and_survive_a_restart(settings: Settings) -> None:
    headers = {"Origin": ORIGIN, "User-Agent": CHROME_UA}
    with TestClient(create_app(settings), headers=headers, client=(VISITOR_IP, 1)) as client:
        sitekey, secret = create_unit(client, mode="managed")
        token = human_pass(client, sitekey)
        assert siteverify(client, secret, token).json()["success"] is True
        assert siteverify(client, secret, token).json()["success"] is False
        bad = ask(client, sitekey)
        client.post(f"/api/v1/challenges/{bad['id']}/answer", json={"pow": {"number": 10**9}})
        # Leaving the client shuts the app down, which writes the last batch.
    env = humangate_env(settings.data_dir)
    shown = run_cli(env, "unit", "stats", sitekey, "--json", "--by", "hour")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    totals = report["breakdown"]
    assert totals["passed"] == {"pow": 1}
    assert totals["verified"] == {"": 1}
    assert totals["verify-failed"] == {"timeout-or-duplicate": 1}
    assert totals["failed"] == {"invalid-solution": 1}
    assert sum(totals["issued"].values()) == report["periods"][-1]["issued"] >= 3
    csv_lines = run_cli(env, "unit", "stats", sitekey, "--csv").stdout.splitlines()
    assert csv_lines[0] == "hour_utc,metric,key,count" and len(csv_lines) >= 5
