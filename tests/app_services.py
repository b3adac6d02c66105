"""The app's Services as a test reaches them: through the TestClient's app, typed."""

from __future__ import annotations

import dataclasses

from starlette.testclient import TestClient

from humangate.loop import ChallengeState
from humangate.services import Services, attach_services


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
