"""The hot side of metering: per-account allowances and open usage, debited without the database.

Per account the store holds `allow` (minor units reserved from the balance into the hot store),
`open` usage (quantity and amount per `hour|unit|item` field), pending reservations (a slice
being reserved in the database right now) and usage batches taken for settlement. A charge is
one atomic step: allow ≥ price → allow −= price and the usage is added to `open`; else the
caller must reserve a slice. Settlement takes `open` into a batch (an atomic rename), writes it
to the ledger under the batch's id, then drops it; a batch left behind by a node that died is
found by `pending_batches`.

`totals` is what the database's `reserved` must equal for the account: allow + open + batches +
pending reservations, read at once. A pending reservation counts at the amount asked for, so a
reconciliation that runs while a node is reserving overstates `reserved` (the safe side) and
never understates it.

The Redis keys are `hgbill:…`, outside the store generation of decision 0009: this is money
owed and held, which must survive a restart (run Redis with `appendonly yes`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import NoScriptError, RedisError, ResponseError

from humangate.billing.ledger import UsageLine
from humangate.errors import StorageError
from humangate.store.options import RedisOptions

PREFIX = "hgbill"


@dataclass(frozen=True, slots=True)
class Charged:
    """The charge was taken from the allowance; `remaining` is left of it."""

    remaining: int


@dataclass(frozen=True, slots=True)
class NeedSlice:
    """The allowance (`allowance`) cannot pay the price: reserve a slice, then charge again."""

    allowance: int


Charge = Charged | NeedSlice


def usage_field(hour: int, unit_id: int | None, item: str) -> str:
    """The open-usage field of one unit's `item` in the hour starting at `hour` × 3600."""
    return f"{hour}|{'-' if unit_id is None else unit_id}|{item}"


def _line(field_name: str, quantity: int, amount: int) -> UsageLine:
    hour, unit, item = field_name.split("|", 2)
    return UsageLine(
        hour=datetime.fromtimestamp(int(hour) * 3600, UTC),
        unit_id=None if unit == "-" else int(unit),
        item=item,
        quantity=quantity,
        amount=amount,
    )


def new_batch_id(account_id: int, now: float) -> str:
    """`<account>.<ms>.<random>`: the account settles it, the time tells an orphan's age."""
    return f"{account_id}.{int(now * 1000)}.{secrets.token_hex(8)}"


def batch_account(batch: str) -> int:
    return int(batch.split(".", 1)[0])


def batch_time(batch: str) -> float:
    return int(batch.split(".", 2)[1]) / 1000


class BillingStore(Protocol):
    """Allowances and open usage per account; each method is atomic on its own."""

    async def charge(self, account_id: int, price: int, field: str, *, now: float) -> Charge:
        """Debit `price` from the allowance and add one `field` of usage, or ask for a slice."""

    async def charge_many(
        self, charges: Sequence[tuple[int, int, str]], *, now: float
    ) -> list[Charge]:
        """`charge` for each (account, price, field), in order, in one atomic step."""

    async def begin_reservation(
        self, account_id: int, reservation_id: str, want: int, *, now: float
    ) -> None:
        """Note that up to `want` is being reserved in the database (counted by `totals`)."""

    async def add_allowance(self, account_id: int, amount: int, reservation_id: str) -> bool:
        """Move a pending reservation into the allowance as `amount`; only once per id, and
        not at all when reconciliation dropped the reservation as stale (False)."""

    async def cancel_reservation(self, account_id: int, reservation_id: str) -> None:
        """Forget a pending reservation that reserved nothing."""

    async def take_open(self, account_id: int, *, now: float) -> str | None:
        """Rename the open usage into a new batch; its id, or None when nothing is open."""

    async def batch_lines(self, batch: str) -> list[UsageLine]:
        """A batch's usage lines, in field order."""

    async def drop_batch(self, batch: str) -> None:
        """Forget a settled batch."""

    async def pending_batches(self) -> list[str]:
        """Every batch not yet dropped, of every account."""

    async def totals(self, account_id: int, *, stale_before: float | None = None) -> int:
        """allow + open + batches + pending reservations, read at once; pending reservations
        begun before `stale_before` are dropped first (their node died or gave up)."""

    async def take_allowance(self, account_id: int, *, idle_since: float) -> int:
        """Take the whole allowance if the account has not been charged since `idle_since`
        (0 otherwise); an account left with no state at all is forgotten."""

    async def accounts_with_state(self) -> list[int]:
        """Accounts that may hold an allowance, usage, a batch or a pending reservation."""

    async def close(self) -> None: ...


