"""Metering survives its faults: a node killed (SIGKILL) while it writes a usage batch, and a
Redis killed and restarted (AOF, fsync always) with usage not yet settled; after
reconciliation the ledger holds exactly the successful charges (see test_metering_nodes.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.billing._nodes import (
    DEADLINE,
    Cluster,
    issue,
    issue_many,
    row_locked,
    running_cluster,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def cluster(tmp_path: Path, fresh_postgres_url: str) -> Iterator[Cluster]:
    with running_cluster(tmp_path, fresh_postgres_url) as made:
        yield made


def test_a_node_killed_while_writing_a_batch_leaves_the_ledger_exact(cluster: Cluster) -> None:
    settings = {"billing_slice": "5000", "billing_settle_seconds": "0.2"}
    a, b = cluster.start("a", **settings), cluster.start("b", **settings)
    cluster.open_account(20_000)
    first = issue([a.url, b.url], cluster.sitekey, 400)
    assert first == {200: 400}
    cluster.wait_exact(400, 20_000)
    b.stop()  # so that the batch below can only be A's

    async def held_while_killed() -> Counter[int]:
        async with row_locked(cluster.database_url, cluster.owner):
            more = await issue_many([a.url], cluster.sitekey, 200)  # the allowance pays
            deadline = time.monotonic() + DEADLINE
            while not await asyncio.to_thread(cluster.pending_batches):
                assert time.monotonic() < deadline, "no batch was taken"
                await asyncio.sleep(0.05)
            # A took the usage into a batch and waits on the row to write it: kill it now.
            assert a.process is not None
            os.killpg(a.process.pid, signal.SIGKILL)
            a.process.wait()
            return more

    more = asyncio.run(held_while_killed())
    assert more == {200: 200}
    (orphan,) = cluster.pending_batches()
    b.start()  # B comes back, finds the orphan and settles it
    assert cluster.wait_exact(600, 20_000)[0] == 600
    assert orphan not in cluster.pending_batches()
    assert issue([b.url], cluster.sitekey, 10) == {200: 10}  # and goes on charging
    cluster.wait_exact(610, 20_000)


def test_a_redis_restart_with_usage_unsettled_leaves_the_ledger_exact(cluster: Cluster) -> None:
    settings = {"billing_slice": "5000", "billing_settle_seconds": "0.2"}
    a, b = cluster.start("a", **settings), cluster.start("b", **settings)
    cluster.open_account(20_000)
    assert issue([a.url, b.url], cluster.sitekey, 10) == {200: 10}  # a slice reserved
    cluster.wait_exact(10, 20_000)

    async def crash_with_usage_unsettled() -> Counter[int]:
        async with row_locked(cluster.database_url, cluster.owner):
            charged = await issue_many([a.url, b.url], cluster.sitekey, 300)
            await asyncio.sleep(0.5)  # batches taken, their writes waiting on the row
            cluster.redis.crash()
            cluster.redis.start()
            return charged

    charged = asyncio.run(crash_with_usage_unsettled())
    assert charged == {200: 300}
    cluster.wait_exact(310, 20_000)
    # The nodes reconnect: a few requests may meet a dead connection (503), none is lost.
    after = issue([a.url, b.url], cluster.sitekey, 100)
    assert set(after) <= {200, 503}, after
    cluster.wait_exact(310 + after[200], 20_000)
