"""Metering across two real `humangate serve` nodes sharing one PostgreSQL and one Redis:
thousands of concurrent charges, and a balance at zero.

Exact means: the ledger's usage is the successful charges times the price, not one more or less;
the balance is what was paid less that usage and never below the plan's credit; the money
reserved in the database is what the hot store holds after reconciliation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from humangate.challenges.pow import solve_pow
from tests.billing._nodes import (
    ORIGIN,
    Cluster,
    issue,
    running_cluster,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def cluster(tmp_path: Path, fresh_postgres_url: str) -> Iterator[Cluster]:
    with running_cluster(tmp_path, fresh_postgres_url) as made:
        yield made


def test_thousands_of_concurrent_charges_on_two_nodes_are_settled_exactly(
    cluster: Cluster,
) -> None:
    settings = {"billing_slice": "40", "billing_settle_seconds": "0.2"}
    a, b = cluster.start("a", **settings), cluster.start("b", **settings)
    cluster.open_account(2400)  # 1200 challenges at 2
    statuses = issue([a.url, b.url], cluster.sitekey, 1400)
    assert set(statuses) <= {200, 402}, statuses
    assert statuses[200] == 1200 and statuses[402] == 200, statuses
    assert cluster.wait_exact(statuses[200], 2400)[2] == 0


def _token(client: httpx.Client, sitekey: str) -> str:
    challenge = client.post("/api/v1/challenges", json={"sitekey": sitekey})
    assert challenge.status_code == 200, challenge.text
    number = solve_pow(challenge.json()["pow"])
    answered = client.post(
        f"/api/v1/challenges/{challenge.json()['id']}/answer", json={"pow": {"number": number}}
    )
    assert answered.json()["success"] is True, answered.text
    return str(answered.json()["token"])


def test_at_zero_challenges_get_402_and_a_token_minted_before_still_verifies(
    cluster: Cluster,
) -> None:
    settings = {"billing_slice": "4", "billing_settle_seconds": "0.2"}
    a, b = cluster.start("a", **settings), cluster.start("b", **settings)
    cluster.open_account(6)  # 3 challenges at 2; a verification costs 2 when it can be had
    with (
        httpx.Client(base_url=a.url, headers=ORIGIN) as on_a,
        httpx.Client(base_url=b.url, headers=ORIGIN) as on_b,
    ):
        token = _token(on_a, cluster.sitekey)
        assert issue([a.url, b.url], cluster.sitekey, 4) == {200: 2, 402: 2}
        for client in (on_a, on_b):
            refused = client.post("/api/v1/challenges", json={"sitekey": cluster.sitekey})
            assert refused.status_code == 402
            assert refused.json()["error"] == "insufficient-balance"
        verified = on_b.post("/siteverify", data={"secret": cluster.secret, "response": token})
        assert verified.json()["success"] is True, verified.text
    # Three challenges were charged; the verification found nothing left and was free.
    assert cluster.wait_exact(3, 6)[2] == 0
