"""Siteverify throughput with billing on against billing off, in the same run (issue 14).

    .venv/bin/python -m bench.billing [--rounds 2] [--duration 10] [--connections 64]

One redis-server with the persistence billing asks for (`appendonly yes`, `appendfsync always`)
and one SQLite database serve every phase. The unit belongs to an owner whose plan prices a
verification at 1 minor unit, so with billing on every successful siteverify is charged (one
Lua script on the hot store; a slice of HUMANGATE_BILLING_SLICE reserved in the database when
the allowance runs out; settlement every HUMANGATE_BILLING_SETTLE_SECONDS). Each phase starts
`humangate serve` (one worker) with billing off or on, pre-mints fresh tokens for it as
`Verifier._mint` does (bench/_procs.py), warms up, and drives /siteverify with wrk (closed loop,
a fresh token per request, every answer checked for `"success":true`). Phases alternate (off, on,
on, off, …) so drift on a shared machine falls on both sides; the ratio is Σ on rps / Σ off rps.

At the end the ledger is read: its `verify` usage must equal the successful verifications of the
billing-on phases, exactly, or the bench says so (billing that charged nothing would be fast).

Target: ratio ≥ 0.9. Everything runs on 127.0.0.1; every process started here is stopped here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from bench._load import LUA_SITEVERIFY, Result, WrkSetup, run_wrk
from bench._machine import print_facts
from bench._procs import (
    HOST,
    CpuMeter,
    _pings,
    _started,
    _wait_ready,
    free_port,
    humangate_server,
    premint,
    redis_client,
    redis_pid,
    server_env,
    worker_pids,
)

PRICE = 1
TARGET = 0.9


@contextmanager
def aof_redis(workdir: Path, fsync: str) -> Iterator[str]:
    """A throwaway redis-server that fsyncs every write before answering; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is missing: apt-get install redis-server")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", HOST, "--save", ""]
    command += ["--appendonly", "yes", "--appendfsync", fsync]
    command += ["--dir", str(workdir), "--daemonize", "no", "--protected-mode", "yes"]
    url = f"redis://{HOST}:{port}/0"
    with _started(command, workdir / "redis.log") as process:
        if not _wait_ready(process, lambda: _pings(url), 10, 0.05):
            raise SystemExit(f"redis-server did not start; see {workdir}/redis.log")
        yield url


def setup_owner(database_url: str) -> tuple[int, int, str]:
    """Migrate; an owner on a plan pricing `verify`, topped up; their unit. (owner, unit, secret)"""
    from humangate.billing import ledger
    from humangate.db.engine import create_engine, create_sessionmaker
    from humangate.db.migrate import migrate
    from humangate.db.models import Account, BillingAccount, BillingPlan
    from humangate.db.units import create_unit

    async def run() -> tuple[int, int, str]:
        engine = create_engine(database_url)
        try:
            await migrate(engine)
            now = datetime.now(UTC)
            async with create_sessionmaker(engine)() as session:
                owner = Account(
                    email="bench@example.com",
                    email_key="bench@example.com",
                    password_hash="x",
                    status="active",
                    created_at=now,
                    last_active_at=now,
                )
                plan = BillingPlan(
                    name="bench",
                    edition="standard",
                    prices={"verify": PRICE},
                    credit_limit=0,
                    is_default=False,
                    created_at=now,
                )
                session.add_all([owner, plan])
                await session.flush()
                session.add(
                    BillingAccount(account_id=owner.id, plan_id=plan.id, reserved=0, created_at=now)
                )
                await ledger.top_up(
                    session, owner.id, 10**11, reference="bench", actor="system", now=now
                )
                await session.commit()
                made = await create_unit(
                    session,
                    name="bench",
                    domains=["localhost"],
                    mode="invisible",
                    pow_difficulty=1000,
                    account_id=owner.id,
                )
                return owner.id, made.unit.id, made.secret
        finally:
            await engine.dispose()

    return asyncio.run(run())


def settle_leftovers(redis_url: str, database_url: str) -> int:
    """What the last node left unsettled (a failed write, a slow shutdown), settled as any other
    node would; returns the batches it took."""
    from humangate.billing.hot import RedisBillingStore
    from humangate.billing.settlement import SettlementJob
    from humangate.db.engine import create_engine, create_sessionmaker

    async def run() -> int:
        engine = create_engine(database_url)
        store = RedisBillingStore(redis_url)
        try:
            job = SettlementJob(
                store, create_sessionmaker(engine), interval=1, orphan_seconds=0.001
            )
            return int(await job.run_round())
        finally:
            await store.close()
            await engine.dispose()

    return asyncio.run(run())


