"""How fast the proof of work was solved, against what the widget can do in the claimed browser.

The widget's solver is pure JavaScript on the page's main thread (widget/src/pow.js); it reports
how long its search took and how many hashes it computed. A native or GPU solver is tens to
thousands of times faster, so a rate above the fastest browser of the claimed device class means
the work was not done by the widget. A missing timing counts against the visitor, never for.
The limits live in `weights/rules-v1.json` ("pow_rate").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from humangate.risk._rules import RuleBook, load_rules
from humangate.risk.base import Finding
from humangate.risk.integrity import number, text

TOO_FAST, UNTIMED = "pow-too-fast", "pow-untimed"
_MOBILE = re.compile(r"Mobile|Android|iPhone|iPad|iPod")


def is_mobile(env: Mapping[str, object] | None) -> bool:
    """Whether the browser says it is a phone or tablet (its UA, client hints or touch)."""
    env = env or {}
    touch = number(env, "touch")
    return bool(
        _MOBILE.search(text(env, "ua") or "") or env.get("uam") is True or (touch and touch > 0)
    )


def pow_rate_findings(
    hashes: int,
    elapsed_ms: float | None,
    mobile: bool,
    *,
    server_ms: float | None = None,
    rules: RuleBook | None = None,
) -> list[Finding]:
    """Findings on the proof of work's speed.

    Args:
        hashes: hashes the search computed; for the widget's search from 0, the answer's
            `number` + 1 (the server knows it, so a client cannot understate it).
        elapsed_ms: the widget's own timing of its search (`PowSolution.elapsed_ms`); None
            when the answer carried none.
        mobile: whether the browser said at issue that it is a phone or tablet (`is_mobile`);
            the device class picks the limit.
        server_ms: the time the server saw pass from issuing the challenge to its answer; a
            claimed timing longer than that is no timing.
        rules: the weights and limits; the packaged default version when None.

    Returns:
        "pow-untimed" when the timing is missing or impossible, "pow-too-fast" when the rate
        beats every browser of the claimed class; else nothing.
    """
    book = rules or load_rules()
    limits = book.pow_rate
    if elapsed_ms is None or elapsed_ms < 0:
        return [book.finding(UNTIMED)]
    if server_ms is not None and elapsed_ms > server_ms + 1000:
        return [book.finding(UNTIMED)]
    if hashes < limits.min_hashes:
        return []
    fastest = limits.mobile_hashes_per_second if mobile else limits.desktop_hashes_per_second
    if hashes > fastest * max(elapsed_ms, 0.0) / 1000:
        return [book.finding(TOO_FAST)]
    return []
