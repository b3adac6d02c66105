"""Command line: humangate serve | migrate | create-admin | outbox | housekeeping | account cancel |
notice | unit create | update | show | list | stats | rotate-secret."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker

from humangate.accounts import (
    AccountContext,
    AccountView,
    Cancelled,
    HousekeepingReport,
    audit,
    cancel_account_as_operator,
    create_admin,
    find_account_by,
)
from humangate.config import Settings, load_settings
from humangate.db import stats as stats_db
from humangate.db import units as unit_db
from humangate.db.engine import AsyncSession, create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.db.stats import StatRow
from humangate.demo import ensure_demo_unit
from humangate.errors import HumanGateError
from humangate.messaging import (
    MessageTemplates,
    add_outbox_arguments,
    channels_from_settings,
    outbox_cli,
)
from humangate.risk.access import CRAWLERS, parse_networks
from humangate.stats import METRICS, breakdown, hour_of, periods, to_csv
from humangate.store import MemoryStore
from humangate.units import (
    DEFAULT_DIFFICULTY,
    DEFAULT_KINDS,
    DEFAULT_POW_DIFFICULTY,
    MAX_DIFFICULTY,
    MODES,
    VISUAL_KINDS,
    UnitView,
    check_difficulty,
    check_domains,
    check_name,
    check_pow_difficulty,
    check_threshold,
    normalize_kinds,
)

T = TypeVar("T")


def _add_unit_fields(command: argparse.ArgumentParser, *, creating: bool) -> None:
    command.add_argument("--name", required=creating)
    command.add_argument("--domain", action="append", required=creating, dest="domains")
    command.add_argument("--mode", choices=MODES, default="managed" if creating else None)
    command.add_argument(
        "--kind",
        action="append",
        dest="kinds",
        choices=VISUAL_KINDS,
        help="a visual challenge kind the unit may use (repeat); default: slide",
    )
    command.add_argument(
        "--difficulty", type=int, help=f"base difficulty of visual challenges, 0..{MAX_DIFFICULTY}"
    )
    command.add_argument(
        "--pow-difficulty",
        type=int,
        default=DEFAULT_POW_DIFFICULTY if creating else None,
        help="the proof of work's search space (ALTCHA maxnumber)",
    )
    command.add_argument(
        "--threshold",
        type=float,
        help="the risk score (0..1) a visitor needs; default: the behaviour model's",
    )
    command.add_argument(
        "--allow",
        action="append",
        dest="allow_networks",
        metavar="CIDR",
        help="a network that skips scoring (repeat; replaces the list; 'none' empties it)",
    )
    command.add_argument(
        "--deny",
        action="append",
        dest="deny_networks",
        metavar="CIDR",
        help="a network refused outright (repeat; replaces the list; 'none' empties it)",
    )
    command.add_argument(
        "--good-bot",
        action="append",
        dest="good_bots",
        metavar="NAME",
        help=f"a declared crawler to let through once DNS confirms it: {', '.join(CRAWLERS)}"
        " (repeat; replaces the list; 'none' empties it)",
    )
    command.add_argument("--json", action="store_true", help="print JSON")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="humangate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP service (HUMANGATE_HOST, HUMANGATE_PORT)")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    add_outbox_arguments(
        commands.add_parser(
            "outbox", help="print the development outbox (mail and SMS sent without a server)"
        )
    )
    admin = commands.add_parser(
        "create-admin",
        help="create an operator account; the password is read from a prompt or stdin",
    )
    admin.add_argument("--email", required=True, help="the administrator's e-mail address")
    housekeeping = commands.add_parser(
        "housekeeping",
        help="run the hourly account job once: inactivity warnings, cancellations, purges",
    )
    housekeeping.add_argument(
        "--cancel-inactive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cancel accounts warned 30 days ago and unused since "
        "(default: HUMANGATE_CANCEL_INACTIVE, off)",
    )
    housekeeping.add_argument("--json", action="store_true", help="print JSON")
    unit = commands.add_parser("unit", help="manage verification units").add_subparsers(
        dest="unit_command", required=True
    )
    _add_unit_fields(
        unit.add_parser("create", help="create a unit; prints its secret once"), creating=True
    )
    update = unit.add_parser("update", help="change a unit's settings")
    update.add_argument("sitekey")
    _add_unit_fields(update, creating=False)
    state = update.add_mutually_exclusive_group()
    state.add_argument("--disable", action="store_const", const=True, dest="disabled")
    state.add_argument("--enable", action="store_const", const=False, dest="disabled")
    show = unit.add_parser("show", help="show one unit")
    show.add_argument("sitekey")
    show.add_argument("--json", action="store_true", help="print JSON")
    listing = unit.add_parser("list", help="list units")
    listing.add_argument("--json", action="store_true", help="print JSON")
    stats = unit.add_parser("stats", help="a unit's statistics (UTC), per hour or per day")
    stats.add_argument("sitekey")
    stats.add_argument("--days", type=int, default=7, help="how far back (1..366, default 7)")
    stats.add_argument("--by", choices=("hour", "day"), default="day")
    output = stats.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON with a breakdown")
    output.add_argument("--csv", action="store_true", help="print every hourly counter as CSV")
    rotate = unit.add_parser("rotate-secret", help="issue a new secret; the old one keeps working")
    rotate.add_argument("sitekey")
    rotate.add_argument("--grace-hours", type=float, default=None)
    rotate.add_argument("--json", action="store_true", help="print JSON")
    _add_operator_commands(commands)
    return parser


def _add_operator_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """`account cancel` and `notice`: the operator's tools, audited with the actor `operator`."""
    account = commands.add_parser("account", help="act on one console account")
    actions = account.add_subparsers(dest="account_command", required=True)
    cancel = actions.add_parser(
        "cancel", help="cancel an account for good, when the law or an authority requires it"
    )
    cancel.add_argument("identifier", help="the account's e-mail address, phone number or #id")
    cancel.add_argument("--reason", required=True, help="sent to the owner, kept in the audit log")
    cancel.add_argument(
        "--yes", action="store_true", help="skip typing the account's identifier to confirm"
    )
    cancel.add_argument("--json", action="store_true", help="print JSON")
    notice = commands.add_parser(
        "notice", help="put a notice in every active owner's inbox and send it by e-mail or SMS"
    )
    notice.add_argument("--all", action="store_true", required=True, help="every active owner")
    notice.add_argument("--title", required=True, help="at most 200 characters")
    notice.add_argument("--body", required=True, help="a blank line starts a new paragraph")
    notice.add_argument("--admins", action="store_true", help="also to administrators")
    notice.add_argument(
        "--blocked", action="store_true", help="also to suspended and banned owners"
    )
    notice.add_argument("--json", action="store_true", help="print JSON")


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