def charged_verifications(database_url: str, owner: int) -> int:
    """Σ quantity of the owner's `verify` usage in the ledger."""
    from sqlalchemy import func, select

    from humangate.db.engine import create_engine, create_sessionmaker
    from humangate.db.models import LedgerTransaction

    async def run() -> int:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                total = await session.scalar(
                    select(func.coalesce(func.sum(LedgerTransaction.quantity), 0)).where(
                        LedgerTransaction.account_id == owner,
                        LedgerTransaction.kind == "usage",
                        LedgerTransaction.item == "verify",
                    )
                )
                return int(total or 0)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def run_phase(
    args: argparse.Namespace,
    env: dict[str, str],
    workdir: Path,
    redis_url: str,
    unit: tuple[int, str, bytes],
    billing: bool,
) -> tuple[Result, int]:
    """One server with billing on or off: warm-up, then the measured run; its result and the
    tokens verified (warm-up included)."""
    uid, secret, key = unit
    phase_env = {**env, "HUMANGATE_BILLING": "true" if billing else "false"}
    tokens = premint(redis_url, key, uid, args.tokens)
    (workdir / "tokens.txt").write_text("\n".join(quote(t) for t in tokens) + "\n")
    url = f"http://{HOST}:{env['HUMANGATE_PORT']}/siteverify"
    script = workdir / "siteverify.lua"
    name = "billing on " if billing else "billing off"
    before = token_keys(redis_url)
    with humangate_server(phase_env, workdir) as server:
        meter = CpuMeter(worker_pids(server), redis_pid(redis_url))
        setup = WrkSetup(args.connections, args.threads, meter, workdir, args.verbose)
        offset = 0
        for seconds, label in ((args.warmup, "warm-up"), (args.duration, name)):
            wrk_args = [str(workdir / "tokens.txt"), str(offset), str(args.threads), quote(secret)]
            result = run_wrk(setup, url, script, wrk_args, seconds, label)
            if result.last_token >= len(tokens) - 1:
                raise SystemExit("the tokens ran out: raise --tokens")
            offset = result.last_token + 1
            if result.bad or result.errors:
                raise SystemExit(f"{label}: {result.bad} failed and {result.errors} errors")
    # Every token sent verifies once (wrk stops counting with requests still in flight).
    return result, before - token_keys(redis_url)


def token_keys(redis_url: str) -> int:
    """Pass tokens still stored (each successful siteverify takes one)."""
    with redis_client(redis_url) as client:
        return sum(1 for _ in client.scan_iter(match="hg:*:token:*", count=10_000))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.billing",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--rounds", type=int, default=2, help="pairs of phases (off and on, order alternating)")
    add("--duration", type=float, default=10.0, help="seconds per measured run")
    add("--warmup", type=float, default=2.0, help="seconds of warm-up per phase")
    add("--connections", type=int, default=64, help="keep-alive connections")
    add("--threads", type=int, default=1, help="wrk threads")
    add("--tokens", type=int, default=80_000, help="pass tokens pre-minted per phase")
    add("--slice", type=int, default=1000, help="HUMANGATE_BILLING_SLICE (minor units)")
    add("--verbose", action="store_true", help="print wrk's own reports")
    add("--settle", type=float, default=2.0, help="HUMANGATE_BILLING_SETTLE_SECONDS")
    add("--fsync", default="always", choices=("always", "everysec"), help="redis appendfsync")
    add("--keep", action="store_true", help="keep the work folder (logs, database) and name it")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_facts()
    print(f"   setup: 1 worker, {args.connections} connections, {args.duration:.0f} s per run, ")
    print(f"          redis appendonly yes, appendfsync {args.fsync}; SQLite; slice {args.slice}")
    results: dict[bool, list[Result]] = {False: [], True: []}
    charged = 0
    with contextlib.ExitStack() as stack:
        if args.keep:
            workdir = Path(tempfile.mkdtemp(prefix="hg-bench-billing-"))
            print(f"  folder: {workdir}")
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hg-bench-")))
        (workdir / "siteverify.lua").write_text(LUA_SITEVERIFY)
        key_text = secrets.token_urlsafe(36)
        with aof_redis(workdir, args.fsync) as redis_url:
            env = server_env(workdir / "data", free_port(), redis_url, key_text, 1)
            env["HUMANGATE_BILLING_SLICE"] = str(args.slice)
            env["HUMANGATE_BILLING_SETTLE_SECONDS"] = str(args.settle)
            from humangate.config import Settings

            database_url = Settings(data_dir=workdir / "data").resolved_database_url
            owner, uid, secret = setup_owner(database_url)
            unit = (uid, secret, key_text.encode())
            for round_no in range(args.rounds):
                order = (False, True) if round_no % 2 == 0 else (True, False)
                for billing in order:
                    result, successes = run_phase(args, env, workdir, redis_url, unit, billing)
                    results[billing].append(result)
                    charged += successes if billing else 0
                    print(
                        f"{result.name}: {result.rps:8.0f} rps, p99 {result.p99:6.2f} ms, "
                        f"server {result.cpu_us:5.0f} µs/req, other {result.cpu['other']:.2f} cores"
                    )
            leftovers = settle_leftovers(redis_url, database_url)
            in_ledger = charged_verifications(database_url, owner)
    off = sum(r.rps for r in results[False])
    on = sum(r.rps for r in results[True])
    ratio = on / off if off else float("nan")
    cpu_off = statistics.mean(r.cpu_us for r in results[False])
    cpu_on = statistics.mean(r.cpu_us for r in results[True])
    print(f"\nbatches the last node left to settle: {leftovers}")
    print(f"ledger: {in_ledger} verifications charged; {charged} tokens verified with billing on")
    print(f"server CPU per siteverify: off {cpu_off:.0f} µs, on {cpu_on:.0f} µs")
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(f"throughput ratio billing on / off: {ratio:.3f} (target ≥ {TARGET}): {verdict}")
    if in_ledger != charged:
        print("MISMATCH: the ledger does not hold every charged verification")
        return 1
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
