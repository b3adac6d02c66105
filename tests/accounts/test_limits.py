"""Resend throttling and login lockout on the in-memory store and on a real Redis."""

from __future__ import annotations

from datetime import timedelta

from humangate.accounts import limits
from humangate.accounts.policy import AccountPolicy
from humangate.store import Store
from tests.accounts.conftest import T0

POLICY = AccountPolicy()
KEYS = limits.LoginKeys(pair="ident:203.0.113.0/24", account="a1")


async def test_fixed_windows_follow_now(store: Store) -> None:
    window = timedelta(minutes=1)
    assert await limits.count(store, "k", window, T0) == (1, 30)  # T0 is hh:mm:30
    assert await limits.count(store, "k", window, T0 + timedelta(seconds=29)) == (2, 1)
    assert await limits.count(store, "k", window, T0 + timedelta(seconds=30)) == (1, 60)


async def test_resend_one_a_minute_five_an_hour(store: Store) -> None:
    allowed = []
    for minute in range(8):
        moment = T0 + timedelta(minutes=minute)
        allowed.append(await limits.allow_send(store, POLICY, "digest", moment))
        assert await limits.allow_send(store, POLICY, "digest", moment) is not None
    assert allowed[:5] == [None] * 5
    assert all(wait is not None and wait > 60 for wait in allowed[5:])
    # Other identifiers have their own allowance; the next hour starts afresh.
    assert await limits.allow_send(store, POLICY, "other", T0) is None
    assert await limits.allow_send(store, POLICY, "digest", T0 + timedelta(hours=1)) is None


async def test_lockout_after_failures(store: Store) -> None:
    for _ in range(POLICY.lockout_failures - 1):
        assert await limits.record_failure(store, POLICY, KEYS, T0) is None
    assert await limits.locked_for(store, KEYS, T0) is None
    assert await limits.record_failure(store, POLICY, KEYS, T0) == 15 * 60
    assert await limits.locked_for(store, KEYS, T0 + timedelta(minutes=5)) == 10 * 60
    assert await limits.locked_for(store, KEYS, T0 + timedelta(minutes=15)) is None
    # Another network is not locked by this one's failures.
    elsewhere = limits.LoginKeys(pair="ident:198.51.100.0/24", account="a1")
    assert await limits.locked_for(store, elsewhere, T0) is None


async def test_account_lockout_spans_networks(store: Store) -> None:
    policy = AccountPolicy(lockout_failures=100, account_lockout_failures=3)
    for network in range(3):
        keys = limits.LoginKeys(pair=f"ident:10.0.{network}.0/24", account="a7")
        await limits.record_failure(store, policy, keys, T0)
    fresh = limits.LoginKeys(pair="ident:10.9.9.0/24", account="a7")
    assert await limits.locked_for(store, fresh, T0) == 15 * 60
    assert await limits.locked_for(store, fresh, T0, account_path=False) is None


async def test_success_clears_the_networks_failures(store: Store) -> None:
    for _ in range(POLICY.lockout_failures - 1):
        await limits.record_failure(store, POLICY, KEYS, T0)
    await limits.clear_failures(store, POLICY, KEYS, T0)
    assert await limits.record_failure(store, POLICY, KEYS, T0) is None
