"""`humangate app create | list | show | update | rotate-secret | delete`: apps of the
verification API (docs/verify.md, "Apps from the command line")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.cli._common import Subparsers, fail, print_result, run_with_services
from humangate.config import Settings
from humangate.db import verify_apps as apps
from humangate.db.accounts import aware
from humangate.errors import InvalidInput, NotFound
from humangate.verify.apps import CAP_LIMITS, CHANNELS, AppChanges, AppView

if TYPE_CHECKING:
    from humangate.services import CoreServices

T = TypeVar("T")
SHOWN_ONCE = "The secret is shown this once: only a sealed copy is stored, which no command shows."


def register(commands: Subparsers) -> None:
    app = commands.add_parser("app", help="manage apps of the verification API").add_subparsers(
        dest="app_command", required=True
    )
    create = app.add_parser("create", help="create an app; prints its secret once")
    create.add_argument("--account", metavar="EMAIL", help="the owner; none: the operator's app")
    _add_app_fields(create, creating=True)
    create.set_defaults(run=run_create)
    update = app.add_parser("update", help="change an app's settings")
    update.add_argument("app_key")
    _add_app_fields(update, creating=False)
    state = update.add_mutually_exclusive_group()
    state.add_argument("--disable", action="store_const", const=True, dest="disabled")
    state.add_argument("--enable", action="store_const", const=False, dest="disabled")
    update.set_defaults(run=run_update)
    show = app.add_parser("show", help="show one app")
    show.add_argument("app_key")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=run_show)
    listing = app.add_parser("list", help="list apps, oldest first")
    listing.add_argument("--account", metavar="EMAIL", help="only this owner's apps")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)
    rotate = app.add_parser("rotate-secret", help="issue a new secret; the old one works a while")
    rotate.add_argument("app_key")
    rotate.add_argument(
        "--grace-hours",
        type=float,
        default=apps.DEFAULT_GRACE_HOURS,
        help="how long the old secret keeps working, 0..168 (default 24)",
    )
    rotate.add_argument("--json", action="store_true", help="print JSON")
    rotate.set_defaults(run=run_rotate)
    delete = app.add_parser("delete", help="delete an app with its verifications and usage")
    delete.add_argument("app_key")
    delete.add_argument("--yes", action="store_true", help="skip typing the app key to confirm")
    delete.add_argument("--json", action="store_true", help="print JSON")
    delete.set_defaults(run=run_delete)


def _add_app_fields(command: argparse.ArgumentParser, *, creating: bool) -> None:
    command.add_argument("--name", required=creating)
    command.add_argument(
        "--channel",
        action="append",
        dest="channels",
        choices=CHANNELS,
        help="a channel the app may use (repeat; replaces the list); default: sms, email",
    )
    command.add_argument(
        "--country",
        action="append",
        dest="countries",
        metavar="CC",
        help="a country SMS may go to, e.g. CN (repeat or comma list; replaces the list; "
        "'none' empties it); none at first",
    )
    carriers = command.add_mutually_exclusive_group()
    carriers.add_argument(
        "--three-carriers-only",
        action="store_const",
        const=True,
        dest="three_carriers_only",
        help="Chinese numbers only on China Mobile, Unicom and Telecom",
    )
    carriers.add_argument(
        "--any-carrier",
        action="store_const",
        const=False,
        dest="three_carriers_only",
        help="numbers on any carrier (the default)",
    )
    command.add_argument(
        "--virtual",
        action=argparse.BooleanOptionalAction,
        dest="allow_virtual",
        help="accept virtual-operator numbers (default yes)",
    )
    command.add_argument("--code-length", type=int, help="digits of a code, 4..10 (default 6)")
    command.add_argument("--code-ttl", type=int, help="seconds a code lives, 60..3600 (600)")
    command.add_argument(
        "--template",
        action="append",
        dest="templates",
        metavar='LOCALE="TEXT"',
        help="the message for en or zh-CN, naming {code} once ({app}, {minutes} at will); "
        "an empty TEXT removes it",
    )
    command.add_argument(
        "--require-token",
        action=argparse.BooleanOptionalAction,
        help="a start must carry a pass token of the app's unit (default yes)",
    )
    sitekey = command.add_mutually_exclusive_group()
    sitekey.add_argument("--sitekey", help="the unit whose pass tokens a start carries")
    sitekey.add_argument("--no-sitekey", action="store_true", help="forget the unit")
    for name, (low, high) in CAP_LIMITS.items():
        command.add_argument(
            "--" + name.replace("_", "-"), type=int, dest=name, help=f"{low}..{high}"
        )
    command.add_argument("--json", action="store_true", help="print JSON")


def parse_templates(values: list[str]) -> dict[str, str]:
    """`LOCALE=TEXT` options as a mapping; raises InvalidInput for one without `=`."""
    templates: dict[str, str] = {}
    for value in values:
        locale, sep, text = value.partition("=")
        if not sep:
            raise InvalidInput('A --template is LOCALE="TEXT", e.g. en="Your code is {code}".')
        templates[locale.strip()] = text
    return templates


def _countries(values: list[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return () if [part.lower() for part in parts] == ["none"] else tuple(parts)


def app_changes(args: argparse.Namespace, templates: dict[str, str] | None) -> AppChanges:
    """The options given, unchecked (the db functions check them); `templates` is the whole
    mapping the app will hold, or None to leave it."""
    return AppChanges(
        name=args.name,
        channels=None if args.channels is None else tuple(args.channels),
        countries=_countries(args.countries),
        three_carriers_only=args.three_carriers_only,
        allow_virtual=args.allow_virtual,
        code_length=args.code_length,
        code_ttl=args.code_ttl,
        templates=templates,
        require_token=args.require_token,
        sitekey=args.sitekey,
        clear_sitekey=args.no_sitekey,
        caps={name: getattr(args, name) for name in CAP_LIMITS if getattr(args, name) is not None},
        disabled=getattr(args, "disabled", None),
    )


def app_row(app: AppView) -> dict[str, Any]:
    """An app as `--json` prints it; never a secret."""
    return {
        "app_key": app.app_key,
        "name": app.name,
        "account_id": app.account_id,
        "channels": list(app.channels),
        "countries": list(app.countries),
        "three_carriers_only": app.three_carriers_only,
        "allow_virtual": app.allow_virtual,
        "code_length": app.code_length,
        "code_ttl": app.code_ttl,
        "templates": dict(app.templates),
        "require_token": app.require_token,
        "sitekey": app.sitekey,
        **{name: getattr(app, name) for name in CAP_LIMITS},
        "disabled": app.disabled,
        "created_at": aware(app.created_at).isoformat(),
    }


def _app_text(row: dict[str, Any]) -> str:
    owner = "operator" if row["account_id"] is None else f"account #{row['account_id']}"
    return (
        f"{row['app_key']}  {'disabled' if row['disabled'] else 'enabled':<8}  "
        f"{','.join(row['channels']) or '-'}  {','.join(row['countries']) or '-'}  "
        f"{owner}  {row['name']}"
    )


def _no_app(app_key: str) -> int:
    return fail(f"no app has the key {app_key[:64]!r}.")


def _in_session(
    settings: Settings, work: Callable[[CoreServices, AsyncSession], Awaitable[T]]
) -> T:
    async def run(services: CoreServices) -> T:
        async with services.sessions() as session:
            return await work(services, session)

    return run_with_services(settings, run)


async def _owner_id(services: CoreServices, session: AsyncSession, who: str | None) -> int | None:
    from humangate.accounts import find_account_by

    return None if who is None else (await find_account_by(services.accounts, session, who)).id


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    templates = parse_templates(args.templates or [])
    changes = app_changes(args, templates or None)

    async def create(services: CoreServices, session: AsyncSession) -> apps.CreatedApp:
        owner = await _owner_id(services, session, args.account)
        now = datetime.now(UTC)
        return await apps.create_app(
            session, changes, account_id=owner, server_key=services.key, now=now
        )

    created = _in_session(settings, create)
    data = {**app_row(created.app), "secret": created.secret, "note": SHOWN_ONCE}
    text = f"app key: {created.app.app_key}\nsecret:  {created.secret}\n{SHOWN_ONCE}"
    print_result(data, args.json, text)
    return 0


def run_update(args: argparse.Namespace, settings: Settings) -> int:
    given = parse_templates(args.templates) if args.templates else None

    async def update(_: CoreServices, session: AsyncSession) -> AppView:
        templates = None
        if given is not None:
            current = await apps.get_app(session, args.app_key)
            # Named locales change; the others stay. An empty text removes its locale.
            templates = {**(current.templates if current else {}), **given}
        return await apps.update_app(session, args.app_key, app_changes(args, templates))

    try:
        app = _in_session(settings, update)
    except NotFound:
        return _no_app(args.app_key)
    return _show(app, args)


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    app = _in_session(settings, lambda _, session: apps.get_app(session, args.app_key))
    if app is None:
        return _no_app(args.app_key)
    return _show(app, args)


def _show(app: AppView, args: argparse.Namespace) -> int:
    row = app_row(app)
    print_result(row, args.json, _app_text(row))
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async def listing(services: CoreServices, session: AsyncSession) -> list[AppView]:
        owner = await _owner_id(services, session, args.account)
        return await apps.list_apps(session, account_id=owner)

    rows = [app_row(app) for app in _in_session(settings, listing)]
    print_result(rows, args.json, "\n".join(_app_text(row) for row in rows) or "no apps")
    return 0


def run_rotate(args: argparse.Namespace, settings: Settings) -> int:
    hours: float = args.grace_hours

    async def rotate(services: CoreServices, session: AsyncSession) -> str:
        return await apps.rotate_app_secret(
            session, args.app_key, server_key=services.key, now=datetime.now(UTC), grace_hours=hours
        )

    try:
        secret = _in_session(settings, rotate)
    except NotFound:
        return _no_app(args.app_key)
    data = {
        "app_key": args.app_key,
        "secret": secret,
        "old_secret_valid_hours": hours,
        "note": SHOWN_ONCE,
    }
    text = f"secret:  {secret}\n{SHOWN_ONCE} The old one works for {hours:g} more hours."
    print_result(data, args.json, text)
    return 0


def run_delete(args: argparse.Namespace, settings: Settings) -> int:
    app = _in_session(settings, lambda _, session: apps.get_app(session, args.app_key))
    if app is None:
        return _no_app(args.app_key)
    if not args.yes and not _confirmed(app):
        return fail("not confirmed; nothing was deleted.", 2)
    try:
        _in_session(settings, lambda _, session: apps.delete_app(session, args.app_key))
    except NotFound:
        return _no_app(args.app_key)
    data = {"app_key": app.app_key, "deleted": True}
    print_result(data, args.json, f"app {app.app_key} ({app.name}) deleted with its records")
    return 0


def _confirmed(app: AppView) -> bool:
    """Ask on stderr for the app key, read from stdin (a prompt or a pipe)."""
    print(
        f"This deletes app {app.app_key} ({app.name}), its secrets, verifications and usage; it "
        "cannot be undone. Type its app key to confirm: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    return sys.stdin.readline().strip() == app.app_key