@dataclass
class _Account:
    allow: int = 0
    open: dict[str, list[int]] = field(default_factory=dict)  # field → [quantity, amount]
    pending: dict[str, tuple[int, float]] = field(default_factory=dict)  # id → (want, at)
    batches: set[str] = field(default_factory=set)
    last: float = 0.0


class MemoryBillingStore:
    """The embedded node's store: one process; its state dies with it (a crash loses the open
    usage of the last settlement interval, which is then not billed)."""

    def __init__(self) -> None:
        self._accounts: dict[int, _Account] = {}
        self._batches: dict[str, dict[str, list[int]]] = {}

    def _of(self, account_id: int) -> _Account:
        return self._accounts.setdefault(account_id, _Account())

    async def charge(self, account_id: int, price: int, field: str, *, now: float) -> Charge:
        account = self._accounts.get(account_id)
        if account is None or account.allow < price:
            return NeedSlice(account.allow if account else 0)
        account.allow -= price
        line = account.open.setdefault(field, [0, 0])
        line[0] += 1
        line[1] += price
        account.last = now
        return Charged(account.allow)

    async def charge_many(
        self, charges: Sequence[tuple[int, int, str]], *, now: float
    ) -> list[Charge]:
        return [await self.charge(a, p, f, now=now) for a, p, f in charges]

    async def begin_reservation(
        self, account_id: int, reservation_id: str, want: int, *, now: float
    ) -> None:
        self._of(account_id).pending[reservation_id] = (want, now)

    async def add_allowance(self, account_id: int, amount: int, reservation_id: str) -> bool:
        account = self._of(account_id)
        if account.pending.pop(reservation_id, None) is None:
            return False
        account.allow += amount
        return True

    async def cancel_reservation(self, account_id: int, reservation_id: str) -> None:
        self._of(account_id).pending.pop(reservation_id, None)

    async def take_open(self, account_id: int, *, now: float) -> str | None:
        account = self._accounts.get(account_id)
        if account is None or not account.open:
            return None
        batch = new_batch_id(account_id, now)
        self._batches[batch], account.open = account.open, {}
        account.batches.add(batch)
        return batch

    async def batch_lines(self, batch: str) -> list[UsageLine]:
        lines = self._batches.get(batch, {})
        return [_line(name, q, a) for name, (q, a) in sorted(lines.items())]

    async def drop_batch(self, batch: str) -> None:
        self._batches.pop(batch, None)
        account = self._accounts.get(batch_account(batch))
        if account is not None:
            account.batches.discard(batch)

    async def pending_batches(self) -> list[str]:
        return sorted(self._batches)

    async def totals(self, account_id: int, *, stale_before: float | None = None) -> int:
        account = self._accounts.get(account_id)
        if account is None:
            return 0
        if stale_before is not None:
            account.pending = {k: v for k, v in account.pending.items() if v[1] >= stale_before}
        used = sum(amount for _, amount in account.open.values())
        batched = sum(a for b in account.batches for _, a in self._batches[b].values())
        return account.allow + used + batched + sum(w for w, _ in account.pending.values())

    async def take_allowance(self, account_id: int, *, idle_since: float) -> int:
        account = self._accounts.get(account_id)
        if account is None or account.last >= idle_since:
            return 0
        taken, account.allow = account.allow, 0
        if not (account.open or account.pending or account.batches):
            del self._accounts[account_id]
        return taken

    async def accounts_with_state(self) -> list[int]:
        return sorted(self._accounts)

    async def close(self) -> None:
        return None


# KEYS: last. ARGV: key prefix, now, then (account, price, field, count) per run of identical
# charges. Returns per run the allowance before it and how many of its charges it paid: the first
# that could not pay leaves the allowance as it is, so neither can the rest of the run. A run is
# one debit and one pair of increments however long it is (a busy node's batch is mostly one).
_CHARGE = """
local out = {}
for i = 3, #ARGV, 4 do
  local account, price, field = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local allow_key = ARGV[1] .. ':allow:' .. account
  local allow = tonumber(redis.call('GET', allow_key) or '0')
  local paid = tonumber(ARGV[i + 3])
  if price > 0 then paid = math.min(paid, math.floor(allow / price)) end
  if paid > 0 then
    local open_key = ARGV[1] .. ':open:' .. account
    redis.call('DECRBY', allow_key, paid * price)
    redis.call('HINCRBY', open_key, 'q|' .. field, paid)
    redis.call('HINCRBY', open_key, 'a|' .. field, paid * price)
    redis.call('HSET', KEYS[1], account, ARGV[2])
  end
  out[#out + 1] = allow
  out[#out + 1] = paid
end
return out
"""
# KEYS: pending, allow, accounts. ARGV: reservation id, amount, account.
_ADD_ALLOWANCE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
return 1
"""
# KEYS: open, batch, batches. ARGV: batch id.
_TAKE_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""
# KEYS: allow, open, batches, pending. ARGV: batch key prefix, stale_before ('' for none).
_TOTALS = """
local function amounts(key)
  local sum = 0
  local flat = redis.call('HGETALL', key)
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, 2) == 'a|' then sum = sum + tonumber(flat[i + 1]) end
  end
  return sum
