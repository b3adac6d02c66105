"""A running app to attack over HTTP: issue, solve, wait as long as the trace claims, answer.

`Arena(kind)` starts the app (TestClient, its own data directory, default settings and limits)
with one interactive unit that serves `kind` at the default difficulty (the audio kind is reached
as a person reaches it: a visual challenge traded for audio). Every attempt comes from a fresh
network address and device, as a bot farm's would. `play` runs attempts in batches: issue a
batch, solve each, wait until the slowest claimed trace has ended for the server too (trace times
are ms since the challenge was shown), then answer them all; a token is a success.
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bench.risk.families import FAMILIES
from bench.risk.task import DragTask
from bench.risk.tricks import with_tricks
from humangate.app import create_app
from humangate.challenges import registry
from humangate.challenges.base import CheckResult
from humangate.challenges.pow import solve_pow
from humangate.config import Settings
from humangate.db import units as unit_db
from humangate.services import Services

ORIGIN = "http://localhost:8000"
JSON = dict[str, Any]
Trace = list[list[float]]


@dataclass
class Reply:
    """What a solver sends: the answer, the widget's `trajectory` and `signals`."""

    answer: JSON
    trajectory: Trace = field(default_factory=list)
    trace: Trace | None = None  # css px from the gesture's start, ms since shown
    pointer: str = "keyboard"

    def body(self) -> JSON:
        """The request body, traces thinned to what the widget sends (600 and 2000 points)."""
        signals: JSON = {"pointer": self.pointer}
        if self.trace is not None:
            signals["trace"] = thinned(self.trace, 600)
        trajectory = thinned(self.trajectory, 2000)
        return {"answer": self.answer, "trajectory": trajectory, "signals": signals}

    @property
    def ends_ms(self) -> float:
        times = [p[2] for p in (self.trace or self.trajectory)]
        return max(times, default=0.0)


Solve = Callable[[JSON, random.Random], Reply | None]


def thinned(points: Trace, limit: int) -> Trace:
    """Every other point until at most `limit` remain, the last one always kept."""
    while len(points) > limit:
        points = points[:-1:2] + [points[-1]]
    return points


def _with_client_ip(app: Any) -> Any:
    """The app, seeing each request come from the address in its X-Bench-IP header."""

    async def wrapped(scope: JSON, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            ip = dict(scope["headers"]).get(b"x-bench-ip")
            if ip:
                scope = {**scope, "client": (ip.decode(), 40000)}
        await app(scope, receive, send)

    return wrapped


class Arena:
    def __init__(self, client: TestClient, services: Services, sitekey: str, kind: str) -> None:
        self.client, self.services, self.sitekey, self.kind = client, services, sitekey, kind
        self._ip = 0

    def fresh_ip(self) -> str:
        self._ip += 1
        return f"10.{(self._ip >> 8) & 255}.{self._ip & 255}.{random.randrange(1, 250)}"

    def issue(self, ip: str, lang: str) -> JSON:
        """A challenge for a new visitor: fresh network, no cookies, a device id of its own."""
        headers = {"X-Bench-IP": ip, "Accept-Language": lang}
        self.client.cookies.clear()
        device = f"{random.getrandbits(64):016x}"
        body = {"sitekey": self.sitekey, "signals": {"fp": device}}
        reply = self.client.post("/api/v1/challenges", json=body, headers=headers)
        reply.raise_for_status()
        challenge: JSON = reply.json()
        if self.kind == "audio":
            url = f"/api/v1/challenges/{challenge['id']}/audio"
            swap = self.client.post(url, json={"language": lang}, headers=headers)
            swap.raise_for_status()
            challenge = swap.json()
        return challenge

    def truth(self, challenge: JSON) -> JSON:
        """The stored private answer (read by the bench, never sent to the attacker)."""
        state = self.client.portal.call(self.services.verifier.peek, challenge["id"])  # type: ignore[union-attr]
        return dict(state.answer) if state is not None else {}

    def answer(self, ip: str, challenge: JSON, reply: Reply) -> JSON:
        """Send `reply`; when the loop asks for a proof of work next (the path of an answer
        without pointer evidence), solve it as a native solver would and send that too."""
        result = self._post(ip, challenge, reply.body())
        for _ in range(2):
            nxt = result.get("next") or {}
            if result.get("success") or nxt.get("kind") != "pow":
                break
            result = self._post(ip, nxt, {})
        return result

    def _post(self, ip: str, challenge: JSON, body: JSON) -> JSON:
        if "pow" in challenge:
            start = time.perf_counter()
            number = solve_pow(challenge["pow"])
            spent = (time.perf_counter() - start) * 1e3
            body["pow"] = {"number": number, "elapsed_ms": round(spent * 8, 1),
                           "hashes": (number or 0) + 1}  # fmt: skip
        url = f"/api/v1/challenges/{challenge['id']}/answer"
        self.client.cookies.clear()
        answered = self.client.post(url, json=body, headers={"X-Bench-IP": ip})
        if answered.status_code in (410, 429):  # expired, or a limit held: the attempt fails
            return {"success": False, "error": "expired" if answered.status_code == 410 else
                    "rate-limited"}  # fmt: skip
        answered.raise_for_status()
        result: JSON = answered.json()
        return result


@contextmanager
def arena(kind: str) -> Iterator[Arena]:
    unit_kinds = ("slide",) if kind == "audio" else (kind,)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", secret_key="bench-" + "k" * 40,
                            unit_cache_seconds=0)  # fmt: skip
        app = create_app(settings)
        with TestClient(_with_client_ip(app), headers={"Origin": ORIGIN}) as client:
            services = app.state.services
            sessions = services.sessions

            async def make() -> unit_db.CreatedUnit:
                async with sessions() as session:
                    return await unit_db.create_unit(
                        session, name="bench", domains=["localhost"], mode="interactive",
                        pow_difficulty=500, kinds=unit_kinds,
                    )  # fmt: skip

            created = client.portal.call(make)  # type: ignore[union-attr]
            yield Arena(client, services, created.unit.sitekey, kind)


