"""Findings from the counts the server keeps: busy network, busy device, unit load, failures.

Each finding is graded: the weight is that of the highest threshold the count reaches, taken from
the weights file (`rate` section), so the weight never rises as a count rises. A network is the
/24 (IPv4) or /64 (IPv6) of the requester, since nothing counted keeps a full address.
"""

from __future__ import annotations

from humangate.risk._rules import Load, RuleBook, graded, load_rules
from humangate.risk.base import Finding, RateFacts


def unit_load(facts: RateFacts, load: Load) -> float | None:
    """How many times its usual rate the unit is seeing, or None when that cannot be judged.

    None when the unit has no history yet (baseline 0) or is too quiet for a ratio to mean
    anything; the usual rate is floored so that a unit used a few times a day does not read its
    first busy minute as an attack.
    """
    if facts.unit_baseline_per_minute <= 0 or facts.unit_per_minute < load.min_per_minute:
        return None
    return facts.unit_per_minute / max(facts.unit_baseline_per_minute, load.min_baseline)


def rate_findings(facts: RateFacts, *, rules: RuleBook | None = None) -> list[Finding]:
    """Graded findings from the server's sliding-window counts.

    Args:
        facts: the counts for this request; zero means unknown and never fires a rule.
        rules: the weights; the packaged default version when None.

    Returns:
        At most one finding per reason (busy-network, busy-device, unit-under-load,
        failure-streak), in that order.
    """
    book = rules or load_rules()
    load = unit_load(facts, book.load)
    measures = {
        "busy-network": float(facts.network_per_minute),
        "busy-device": float(facts.device_per_minute),
        "unit-under-load": load if load is not None else 0.0,
        "failure-streak": float(facts.failures),
    }
    findings = []
    for reason, value in measures.items():
        weight = graded(value, book.grades[reason])
        if weight is not None:
            findings.append(Finding(reason, weight))
    return findings