def _unit_row(unit: UnitView) -> dict[str, Any]:
    return {
        "sitekey": unit.sitekey,
        "name": unit.name,
        "domains": list(unit.domains),
        "mode": unit.mode,
        "kinds": list(unit.kinds),
        "difficulty": unit.difficulty,
        "pow_difficulty": unit.pow_difficulty,
        "disabled": unit.disabled,
        "threshold": unit.score_threshold,
        "calibrated_threshold": unit.calibrated_threshold,
        "allow": list(unit.allow_networks),
        "deny": list(unit.deny_networks),
        "good_bots": list(unit.good_bots),
    }


def _unit_text(row: dict[str, Any]) -> str:
    state = "disabled" if row["disabled"] else row["mode"]
    kinds = ",".join(row["kinds"])
    return (
        f"{row['sitekey']}  {state:<11}  {kinds}@{row['difficulty']}  {row['name']}  "
        + ",".join(row["domains"])
    )


def _changes(args: argparse.Namespace) -> unit_db.UnitChanges:
    """Check the unit fields given on the command line; raises ValueError with a sentence."""
    return unit_db.UnitChanges(
        name=None if args.name is None else check_name(args.name),
        domains=check_domains(args.domains) if args.domains else None,
        mode=args.mode,
        kinds=normalize_kinds(args.kinds) if args.kinds else None,
        difficulty=_maybe(check_difficulty, args.difficulty),
        pow_difficulty=_maybe(check_pow_difficulty, args.pow_difficulty),
        disabled=getattr(args, "disabled", None),
        score_threshold=_maybe(check_threshold, args.threshold),
        allow_networks=_networks(args.allow_networks, "--allow"),
        deny_networks=_networks(args.deny_networks, "--deny"),
        good_bots=_good_bots(args.good_bots),
    )


def _maybe(check: Callable[[T], T], value: T | None) -> T | None:
    return None if value is None else check(value)


