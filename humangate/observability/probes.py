"""What feeds the metrics besides requests: the event loop's lag, the store's and the
database's calls, and their pools' depth. Each probe records into humangate/observability/
metrics.py and never raises into the code it watches."""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from humangate.errors import StorageError
from humangate.jobs.base import PeriodicJob
from humangate.observability.metrics import (
    DB_ERRORS,
    DB_POOL,
    DB_SECONDS,
    LOOP_LAG,
    LOOP_LAG_LAST,
    REGISTRY,
    STORE_ERRORS,
    STORE_POOL,
    STORE_SECONDS,
    WORKER_UP,
    GaugeReading,
)
from humangate.store import MemoryStore, Store

LAG_PROBE_SECONDS = 0.1
_VERBS = frozenset({"select", "insert", "update", "delete"})


class LoopLagProbe(PeriodicJob):
    """Asks to wake every 0.1 s and records how late it woke: the time any request would have
    waited behind whatever held the loop."""

    failure = "{job}: measuring the loop's lag failed"

    def __init__(self, *, interval: float = LAG_PROBE_SECONDS) -> None:
        super().__init__(interval=interval)
        self._due: float | None = None
        self.last = 0.0

    async def run_round(self) -> float:
        now = time.monotonic()
        if self._due is not None:
            self.last = max(0.0, now - self._due)
            LOOP_LAG.observe(self.last, ())
        self._due = time.monotonic() + self.interval
        return self.last


def watch_loop() -> LoopLagProbe:
    """A lag probe whose last reading is a gauge, with the `worker_up` of this process."""
    probe = LoopLagProbe()

    def read() -> Iterable[GaugeReading]:
        yield LOOP_LAG_LAST, (), probe.last
        yield WORKER_UP, (), 1.0

    REGISTRY.gauge_source("loop", read)
    return probe


def instrument_store(store: Store) -> Store:
    """The Redis store with each call timed and each failure counted; the in-memory store
    (no I/O to watch, and tests reach into it) as it is."""
    if isinstance(store, MemoryStore):
        return store
    _watch_store_pool(store)
    return cast(Store, _TimedStore(store))


class _TimedStore:
    """Forwards every attribute; coroutine methods are wrapped once, on first use, so that
    methods the store gains later are timed too."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name.startswith("_") or name == "close" or not callable(attr):
            return attr
        timed = _timed(name, attr)
        setattr(self, name, timed)
        return timed


def _timed(name: str, method: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    labels = (name,)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        except StorageError:
            STORE_ERRORS.inc(labels)
            raise
        finally:
            STORE_SECONDS.observe(time.perf_counter() - start, labels)

    return timed


def _watch_store_pool(store: object) -> None:
    # redis-py keeps its pool's state in private lists; read them if they are there.
    pool = getattr(store, "_pool", None) or getattr(
        getattr(store, "_redis", None), "connection_pool", None
    )
    if pool is None:
        return
    ref = weakref.ref(pool)

    def read() -> Iterable[GaugeReading]:
        live = ref()
        in_use = getattr(live, "_in_use_connections", None)
        idle = getattr(live, "_available_connections", None)
        if live is None or in_use is None or idle is None:
            return
        yield STORE_POOL, ("in_use",), float(len(in_use))
        yield STORE_POOL, ("idle",), float(len(idle))
        limit = getattr(live, "max_connections", None)
        if isinstance(limit, int) and limit < 2**31:
            yield STORE_POOL, ("max",), float(limit)

    REGISTRY.gauge_source("store_pool", read)


def instrument_engine(engine: AsyncEngine) -> None:
    """Time every statement, count every error by class, and read the pool's depth."""
    sync = engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("hg_started", []).append(time.perf_counter())

    @event.listens_for(sync, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started = conn.info.get("hg_started")
        if started:
            DB_SECONDS.observe(time.perf_counter() - started.pop(), (_verb(statement),))

    # First among the listeners: one that translates the error raises and ends the chain.
    @event.listens_for(sync, "handle_error", insert=True)
    def _error(context: Any) -> None:
        started = context.connection.info.get("hg_started") if context.connection else None
        if started:
            started.pop()
        DB_ERRORS.inc((type(context.original_exception).__name__,))

    ref = weakref.ref(sync.pool)

    def read() -> Iterable[GaugeReading]:
        pool = ref()
        if not isinstance(pool, QueuePool):
            return  # gone, or a pool without these numbers
        yield DB_POOL, ("in_use",), float(pool.checkedout())
        yield DB_POOL, ("idle",), float(pool.checkedin())
        yield DB_POOL, ("overflow",), float(max(0, pool.overflow()))
        yield DB_POOL, ("size",), float(pool.size())

    REGISTRY.gauge_source("db_pool", read)


def _verb(statement: str) -> str:
    verb = statement.lstrip()[:6].lower()
    return verb if verb in _VERBS else "other"
