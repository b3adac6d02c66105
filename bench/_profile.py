"""py-spy sampling of the server under load, and a summary of where its time goes."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._procs import BIN

# Own time is grouped by the first of these path prefixes found in a frame's file.
_BUCKETS = (
    ("humangate/", "humangate"),
    ("uvicorn/", "uvicorn"),
    ("uvloop/", "uvloop"),
    ("httptools/", "httptools"),
    ("starlette/", "starlette"),
    ("fastapi/", "fastapi"),
    ("redis/", "redis-py"),
    ("json/", "json"),
    ("asyncio/", "asyncio"),
    ("pydantic", "pydantic"),
    ("anyio/", "anyio"),
    ("urllib/", "urllib"),
    ("hashlib", "hashlib"),
    ("hmac", "hmac"),
)

# Frames around the ASGI stack, left out of the inclusive-time table.
_OUTER = (
    "humangate/cli/",
    "asyncio/runners.py",
    "multiprocessing/",
    "uvicorn/server.py",
    "uvicorn/main.py",
    "uvicorn/_subprocess.py",
    "uvicorn/supervisors/",
    "<module>",
)

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*?)(?::(?P<line>\d+))?\)$")


def profile(pid: int, seconds: float, out: Path, load: Callable[[], Any]) -> None:
    """Sample `pid` and its subprocesses with py-spy into `out` (collapsed stacks) while `load`
    runs for about `seconds`."""
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    command += ["--gil", "--rate", "250", "--format", "raw", "--output", str(out)]
    command += ["--duration", str(max(1, round(seconds)))]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)  # py-spy attaches
        load()
        _, err = process.communicate(timeout=seconds + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if not out.exists():
        raise SystemExit(f"py-spy wrote nothing: {err.decode(errors='replace')}")


def _frame_name(frame: str) -> tuple[str, str]:
    """(`module-ish file:function`, bucket) for one py-spy frame `func (file:line)`."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), "other"
    func, path = match["func"], match["file"]
    for marker in ("site-packages/", "lib/python3", "humangate/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "humangate/":
                path = "humangate/" + path
            break
    return f"{path}:{func}", _bucket(path)


def _bucket(path: str) -> str:
    for prefix, name in _BUCKETS:
        if path.startswith(prefix) or f"/{prefix}" in path:
            return name
    return "other"


class _Tally:
    """Samples of the event-loop thread: own time by package and function, inclusive time."""

    def __init__(self) -> None:
        self.own: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        self.buckets: Counter[str] = Counter()
        self.total = self.threads = 0

    def add(self, stack: str, count: int) -> None:
        if "Thread._bootstrap" in stack:
            self.threads += count
            return
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            return
        self.total += count
        names = [_frame_name(f) for f in frames]
        leaf, bucket = names[-1]
        self.own[leaf] += count
        self.buckets[bucket] += count
        for name in {n for n, _ in names}:
            self.inclusive[name] += count

    def share(self, rows: list[tuple[str, int]]) -> list[str]:
        return [f"  {100 * n / self.total:5.1f}%  {name}" for name, n in rows]


def summarize_profile(path: Path, top: int) -> str:
    """Own time by package and by function, and inclusive time below the server's outer frames.

    Only the event-loop thread counts: py-spy takes helper threads blocked in C (aiosqlite's
    worker waiting on its queue) for busy ones.
    """
    tally = _Tally()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if stack and count_text.isdigit():
            tally.add(stack, int(count_text))
    if not tally.total:
        return "profile: no samples"
    lines = [
        f"profile (py-spy, event-loop thread holding the GIL): {tally.total} samples "
        f"({tally.threads} helper-thread samples left out); own time by package:"
    ]
    lines += tally.share(tally.buckets.most_common())
    lines.append(f"top {top} functions by own time:")
    lines += tally.share(tally.own.most_common(top))
    lines.append(f"top {top} functions by inclusive time (the ASGI stack, outermost first):")
    inner = [(name, n) for name, n in tally.inclusive.items() if not any(o in name for o in _OUTER)]
    lines += tally.share(sorted(inner, key=lambda item: -item[1])[:top])
    return "\n".join(lines)
