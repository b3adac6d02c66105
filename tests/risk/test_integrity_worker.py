"""A worker that ran code in front of the widget's ("worker-tampered") is hidden automation."""

from __future__ import annotations

from humangate.risk import integrity as check

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def test_a_tampered_worker_is_hiding_automation_and_nothing_milder() -> None:
    env = {"ua": CHROME_UA, "patched": ["worker-tampered"]}
    assert check.hiding_automation(env, CHROME_UA)
    assert not check.other_patches(env)
    assert not check.worker_mismatch(env)
    assert not check.no_worker(env)


def test_a_missing_worker_is_never_read_as_a_tampered_one() -> None:
    env = {"ua": CHROME_UA, "patched": ["worker-none"]}
    assert check.no_worker(env)
    assert not check.hiding_automation(env, CHROME_UA)