end
local total = tonumber(redis.call('GET', KEYS[1]) or '0') + amounts(KEYS[2])
for _, batch in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  total = total + amounts(ARGV[1] .. batch)
end
local pending = redis.call('HGETALL', KEYS[4])
for i = 1, #pending, 2 do
  local want, at = string.match(pending[i + 1], '^(%d+) ([%d.]+)$')
  if ARGV[2] ~= '' and tonumber(at) < tonumber(ARGV[2]) then
    redis.call('HDEL', KEYS[4], pending[i])
  else
    total = total + tonumber(want)
  end
end
return total
"""
# KEYS: allow, open, batches, pending, last, accounts. ARGV: account, idle_since.
_TAKE_ALLOWANCE = """
local last = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')
if last >= tonumber(ARGV[2]) then return 0 end
local taken = tonumber(redis.call('GETDEL', KEYS[1]) or '0')
if redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4]) == 0 then
  redis.call('SREM', KEYS[6], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
end
return taken
"""


# KEYS: pending, accounts. ARGV: reservation id, "want at", account.
_BEGIN = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
"""
# KEYS: batch, batches. ARGV: batch id.
_DROP = """
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
"""


class _Script:
    """A Lua script sent by its SHA1, and whole only when the server does not know it yet."""

    def __init__(self, body: str) -> None:
        self.body = body.encode()
        self.sha = hashlib.sha1(self.body).hexdigest()


@contextmanager
def _storage_errors(action: str) -> Iterator[None]:
    """Driver errors as StorageError naming only the cause's class (a message can name hosts)."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StorageError(f"The billing store failed to {action}: {type(exc).__name__}.") from exc


class RedisBillingStore:
    """The store of a multi-node deployment: Lua scripts over `hgbill:` keys, on a pool with
    the hot store's limits (every wait bounded, nothing retried: a charge is never sent twice).

    Commands go straight to a pooled connection, as the hot store's do (humangate/store/redis.py):
    redis-py's client layers cost more CPU than the charge itself.
    """

    _charge = _Script(_CHARGE)
    _add = _Script(_ADD_ALLOWANCE)
    _begin = _Script(_BEGIN)
    _take_open = _Script(_TAKE_OPEN)
    _drop = _Script(_DROP)
    _totals = _Script(_TOTALS)
    _take_allowance = _Script(_TAKE_ALLOWANCE)

    def __init__(
        self, url: str, *, options: RedisOptions | None = None, prefix: str = PREFIX
    ) -> None:
        from humangate.store.redis import open_pool

        self._prefix = prefix
        self._pool = open_pool(url, options or RedisOptions())

    def _keys(self, account_id: int) -> dict[str, str]:
        return {
            name: f"{self._prefix}:{name}:{account_id}"
            for name in ("allow", "open", "batches", "pending")
        }

    async def _run(self, action: str, *command: object) -> Any:
        """One command on one pooled connection; any failure is a StorageError."""
        with _storage_errors(action):
            connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
            try:
                return await _on_connection(connection, command)
            finally:
                await self._pool.release(connection)

    async def _eval(self, action: str, script: _Script, keys: list[str], args: list[object]) -> Any:
        try:
            return await self._run(action, "EVALSHA", script.sha, len(keys), *keys, *args)
        except StorageError as exc:
            if not isinstance(exc.__cause__, NoScriptError):
                raise
        return await self._run(action, "EVAL", script.body, len(keys), *keys, *args)

    async def charge(self, account_id: int, price: int, field: str, *, now: float) -> Charge:
        return (await self.charge_many([(account_id, price, field)], now=now))[0]

    async def charge_many(
        self, charges: Sequence[tuple[int, int, str]], *, now: float
    ) -> list[Charge]:
        runs = _runs(charges)
        args: list[object] = [self._prefix, f"{now:.3f}"]
        for run in runs:
            args.extend(run)
        flat = await self._eval("charge", self._charge, [f"{self._prefix}:last"], args)
        results: list[Charge] = []
        for (_, price, _, count), allow, paid in zip(runs, flat[::2], flat[1::2], strict=True):
            allow, paid = int(allow), int(paid)
            results.extend(Charged(allow - price * n) for n in range(1, paid + 1))
            results.extend([NeedSlice(allow - price * paid)] * (count - paid))
        return results

    async def begin_reservation(
        self, account_id: int, reservation_id: str, want: int, *, now: float
    ) -> None:
        await self._eval(
            "write",
            self._begin,
            [self._keys(account_id)["pending"], f"{self._prefix}:accounts"],
            [reservation_id, f"{want} {now:.3f}", account_id],
        )

    async def add_allowance(self, account_id: int, amount: int, reservation_id: str) -> bool:
        keys = self._keys(account_id)
        added = await self._eval(
            "write",
            self._add,
            [keys["pending"], keys["allow"], f"{self._prefix}:accounts"],
            [reservation_id, amount, account_id],
        )
        return bool(added)

    async def cancel_reservation(self, account_id: int, reservation_id: str) -> None:
        await self._run("write", "HDEL", self._keys(account_id)["pending"], reservation_id)

    async def take_open(self, account_id: int, *, now: float) -> str | None:
        keys = self._keys(account_id)
        batch = new_batch_id(account_id, now)
        taken = await self._eval(
            "write",
            self._take_open,
            [keys["open"], f"{self._prefix}:batch:{batch}", keys["batches"]],
            [batch],
        )
        return batch if int(taken) else None

    async def batch_lines(self, batch: str) -> list[UsageLine]:
        flat = await self._run("read", "HGETALL", f"{self._prefix}:batch:{batch}")
        values = {bytes(flat[i]).decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}
        return [
            _line(name[2:], quantity, values.get("a|" + name[2:], 0))
            for name, quantity in sorted(values.items())
            if name.startswith("q|")
        ]

    async def drop_batch(self, batch: str) -> None:
        batches = self._keys(batch_account(batch))["batches"]
        await self._eval("delete", self._drop, [f"{self._prefix}:batch:{batch}", batches], [batch])

    async def pending_batches(self) -> list[str]:
        found: list[str] = []
        for account_id in await self.accounts_with_state():
            members = await self._run("read", "SMEMBERS", self._keys(account_id)["batches"])
            found.extend(bytes(member).decode() for member in members)
        return sorted(found)

    async def totals(self, account_id: int, *, stale_before: float | None = None) -> int:
        keys = self._keys(account_id)
        stale = "" if stale_before is None else f"{stale_before:.3f}"
        total = await self._eval(
            "read",
            self._totals,
            [keys["allow"], keys["open"], keys["batches"], keys["pending"]],
            [f"{self._prefix}:batch:", stale],
        )
        return int(total)

    async def take_allowance(self, account_id: int, *, idle_since: float) -> int:
        keys = self._keys(account_id)
        taken = await self._eval(
            "write",
            self._take_allowance,
            [
                keys["allow"],
                keys["open"],
                keys["batches"],
                keys["pending"],
                f"{self._prefix}:last",
                f"{self._prefix}:accounts",
            ],
            [account_id, f"{idle_since:.3f}"],
        )
        return int(taken)

    async def accounts_with_state(self) -> list[int]:
        members = await self._run("read", "SMEMBERS", f"{self._prefix}:accounts")
        return sorted(int(member) for member in members)

    async def close(self) -> None:
        await self._pool.disconnect()


def _runs(charges: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str, int]]:
    """Consecutive identical charges as (account, price, field, count), in order."""
    runs: list[tuple[int, int, str, int]] = []
    for account, price, field_name in charges:
        if runs and runs[-1][:3] == (account, price, field_name):
            runs[-1] = (account, price, field_name, runs[-1][3] + 1)
        else:
            runs.append((account, price, field_name, 1))
    return runs


async def _on_connection(connection: AbstractConnection, command: tuple[object, ...]) -> Any:
    try:
        await connection.connect()  # type: ignore[no-untyped-call]
        await connection.send_command(*command)
        return await connection.read_response()
    except ResponseError:
        raise  # the server's refusal (NOSCRIPT, OOM) was read whole: the connection is usable
    except BaseException:
        await connection.disconnect(nowait=True)
        raise


def create_billing_store(redis_url: str, options: RedisOptions | None = None) -> BillingStore:
    """The Redis billing store when a URL is configured, else the in-memory one."""
    if not redis_url:
        return MemoryBillingStore()
    return RedisBillingStore(redis_url, options=options)
