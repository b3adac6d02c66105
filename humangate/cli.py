"""Command line: humangate serve | migrate | unit create | unit list | unit rotate-secret."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from humangate.config import Settings, load_settings
from humangate.db import units as unit_db
from humangate.db.engine import AsyncSession, create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.demo import ensure_demo_unit
from humangate.errors import HumanGateError
from humangate.units import DEFAULT_POW_DIFFICULTY, MODES, normalize_domain


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="humangate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP service (HUMANGATE_HOST, HUMANGATE_PORT)")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    unit = commands.add_parser("unit", help="manage verification units").add_subparsers(
        dest="unit_command", required=True
    )
    create = unit.add_parser("create", help="create a unit; prints its secret once")
    create.add_argument("--name", required=True)
    create.add_argument("--domain", action="append", required=True, dest="domains")
    create.add_argument("--mode", choices=MODES, default="managed")
    create.add_argument("--pow-difficulty", type=int, default=DEFAULT_POW_DIFFICULTY)
    create.add_argument("--json", action="store_true", help="print JSON")
    listing = unit.add_parser("list", help="list units")
    listing.add_argument("--json", action="store_true", help="print JSON")
    rotate = unit.add_parser("rotate-secret", help="issue a new secret; the old one keeps working")
    rotate.add_argument("sitekey")
    rotate.add_argument("--grace-hours", type=float, default=None)
    rotate.add_argument("--json", action="store_true", help="print JSON")
    return parser


async def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    engine = create_engine(settings.resolved_database_url)
    try:
        if settings.auto_migrate:
            await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _print(data: dict[str, Any] | list[Any], as_json: bool, text: str) -> None:
    print(json.dumps(data) if as_json else text)


def _run_unit(args: argparse.Namespace, settings: Settings) -> int:
    if args.unit_command == "create":
        domains = [normalize_domain(d) for d in args.domains]
        if not 1 <= args.pow_difficulty <= 10_000_000:
            raise ValueError("--pow-difficulty must be between 1 and 10000000.")
        created = asyncio.run(
            _with_session(
                settings,
                lambda s: unit_db.create_unit(
                    s,
                    name=args.name,
                    domains=domains,
                    mode=args.mode,
                    pow_difficulty=args.pow_difficulty,
                ),
            )
        )
        data = {"sitekey": created.unit.sitekey, "secret": created.secret}
        _print(
            data, args.json, f"sitekey: {data['sitekey']}\nsecret:  {data['secret']}  (shown once)"
        )
        return 0
    if args.unit_command == "list":
        found = asyncio.run(_with_session(settings, unit_db.list_units))
        rows = [
            {"sitekey": u.sitekey, "name": u.name, "domains": list(u.domains), "mode": u.mode}
            for u in found
        ]
        text = "\n".join(
            f"{r['sitekey']}  {r['mode']:<11}  {r['name']}  {','.join(r['domains'])}" for r in rows
        )
        _print(rows, args.json, text or "no units")
        return 0
    grace = timedelta(
        hours=args.grace_hours if args.grace_hours is not None else settings.secret_grace_hours
    )
    secret = asyncio.run(
        _with_session(settings, lambda s: unit_db.rotate_secret(s, args.sitekey, grace=grace))
    )
    if secret is None:
        print(f"error: no unit has the site key {args.sitekey!r}.", file=sys.stderr)
        return 1
    data = {
        "sitekey": args.sitekey,
        "secret": secret,
        "old_secret_valid_hours": grace.total_seconds() / 3600,
    }
    _print(data, args.json, f"secret: {secret}  (shown once; the old one works for {grace})")
    return 0


def _serve(settings: Settings) -> int:
    import uvicorn

    settings.check_workers()
    settings.resolve_secret_key()  # fail before forking, and create the local key only once
    asyncio.run(_prepare(settings))
    # Workers find the schema and the demo unit ready; none of them races to create them.
    os.environ["HUMANGATE_AUTO_MIGRATE"] = "false"
    uvicorn.run(
        "humangate.app:create_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Access logs would record query strings, where some clients put secrets.
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "serve":
            return _serve(settings)
        if args.command == "migrate":
            asyncio.run(_with_session(settings.model_copy(update={"auto_migrate": True}), _noop))
            print("database is up to date")
            return 0
        return _run_unit(args, settings)
    except (HumanGateError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def _noop(_: AsyncSession) -> None:
    return None


async def _prepare(settings: Settings) -> None:
    """Migrate and create the demo unit once, in the parent process, before serving."""
    engine = create_engine(settings.resolved_database_url)
    try:
        if settings.auto_migrate:
            await migrate(engine)
        if settings.demo:
            await ensure_demo_unit(create_sessionmaker(engine), settings.data_dir)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
