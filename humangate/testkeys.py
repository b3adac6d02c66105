"""Published test keys, usable with no set-up (the same values as Cloudflare Turnstile's, and
a score-mode pair that answers as a reCAPTCHA v3 key does).

Site keys work on any host name; secrets answer without looking at the token's contents. The
secrets of TEST_SECRETS answer as a v2 key (no score on the reCAPTCHA path); those of
SCORE_TEST_SECRETS as a v3 key: success with their score and the `expected_action` asked for.
"""

from __future__ import annotations

from humangate.units import UnitView

PASS_SITEKEY = "1x00000000000000000000AA"
FAIL_SITEKEY = "2x00000000000000000000AB"
INTERACTIVE_SITEKEY = "3x00000000000000000000FF"
SCORE_SITEKEY = "4x00000000000000000000AA"

PASS_SECRET = "1x0000000000000000000000000000000AA"
FAIL_SECRET = "2x0000000000000000000000000000000AA"
SPENT_SECRET = "3x0000000000000000000000000000000AA"
SCORE_SECRET = "4x0000000000000000000000000000000AA"
LOW_SCORE_SECRET = "5x0000000000000000000000000000000AA"

TEST_UNITS: dict[str, UnitView] = {
    PASS_SITEKEY: UnitView(
        -1, PASS_SITEKEY, "Test: always passes", (), "invisible", 1, any_origin=True
    ),
    FAIL_SITEKEY: UnitView(
        -2, FAIL_SITEKEY, "Test: always fails", (), "invisible", 1, any_origin=True
    ),
    INTERACTIVE_SITEKEY: UnitView(
        -3, INTERACTIVE_SITEKEY, "Test: interactive", (), "interactive", 1, any_origin=True
    ),
    SCORE_SITEKEY: UnitView(-4, SCORE_SITEKEY, "Test: score", (), "score", 1, any_origin=True),
}
TEST_SECRETS: dict[str, list[str]] = {
    PASS_SECRET: [],
    FAIL_SECRET: ["invalid-input-response"],
    SPENT_SECRET: ["timeout-or-duplicate"],
}
SCORE_TEST_SECRETS: dict[str, float] = {SCORE_SECRET: 0.9, LOW_SCORE_SECRET: 0.1}


def is_test_unit(unit: UnitView) -> bool:
    return unit.id < 0