@dataclass
class Tally:
    tokens: int = 0
    right: int = 0  # the solver's answer was right (the checker's verdict, read by the bench)
    attempts: int = 0
    errors: dict[str, int] = field(default_factory=dict)


def play(kind: str, solve: Solve, n: int, seed: int, lang: str = "en",
         batch: int = 25) -> Tally:  # fmt: skip
    """`n` attempts of `solve` against a fresh app; see the module's docstring."""
    tally = Tally()
    rng = random.Random(f"arena-{kind}-{seed}")
    with arena(kind) as ring:
        while tally.attempts < n:
            issued: list[tuple[str, float, JSON, Reply | None]] = []
            first = time.monotonic()
            # a batch closes at `batch` attempts or once its first is 40 s old (challenges live
            # 120 s, and a slow solver under load must not let them expire)
            while len(issued) < min(batch, n - tally.attempts) and time.monotonic() - first < 40:
                ip = ring.fresh_ip()
                shown = time.monotonic()
                challenge = ring.issue(ip, lang)
                reply = solve(challenge[challenge["kind"]], rng)
                issued.append((ip, shown, challenge, reply))
            ends = [s + (r.ends_ms if r else 0.0) / 1e3 + 0.05 for _, s, _, r in issued]
            time.sleep(max(0.0, max(ends, default=0.0) - time.monotonic()))
            for ip, _, challenge, reply in issued:
                tally.attempts += 1
                if reply is None:
                    tally.errors["no answer"] = tally.errors.get("no answer", 0) + 1
                    continue
                truth = ring.truth(challenge)
                tally.right += check(challenge["kind"], truth, reply.answer, None).passed
                result = ring.answer(ip, challenge, reply)
                if result.get("success"):
                    tally.tokens += 1
                else:
                    code = str(result.get("error"))
                    tally.errors[code] = tally.errors.get(code, 0) + 1
    return tally


def check(kind: str, truth: JSON, answer: JSON, trajectory: object) -> CheckResult:
    """The kind's checker on the answer alone (a trajectory only where the kind needs one)."""
    if kind == "slide":
        x = answer.get("x", -1)
        return registry.check(kind, truth, answer, [[0, 0, 0], [x, 0, 1000]])
    return registry.check(kind, truth, answer, trajectory)


# --- traces a bot sends: a public mouse-path generator plus the usual post-processing ---------


def drag_trace(rng: random.Random, distance: float, family: str = "bezier",
               start_ms: float | None = None) -> Trace:  # fmt: skip
    """A horizontal drag of `distance` css px from a bot family, post-processed (pauses, drift,
    overshoot, noise), starting `start_ms` after the challenge was shown (0.8-2.5 s: a look)."""
    task = DragTask(distance=max(1.0, abs(distance)), tolerance=4.0, handle_size=44.0,
                    pointer="mouse")  # fmt: skip
    points = with_tricks(rng, FAMILIES[family](rng, task))
    sign = -1.0 if distance < 0 else 1.0
    begin = rng.uniform(800.0, 2500.0) if start_ms is None else start_ms
    t0 = points[0][2]
    end = points[-1][0] or 1.0
    scale = abs(distance) / end if abs(end) > 1e-6 else 1.0
    return [[sign * x * scale, y, round(begin + t - t0, 1)] for x, y, t in points]


def pointing_trace(rng: random.Random, targets: list[tuple[float, float]],
                   family: str = "bezier") -> tuple[Trace, list[float]]:  # fmt: skip
    """Moves from a random entry point through each target in turn (each a post-processed drag
    of the family, turned towards its target): the points, in the targets' frame, and the time
    of each arrival (a click)."""
    x, y = rng.uniform(0, 40), rng.uniform(0, 200)
    t = rng.uniform(900.0, 2500.0)
    out: Trace = [[x, y, t]]
    clicks = []
    for tx, ty in targets:
        dx, dy = tx - x, ty - y
        length = math.hypot(dx, dy) or 1.0
        c, s = dx / length, dy / length
        leg = drag_trace(rng, length, family, start_ms=t)
        for px, py, pt in leg[1:]:
            out.append([x + px * c - py * s, y + px * s + py * c, pt])
        x, y, t = tx, ty, leg[-1][2] + rng.uniform(120.0, 400.0)
        out[-1][:2] = [tx, ty]
        clicks.append(out[-1][2])
    return out, clicks
