"""Automation through the real widget in Debian's chromium: plain headless Playwright, launch
flags alone, the usual evasion init script and the stock `playwright-stealth` package each leave
an automation reason the server sees (siteverify's `score_reasons` of a score-mode unit), and a
managed unit mints them no token even for the right slide answer dragged like a person.

The levels are bench/automation.py's (which measures them at a larger n).
"""

from __future__ import annotations

import pytest

from bench.automation import managed_visit, open_level, score_visit
from humangate.risk.environment import AUTOMATION_REASONS
from tests.live import create_unit_cli

pytestmark = pytest.mark.browser

DOMAINS = ("--domain", "127.0.0.1", "--domain", "localhost")

# What each level leaves that declares automation (each alone refuses a token), as measured in
# Debian's chromium 156 with the widget of this commit.
EXPECTED = {
    "plain": {"automation-flag", "headless-browser", "devtools-protocol"},
    "flags": {"devtools-protocol"},
    "evasions": {"devtools-protocol", "hidden-automation", "gpu-mismatch"},
    "stealth": {
        "devtools-protocol",
        "hidden-automation",
        "platform-mismatch",
        "gpu-mismatch",
        "permission-mismatch",
    },
}


@pytest.fixture(scope="module")
def score_unit(hg_server) -> dict:
    return create_unit_cli(hg_server.env, *DOMAINS, "--mode", "score")


@pytest.fixture(scope="module")
def managed_sitekey(hg_server) -> str:
    return str(create_unit_cli(hg_server.env, *DOMAINS, "--mode", "managed")["sitekey"])


@pytest.fixture(params=sorted(EXPECTED))
def level(request, browser):
    automated, context = open_level(browser.browser_type, request.param)
    yield request.param, context
    automated.close()


def test_each_evasion_level_leaves_automation_reasons(level, host_site, hg_server, score_unit):
    name, context = level
    outcome = score_visit(context, host_site, hg_server.url, score_unit)
    reasons = set(outcome.reasons)
    assert EXPECTED[name] <= reasons, f"{name}: {sorted(reasons)}"
    assert EXPECTED[name] <= AUTOMATION_REASONS


def test_managed_mode_mints_no_token_for_declared_automation(
    level, host_site, hg_server, managed_sitekey, redis_db
):
    """Needs the loop's refusal of `declares_automation` reasons in managed and interactive mode
    (humangate/loop/answer.py); before it, a right slide answer dragged like a person passes."""
    name, context = level
    outcome = managed_visit(context, host_site, hg_server.url, managed_sitekey, redis_db)
    # The environment alone scores below the visual floor: no invisible gesture is offered.
    assert outcome.first == "slide", f"{name}: {outcome.first}"
    assert outcome.token is False, f"{name} got a token"