def _networks(values: list[str] | None, option: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    if values == ["none"]:
        return ()
    try:
        return tuple(str(network) for network in parse_networks(values))
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from exc


def _good_bots(values: list[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    if values == ["none"]:
        return ()
    unknown = sorted(set(values) - set(CRAWLERS))
    if unknown:
        known = ", ".join(CRAWLERS)
        raise ValueError(f"--good-bot: unknown crawler {unknown[0]!r}; known: {known}.")
    return tuple(sorted(set(values)))


def _unit_create(args: argparse.Namespace, settings: Settings) -> int:
    changes = _changes(args)

    async def create(session: AsyncSession) -> unit_db.CreatedUnit:
        created = await unit_db.create_unit(
            session,
            name=args.name,
            domains=changes.domains or [],
            mode=args.mode,
            pow_difficulty=args.pow_difficulty,
            kinds=changes.kinds or DEFAULT_KINDS,
            difficulty=DEFAULT_DIFFICULTY if changes.difficulty is None else changes.difficulty,
        )
        await unit_db.update_unit(session, created.unit.sitekey, changes)
        return created

    created = asyncio.run(_with_session(settings, create))
    data = {"sitekey": created.unit.sitekey, "secret": created.secret}
    _print(data, args.json, f"sitekey: {data['sitekey']}\nsecret:  {data['secret']}  (shown once)")
    return 0


def _unit_update(args: argparse.Namespace, settings: Settings) -> int:
    changes = _changes(args)
    unit = asyncio.run(
        _with_session(settings, lambda s: unit_db.update_unit(s, args.sitekey, changes))
    )
    return _show(unit, args)


def _unit_show(args: argparse.Namespace, settings: Settings) -> int:
    unit = asyncio.run(
        _with_session(settings, lambda s: unit_db.get_unit_by_sitekey(s, args.sitekey))
    )
    return _show(unit, args)


def _show(unit: UnitView | None, args: argparse.Namespace) -> int:
    if unit is None:
        print(f"error: no unit has the site key {args.sitekey!r}.", file=sys.stderr)
        return 1
    row = _unit_row(unit)
    _print(row, args.json, _unit_text(row))
    return 0


def _unit_list(args: argparse.Namespace, settings: Settings) -> int:
    rows = [_unit_row(u) for u in asyncio.run(_with_session(settings, unit_db.list_units))]
    _print(rows, args.json, "\n".join(_unit_text(r) for r in rows) or "no units")
    return 0


def _unit_rotate(args: argparse.Namespace, settings: Settings) -> int:
    hours = args.grace_hours if args.grace_hours is not None else settings.secret_grace_hours
    if not 0 <= hours <= 24 * 90:
        raise ValueError("--grace-hours must be between 0 and 2160.")
    grace = timedelta(hours=hours)
    secret = asyncio.run(
        _with_session(settings, lambda s: unit_db.rotate_secret(s, args.sitekey, grace=grace))
    )
    if secret is None:
        print(f"error: no unit has the site key {args.sitekey!r}.", file=sys.stderr)
        return 1
    data = {"sitekey": args.sitekey, "secret": secret, "old_secret_valid_hours": hours}
    _print(data, args.json, f"secret: {secret}  (shown once; the old one works for {grace})")
    return 0


def _unit_stats(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.days <= 366:
        raise ValueError("--days must be between 1 and 366.")
    until = datetime.now(UTC)
    since = hour_of(until) - timedelta(days=args.days)

    async def read(session: AsyncSession) -> list[StatRow] | None:
        unit = await unit_db.get_unit_by_sitekey(session, args.sitekey)
        if unit is None:
            return None
        return await stats_db.unit_stats(session, [unit.id], since=since, until=until)

    rows = asyncio.run(_with_session(settings, read))
    if rows is None:
        print(f"error: no unit has the site key {args.sitekey!r}.", file=sys.stderr)
        return 1
    table = periods(rows, by=args.by)
    if args.csv:
        sys.stdout.write(to_csv(rows))
    elif args.json:
        print(json.dumps({"periods": table, "breakdown": breakdown(rows)}))
    else:
        print(f"{'period (UTC)':<18}" + "".join(f"{m:>14}" for m in METRICS))
        for period in table:
            print(f"{period['period']:<18}" + "".join(f"{period[m]:>14}" for m in METRICS))
        if not table:
            print("no activity")
    return 0


_UNIT_COMMANDS = {
    "stats": _unit_stats,
    "create": _unit_create,
    "update": _unit_update,
    "show": _unit_show,
    "list": _unit_list,
    "rotate-secret": _unit_rotate,
}


def _account_cancel(args: argparse.Namespace, settings: Settings) -> int:
    from humangate.console._messages import deliver  # the console is heavy to import

    context = AccountContext.create(store=MemoryStore(), server_key=settings.resolve_secret_key())
    account = asyncio.run(
        _with_session(settings, lambda s: find_account_by(context, s, args.identifier))
    )
    shown = account.email or account.phone or f"#{account.id}"
    if not args.yes and not _confirmed(account.id, shown):
        print("error: not confirmed; nothing was cancelled.", file=sys.stderr)
        return 2

    async def cancel(session: AsyncSession) -> Cancelled:
        now = datetime.now(UTC)
        return await cancel_account_as_operator(
            context, session, account.id, reason=args.reason, now=now
        )

    done = asyncio.run(_with_session(settings, cancel))
    templates, channels = MessageTemplates.from_settings(settings), channels_from_settings(settings)
    delivered = asyncio.run(deliver(templates, channels, done.outgoing))
    data = {
        "account_id": done.account_id,
        "units_deleted": done.units_deleted,
        "held_until": done.held_until.isoformat(),
        "delivered": delivered,
    }
    text = (
        f"account #{done.account_id} ({shown}) cancelled with {done.units_deleted} units; "
        f"its identifiers are held until {done.held_until:%Y-%m-%d %H:%M} UTC"
    )
    _print(data, args.json, text)
    if not delivered:
        print("error: the owner's message was not delivered; the log says why.", file=sys.stderr)
        return 1
    return 0


def _confirmed(account_id: int, shown: str) -> bool:
    """Ask on stderr for the account's identifier, read from stdin (a prompt or a pipe)."""
    print(
        f"This erases account #{account_id} ({shown}) and everything it holds; it cannot be "
        "undone. Type its e-mail address or phone number to confirm: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    return sys.stdin.readline().strip().lower() == shown.lower()


def _notice(args: argparse.Namespace, settings: Settings) -> int:
    from humangate.console.notices import deliver_broadcast, write_broadcast

    templates, channels = MessageTemplates.from_settings(settings), channels_from_settings(settings)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        async with sessions() as session:
            broadcast = await write_broadcast(
                session,
                title=args.title,
                body=args.body,
                admins=args.admins,
                blocked=args.blocked,
                actor=audit.OPERATOR,
                ip=None,
                now=datetime.now(UTC),
            )
        report = await deliver_broadcast(sessions, templates, channels, broadcast)
        return {
            "ref": broadcast.ref,
            "recipients": broadcast.recipients,
            "sent": report.sent,
            "failed": report.failed,
            "stopped": report.stopped,
        }

    data = asyncio.run(_with_sessions(settings, work))
    text = (
        f"notice {data['ref']} is in {data['recipients']} inboxes; "
        f"sent {data['sent']} messages, {data['failed']} failed"
    )
    _print(data, args.json, text)
    if data["failed"] or data["stopped"]:
        print("error: some messages were not delivered; the log says why.", file=sys.stderr)
        return 1
    return 0


async def _with_sessions(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[Any]]
) -> Any:
    """`_with_session` for work that opens several sessions (one per batch)."""
    engine = create_engine(settings.resolved_database_url)
    try:
        if settings.auto_migrate:
            await migrate(engine)
        return await work(create_sessionmaker(engine))
    finally:
        await engine.dispose()


def _read_password() -> str:
    """From a prompt (asked twice) on a terminal, else the first line of stdin; never argv."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise ValueError("The two passwords differ.")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _create_admin(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password()
    context = AccountContext.create(store=MemoryStore(), server_key=settings.resolve_secret_key())

    async def create(session: AsyncSession) -> AccountView:
        return await create_admin(context, session, args.email, password, now=datetime.now(UTC))

    admin = asyncio.run(_with_session(settings, create))
    print(f"administrator {admin.email} created (account {admin.id})")
    return 0


def _housekeeping(args: argparse.Namespace, settings: Settings) -> int:
    # The console is heavy to import: only this command loads it.
    from humangate.console.housekeeping import housekeep, retention_from_settings

    cancel = settings.cancel_inactive if args.cancel_inactive is None else args.cancel_inactive
    context = AccountContext.create(store=MemoryStore(), server_key=settings.resolve_secret_key())
    channels = channels_from_settings(settings)
    templates = MessageTemplates.from_settings(settings)
    retention = retention_from_settings(settings)

    async def work(session: AsyncSession) -> tuple[HousekeepingReport, bool]:
        now = datetime.now(UTC)
        return await housekeep(
            context,
            session,
            templates,
            channels,
            now=now,
            cancel_inactive=cancel,
            retention=retention,
        )

    report, delivered = asyncio.run(_with_session(settings, work))
    data = {**report.as_dict(), "cancel_inactive": cancel, "delivered": delivered}
    off = "" if cancel else " (cancellation is off)"
    text = (
        f"warned {len(report.warned)} inactive accounts, cancelled {len(report.cancelled)}{off}\n"
        f"sent {len(report.outgoing)} messages\n"
        f"purged {report.purged_pending} unconfirmed sign-ups, {report.purged_sessions} sessions, "
        f"{report.purged_codes} codes, {report.purged_holds} holds\n"
        f"purged {report.purged_audit} audit entries, {report.purged_devices} unused devices, "
        f"{report.purged_notices} read notices past their retention"
    )
    _print(data, args.json, text)
    if not delivered:
        print("error: some messages were not delivered; the log says why.", file=sys.stderr)
        return 1
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
        if args.command == "outbox":
            return outbox_cli(args, settings)
        if args.command == "create-admin":
            return _create_admin(args, settings)
        if args.command == "housekeeping":
            return _housekeeping(args, settings)
        if args.command == "account":
            return _account_cancel(args, settings)
        if args.command == "notice":
            return _notice(args, settings)
        return _UNIT_COMMANDS[args.unit_command](args, settings)
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
