"""Resend throttling and login lockout, counted in the shared hot-state store.

Windows are fixed and aligned to `now` (the bucket is part of the key), so every node agrees on
them and tests move time by passing another `now`, on the memory store and on Redis alike; the
store's own expiry only cleans up. Keys are keyed digests: no identifier reaches the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from humangate.accounts.policy import AccountPolicy
from humangate.store.base import Store

NS_COUNT = "acct-count"
NS_LOCK = "acct-lock"


async def count(store: Store, key: str, window: timedelta, now: datetime) -> tuple[int, int]:
    """Count one event in the fixed window holding `now`; return (count, seconds left)."""
    seconds = window.total_seconds()
    moment = now.timestamp()
    bucket = math.floor(moment / seconds)
    left = math.ceil((bucket + 1) * seconds - moment)
    hits = await store.hit(NS_COUNT, f"{key}:{int(seconds)}:{bucket}", seconds)
    return hits, max(1, left)


async def allow_send(
    store: Store, policy: AccountPolicy, identifier_digest: str, now: datetime
) -> int | None:
    """Count one code sent to an identifier; None if allowed, else seconds to wait."""
    hits, left = await count(store, f"send-m:{identifier_digest}", timedelta(minutes=1), now)
    if hits > policy.resend_per_minute:
        return left
    hits, left = await count(store, f"send-h:{identifier_digest}", timedelta(hours=1), now)
    if hits > policy.resend_per_hour:
        return left
    return None


@dataclass(frozen=True, slots=True)
class LoginKeys:
    """The two lockout paths of one login: the identifier from one network, and the account.

    `account` is the account id when the identifier names an account and the identifier's digest
    otherwise, so an unknown identifier locks exactly like a known one.
    """

    pair: str
    account: str


async def locked_for(
    store: Store, keys: LoginKeys, now: datetime, *, account_path: bool = True
) -> int | None:
    """Seconds until the later of the locks ends, or None if none holds.

    With `account_path=False` only the identifier-from-this-network lock counts: login by code
    skips the account-wide lock, so that failures spread over many networks (which anyone can
    cause) never lock the owner out of their own mailbox's proof.
    """
    longest = 0.0
    for key in (keys.pair, keys.account) if account_path else (keys.pair,):
        value = await store.get(NS_LOCK, key)
        if value is not None:
            longest = max(longest, float(value) - now.timestamp())
    return math.ceil(longest) if longest > 0 else None


async def record_failure(
    store: Store, policy: AccountPolicy, keys: LoginKeys, now: datetime
) -> int | None:
    """Count a failed login on both paths; lock a path that reached its limit.

    Returns the seconds of lock now in force, or None.
    """
    until = now + policy.lockout_period
    seconds = policy.lockout_period.total_seconds()
    hits, _ = await count(store, f"fail-p:{keys.pair}", policy.lockout_window, now)
    if hits >= policy.lockout_failures:
        await store.put(NS_LOCK, keys.pair, str(until.timestamp()).encode(), seconds)
    hits, _ = await count(store, f"fail-a:{keys.account}", policy.account_lockout_window, now)
    if hits >= policy.account_lockout_failures:
        await store.put(NS_LOCK, keys.account, str(until.timestamp()).encode(), seconds)
    return await locked_for(store, keys, now)


async def clear_failures(
    store: Store, policy: AccountPolicy, keys: LoginKeys, now: datetime
) -> None:
    """Forget this window's failures of the identifier from this network after a success."""
    seconds = policy.lockout_window.total_seconds()
    bucket = math.floor(now.timestamp() / seconds)
    await store.delete(NS_COUNT, f"fail-p:{keys.pair}:{int(seconds)}:{bucket}")
