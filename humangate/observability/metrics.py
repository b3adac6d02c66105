"""A node's metrics as plain dicts, merged over its workers and written as Prometheus text.

Recording is a dict lookup and an increment: no lock (one event loop per process) and no
registry walk per request. Each worker's values travel to the worker that answers a scrape as
a JSON snapshot (humangate/observability/shared.py); counters and histograms are summed over
workers, gauges keep a `worker` label because a pool's depth or a loop's lag belongs to one.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Labels = tuple[str, ...]
Kind = Literal["counter", "gauge", "histogram"]
# name -> [[label values, value or histogram series], ...]: what a worker writes and reads.
Snapshot = dict[str, list[list[Any]]]
GaugeReading = tuple["Gauge", Labels, float]
F = TypeVar("F", bound="Family")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(eq=False)
class Family:
    name: str
    help: str
    labels: Labels
    kind: Kind = "counter"
    values: dict[Labels, Any] = field(default_factory=dict)


class Counter(Family):
    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        values = self.values
        values[labels] = values.get(labels, 0.0) + amount


class Gauge(Family):
    """Read at collection time from the sources registered with `Registry.gauge_source`."""


class Histogram(Family):
    buckets: tuple[float, ...] = LATENCY_BUCKETS

    def observe(self, value: float, labels: Labels) -> None:
        # A series holds one count per bucket (the last is +Inf), not cumulated, then the sum.
        series = self.values.get(labels)
        if series is None:
            series = self.values[labels] = [0.0] * (len(self.buckets) + 2)
        series[bisect_left(self.buckets, value)] += 1
        series[-1] += value


class Registry:
    def __init__(self) -> None:
        self.families: dict[str, Family] = {}
        self._gauge_sources: dict[str, Callable[[], Iterable[GaugeReading]]] = {}

    def counter(self, name: str, help: str, labels: Labels) -> Counter:
        return self._add(Counter(name, help, labels))

    def gauge(self, name: str, help: str, labels: Labels) -> Gauge:
        return self._add(Gauge(name, help, labels, kind="gauge"))

    def histogram(
        self, name: str, help: str, labels: Labels, buckets: tuple[float, ...] = LATENCY_BUCKETS
    ) -> Histogram:
        histogram = Histogram(name, help, labels, kind="histogram")
        histogram.buckets = buckets
        return self._add(histogram)

    def _add(self, family: F) -> F:
        self.families[family.name] = family
        return family

    def gauge_source(self, name: str, read: Callable[[], Iterable[GaugeReading]]) -> None:
        """Register (or replace: a process has one database engine, one store) a reader."""
        self._gauge_sources[name] = read

    def snapshot(self) -> Snapshot:
        """This process's values; gauges are read now."""
        snap: Snapshot = {
            family.name: [[list(labels), _copy(value)] for labels, value in family.values.items()]
            for family in self.families.values()
            if family.kind != "gauge"
        }
        for read in list(self._gauge_sources.values()):
            for gauge, labels, value in read():
                snap.setdefault(gauge.name, []).append([list(labels), value])
        return snap


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def merge(own: Snapshot, others: Mapping[int, Snapshot], *, own_worker: int) -> Snapshot:
    """One node's values: counters and histograms summed, gauges labelled by worker pid."""
    merged: dict[str, dict[tuple[str, ...], Any]] = {}
    for worker, snap in [(own_worker, own), *others.items()]:
        for name, rows in snap.items():
            series = merged.setdefault(name, {})
            for labels, value in rows:
                key = tuple(labels)
                if isinstance(value, list):
                    current = series.get(key)
                    series[key] = value if current is None else _add_lists(current, value)
                elif name in _GAUGE_NAMES:
                    series[(*key, str(worker))] = value
                else:
                    series[key] = series.get(key, 0.0) + value
    return {name: [[list(k), v] for k, v in series.items()] for name, series in merged.items()}


def _add_lists(a: list[float], b: list[float]) -> list[float]:
    if len(a) != len(b):  # a worker of another version: keep what this one understands
        return a
    return [x + y for x, y in zip(a, b, strict=True)]


