"""One desktop canvas and WebGL hash from many networks of one unit at once adds friction (a
visual challenge in managed mode), never a refusal; phones and a unit's common class do not."""

from __future__ import annotations

from typing import Any

from humangate.loop import Signals, Verifier, Visitor
from humangate.risk.environment import declares_automation
from humangate.risk.integrity import DEVICE_CLASS_NETWORKS, DEVICE_CLASS_WINDOW
from tests.loop.test_loop import make_loop, unit
from tests.risk.test_environment import REAL

DESKTOP, DESKTOP_FACTS = REAL["chrome-windows"]
PHONE, PHONE_FACTS = REAL["safari-iphone"]


def visitor(network: int, user_agent: str, accept_language: str) -> Visitor:
    prefix = f"198.{network // 256}.{network % 256}"
    return Visitor(
        ip_prefix=f"{prefix}.0/24",
        hostname="example.org",
        ip=f"{prefix}.9",
        user_agent=user_agent,
        accept_language=accept_language,
    )


async def first_kind(loop: Verifier, network: int, env: dict[str, Any], facts: Any) -> str:
    """The kind a managed unit first asks of a visitor from `network` with `env`."""
    who = visitor(network, facts.user_agent, facts.accept_language)
    issued = await loop.issue(unit("managed"), who, signals=Signals(environment=env))
    state = await loop.peek(issued.id)
    assert state is not None
    reasons = {finding.reason for finding in state.risk.context}
    assert not declares_automation(reasons)
    return issued.kind if "shared-device-class" not in reasons else f"{issued.kind}+shared"


async def test_a_desktop_class_from_many_networks_is_asked_a_visual_challenge() -> None:
    loop, clock, _ = make_loop()
    kinds = [await first_kind(loop, n, DESKTOP, DESKTOP_FACTS) for n in range(14)]
    below = DEVICE_CLASS_NETWORKS - 1
    assert kinds[:below] == ["pow"] * below
    assert all(kind.endswith("+shared") and kind != "pow+shared" for kind in kinds[below:])
    # A network seen before is not counted again, and the window ends.
    assert (await first_kind(loop, 3, DESKTOP, DESKTOP_FACTS)).endswith("+shared")
    clock.now += DEVICE_CLASS_WINDOW + 1
    assert await first_kind(loop, 20, DESKTOP, DESKTOP_FACTS) == "pow"


async def test_phones_and_a_class_that_is_a_small_share_of_the_unit_are_not_counted() -> None:
    loop, _, _ = make_loop()
    for n in range(30):
        assert await first_kind(loop, n, PHONE, PHONE_FACTS) == "pow"
    # Forty desktop networks with classes of their own, then one class from a dozen more.
    for n in range(40):
        other = {**DESKTOP, "canvas": f"{n:016x}"}
        assert await first_kind(loop, 100 + n, other, DESKTOP_FACTS) == "pow"
    for n in range(DEVICE_CLASS_NETWORKS + 1):
        assert await first_kind(loop, 200 + n, DESKTOP, DESKTOP_FACTS) == "pow"
