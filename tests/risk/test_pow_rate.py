"""The proof of work's rate: a browser's widget passes, a native solver and a missing timing do
not."""

from __future__ import annotations

from humangate.risk._rules import load_rules
from humangate.risk.pow_rate import is_mobile, pow_rate_findings

DESKTOP = {"ua": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36"}
PHONE = {"ua": "Mozilla/5.0 (Linux; Android 10; K) Chrome/131.0.0.0 Mobile Safari/537.36"}


def reasons(hashes: int, elapsed_ms: float | None, env: dict[str, object] | None, **kw: float):
    findings = pow_rate_findings(hashes, elapsed_ms, is_mobile(env), **kw)
    return [finding.reason for finding in findings]


def test_browser_rates_pass() -> None:
    # 1.5 M hashes a second (the widget under V8 on a server core) and a slow phone.
    assert reasons(300_000, 200.0, DESKTOP) == []
    assert reasons(300_000, 1200.0, PHONE) == []
    # Too few hashes to judge a rate: a lucky early answer.
    assert reasons(50, 0.0, DESKTOP) == []


def test_a_native_solver_is_too_fast_for_the_claimed_device() -> None:
    # hashlib-in-C speed (~30 M/s) and a desktop speed claimed by a phone.
    assert reasons(300_000, 10.0, DESKTOP) == ["pow-too-fast"]
    assert reasons(300_000, 60.0, PHONE) == ["pow-too-fast"]
    assert reasons(300_000, 60.0, {**DESKTOP, "uam": True}) == ["pow-too-fast"]
    assert reasons(300_000, 60.0, DESKTOP) == []


def test_a_missing_or_impossible_timing_counts_against_never_for() -> None:
    assert reasons(300_000, None, DESKTOP) == ["pow-untimed"]
    assert reasons(10, None, None) == ["pow-untimed"]
    assert reasons(300_000, -1.0, DESKTOP) == ["pow-untimed"]
    # Claiming a longer search than the server saw pass since it issued the challenge.
    assert reasons(300_000, 5000.0, DESKTOP, server_ms=800.0) == ["pow-untimed"]
    assert reasons(300_000, 700.0, DESKTOP, server_ms=800.0) == []


def test_weights_and_limits_come_from_the_rules_file() -> None:
    book = load_rules()
    (finding,) = pow_rate_findings(300_000, 1.0, is_mobile(DESKTOP))
    assert finding.weight == book.weights["pow-too-fast"] < 0
    assert book.pow_rate.mobile_hashes_per_second < book.pow_rate.desktop_hashes_per_second