def render(registry: Registry, merged: Snapshot) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []
    for family in registry.families.values():
        rows = merged.get(family.name, [])
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        names = (*family.labels, "worker") if family.kind == "gauge" else family.labels
        for labels, value in sorted(rows, key=lambda row: row[0]):
            pairs = list(zip(names, labels, strict=False))
            if isinstance(family, Histogram):
                lines.extend(_histogram_lines(family, pairs, value))
            else:
                lines.append(f"{family.name}{_labels(pairs)} {_number(value)}")
    return "\n".join(lines) + "\n"


def _histogram_lines(
    family: Histogram, pairs: list[tuple[str, str]], series: list[float]
) -> Iterable[str]:
    total = 0.0
    for bound, count in zip([*family.buckets, math.inf], series[:-1], strict=True):
        total += count
        le = "+Inf" if bound == math.inf else repr(bound)
        yield f"{family.name}_bucket{_labels([*pairs, ('le', le)])} {_number(total)}"
    yield f"{family.name}_sum{_labels(pairs)} {_number(series[-1])}"
    yield f"{family.name}_count{_labels(pairs)} {_number(total)}"


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{name}="{_escape(value)}"' for name, value in pairs)
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# --- the node's metrics (docs/api.md, "Metrics") ---------------------------------------------

REGISTRY = Registry()

HTTP_REQUESTS = REGISTRY.counter(
    "humangate_http_requests_total",
    "HTTP requests by method, route template and status (0: the client left before an answer).",
    ("method", "route", "status"),
)
HTTP_SECONDS = REGISTRY.histogram(
    "humangate_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method, route and status.",
    ("method", "route", "status"),
)
CHALLENGES = REGISTRY.counter(
    "humangate_challenges_total",
    "Challenges by kind and outcome (issued, passed, failed, escalated).",
    ("kind", "outcome"),
)
SITEVERIFY = REGISTRY.counter(
    "humangate_siteverify_total",
    "Siteverify answers by result: success, or the first error code.",
    ("result",),
)
STORE_SECONDS = REGISTRY.histogram(
    "humangate_store_operation_duration_seconds",
    "Hot-state store (Redis) calls by operation, failed ones included.",
    ("operation",),
)
STORE_ERRORS = REGISTRY.counter(
    "humangate_store_errors_total",
    "Hot-state store (Redis) calls that failed, by operation.",
    ("operation",),
)
DB_SECONDS = REGISTRY.histogram(
    "humangate_db_statement_duration_seconds",
    "Database statements by verb (select, insert, update, delete, other).",
    ("verb",),
)
DB_ERRORS = REGISTRY.counter(
    "humangate_db_errors_total",
    "Database errors by exception class (connection failures included).",
    ("cause",),
)
DB_POOL = REGISTRY.gauge(
    "humangate_db_pool_connections",
    "Database connections of a worker's pool: in_use, idle, overflow, and its size.",
    ("state",),
)
STORE_POOL = REGISTRY.gauge(
    "humangate_store_pool_connections",
    "Redis connections of a worker's pool: in_use, idle, and its limit (max).",
    ("state",),
)
LOOP_LAG = REGISTRY.histogram(
    "humangate_event_loop_lag_seconds",
    "How late the event loop woke a task that asked to sleep 0.1 s (a stall shows here).",
    (),
    buckets=LAG_BUCKETS,
)
LOOP_LAG_LAST = REGISTRY.gauge(
    "humangate_event_loop_lag_last_seconds",
    "The last measured event-loop lag of a worker.",
    (),
)
WORKER_UP = REGISTRY.gauge(
    "humangate_worker_up",
    "1 for each worker process whose values are fresh (written in the last few seconds).",
    (),
)

_GAUGE_NAMES = frozenset(f.name for f in REGISTRY.families.values() if f.kind == "gauge")


def count_siteverify(error_codes: tuple[str, ...] | list[str]) -> None:
    SITEVERIFY.inc((error_codes[0] if error_codes else "success",))
