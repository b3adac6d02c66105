"""Metrics over a node's workers: each writes its snapshot to the run's folder every second
(and at shutdown); whichever worker answers a scrape reads the others' and merges.

`humangate serve` makes a fresh folder per run (so nothing of a previous run is counted) and
removes it at exit. A worker that died keeps its file: its counts stay in the sums, so they
never go down; its gauges stop counting once its file is older than `GAUGE_FRESH_SECONDS`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from humangate.jobs.base import PeriodicJob
from humangate.observability.metrics import REGISTRY, Registry, Snapshot

WRITE_SECONDS = 1.0
GAUGE_FRESH_SECONDS = 5.0
_SUFFIX = ".metrics.json"

logger = logging.getLogger(__name__)


class SharedSnapshots:
    def __init__(self, folder: Path, *, pid: int | None = None) -> None:
        self.folder = folder
        self.pid = pid if pid is not None else os.getpid()

    def write(self, snapshot: Snapshot) -> None:
        path = self.folder / f"{self.pid}{_SUFFIX}"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(snapshot, separators=(",", ":")), encoding="utf-8")
        os.replace(partial, path)  # a reader sees the old snapshot or the new, never half

    def others(self, *, now: float | None = None) -> dict[int, Snapshot]:
        """The other workers' last snapshots; a stale one without its gauges."""
        now = time.time() if now is None else now
        found: dict[int, Snapshot] = {}
        for path in self.folder.glob(f"*{_SUFFIX}"):
            pid = path.name.removesuffix(_SUFFIX)
            if not pid.isdigit() or int(pid) == self.pid:
                continue
            try:
                fresh = now - path.stat().st_mtime <= GAUGE_FRESH_SECONDS
                snapshot: Snapshot = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # gone between the listing and the read, or being replaced
            if not fresh:
                snapshot = {k: v for k, v in snapshot.items() if not _is_gauge(k)}
            found[int(pid)] = snapshot
        return found


def _is_gauge(name: str) -> bool:
    family = REGISTRY.families.get(name)
    return family is not None and family.kind == "gauge"


class SnapshotWriter(PeriodicJob):
    """Writes this worker's snapshot every second and a last one at close."""

    failure = "{job}: writing this worker's metrics failed"
    round_at_close = True

    def __init__(self, shared: SharedSnapshots, registry: Registry = REGISTRY) -> None:
        super().__init__(interval=WRITE_SECONDS)
        self._shared = shared
        self._registry = registry

    async def run_round(self) -> None:
        self._shared.write(self._registry.snapshot())
