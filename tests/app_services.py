"""The app's Services as a test reaches them: through the TestClient's app, typed."""

from __future__ import annotations

import dataclasses
import time

from starlette.testclient import TestClient

from humangate.api.deps import attach_services
from humangate.loop import ChallengeState
from humangate.services import Services


def services_of(client: TestClient) -> Services:
    services = client.app.state.services  # type: ignore[attr-defined]
    assert isinstance(services, Services)
    return services


def stored_state(client: TestClient, challenge_id: str) -> ChallengeState | None:
    """The private state of a challenge, read from the store (never over HTTP)."""
    return client.portal.call(services_of(client).verifier.peek, challenge_id)  # type: ignore[union-attr]


def replace_services(client: TestClient, **changes: object) -> Services:
    """Swap some of the running app's services (a faster password hasher, say); returns them."""
    services = dataclasses.replace(services_of(client), **changes)  # type: ignore[arg-type]
    attach_services(client.app, services)  # type: ignore[arg-type]
    return services


class ShiftedClock:
    """The wall clock moved on by `offset` seconds: lets a test's traces, which claim the time
    a person took, be answered when that time has passed for the loop, without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def pass_time(client: TestClient, seconds: float) -> None:
    """Move the running app's loop clock `seconds` on."""
    verifier = services_of(client).verifier
    clock = verifier.context.clock
    if not isinstance(clock, ShiftedClock):
        clock = ShiftedClock()
        verifier.context = dataclasses.replace(verifier.context, clock=clock)
    clock.offset += seconds


def pass_trace_time(client: TestClient, trace: object) -> None:
    """Let as much time pass as `trace` (points [x, y, ms since shown]) claims, and a little."""
    if isinstance(trace, list) and trace and isinstance(trace[-1], list | tuple):
        last = trace[-1]
        if len(last) == 3 and isinstance(last[2], int | float):
            pass_time(client, float(last[2]) / 1000.0 + 0.05)
