"""`humangate unit create | update | show | list | stats | rotate-secret`: verification units."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from humangate.cli._common import Subparsers, fail, print_result, run_in_session
from humangate.config import Settings
from humangate.risk.access import CRAWLERS
from humangate.risk.fingerprint import model_fingerprint
from humangate.stats import METRICS, breakdown, hour_of, periods, to_csv
from humangate.units import (
    DEFAULT_POW_DIFFICULTY,
    MAX_DIFFICULTY,
    MODES,
    VISUAL_KINDS,
    UnitChanges,
    UnitView,
    parse_unit_input,
    unit_settings,
)
from humangate.units import service as units


def register(commands: Subparsers) -> None:
    unit = commands.add_parser("unit", help="manage verification units").add_subparsers(
        dest="unit_command", required=True
    )
    create = unit.add_parser("create", help="create a unit; prints its secret once")
    _add_unit_fields(create, creating=True)
    create.set_defaults(run=run_create)
    update = unit.add_parser("update", help="change a unit's settings")
    update.add_argument("sitekey")
    _add_unit_fields(update, creating=False)
    state = update.add_mutually_exclusive_group()
    state.add_argument("--disable", action="store_const", const=True, dest="disabled")
    state.add_argument("--enable", action="store_const", const=False, dest="disabled")
    mark = update.add_mutually_exclusive_group()
    mark.add_argument(
        "--hide-mark",
        action="store_const",
        const=True,
        dest="hide_mark",
        help="the widget leaves the HumanGate name out (enterprise edition, when billing is on)",
    )
    mark.add_argument("--show-mark", action="store_const", const=False, dest="hide_mark")
    update.set_defaults(run=run_update)
    show = unit.add_parser("show", help="show one unit")
    show.add_argument("sitekey")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=run_show)
    listing = unit.add_parser("list", help="list units")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)
    _register_stats(unit)
    rotate = unit.add_parser("rotate-secret", help="issue a new secret; the old one keeps working")
    rotate.add_argument("sitekey")
    rotate.add_argument("--grace-hours", type=float, default=None)
    rotate.add_argument("--json", action="store_true", help="print JSON")
    rotate.set_defaults(run=run_rotate)


def _register_stats(unit: Subparsers) -> None:
    stats = unit.add_parser("stats", help="a unit's statistics (UTC), per hour or per day")
    stats.add_argument("sitekey")
    stats.add_argument("--days", type=int, default=7, help="how far back (1..366, default 7)")
    stats.add_argument("--by", choices=("hour", "day"), default="day")
    output = stats.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON with a breakdown")
    output.add_argument("--csv", action="store_true", help="print every hourly counter as CSV")
    stats.set_defaults(run=run_stats)


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
    for option, dest, help_text in (
        ("--allow", "allow_networks", "a network that skips scoring"),
        ("--deny", "deny_networks", "a network refused outright"),
    ):
        command.add_argument(
            option,
            action="append",
            dest=dest,
            metavar="CIDR",
            help=f"{help_text} (repeat; replaces the list; 'none' empties it)",
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


def unit_changes(args: argparse.Namespace) -> UnitChanges:
    """The unit options given, checked; raises InvalidInput with a sentence naming the option."""
    return parse_unit_input(
        name=args.name,
        domains=args.domains,
        mode=args.mode,
        kinds=args.kinds,
        difficulty=args.difficulty,
        pow_difficulty=args.pow_difficulty,
        threshold=args.threshold,
        allow_networks=_emptied(args.allow_networks),
        deny_networks=_emptied(args.deny_networks),
        good_bots=_emptied(args.good_bots),
        disabled=getattr(args, "disabled", None),
        hide_mark=getattr(args, "hide_mark", None),
    )


def _emptied(values: list[str] | None) -> list[str] | None:
    """A list option's values, where a lone `none` spells the empty list."""
    return [] if values == ["none"] else values


def unit_row(unit: UnitView) -> dict[str, Any]:
    """A unit as `--json` prints it."""
    return {
        **unit_settings(unit),
        "threshold": unit.score_threshold,
        "calibrated_threshold": unit.calibrated_threshold,
        "threshold_outdated": unit.threshold_outdated(model_fingerprint()),
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


def _no_unit(sitekey: str) -> int:
    return fail(f"no unit has the site key {sitekey!r}.")


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    changes = unit_changes(args)
    created = run_in_session(settings, lambda session: units.create_unit(session, changes))
    data = {"sitekey": created.unit.sitekey, "secret": created.secret}
    text = f"sitekey: {data['sitekey']}\nsecret:  {data['secret']}  (shown once)"
    print_result(data, args.json, text)
    return 0


def run_update(args: argparse.Namespace, settings: Settings) -> int:
    changes = unit_changes(args)
    unit = run_in_session(
        settings, lambda session: units.update_unit(session, args.sitekey, changes)
    )
    return _show(unit, args)


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    unit = run_in_session(settings, lambda session: units.get_unit(session, args.sitekey))
    return _show(unit, args)


def _show(unit: UnitView | None, args: argparse.Namespace) -> int:
    if unit is None:
        return _no_unit(args.sitekey)
    row = unit_row(unit)
    print_result(row, args.json, _unit_text(row))
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    rows = [unit_row(unit) for unit in run_in_session(settings, units.list_units)]
    print_result(rows, args.json, "\n".join(_unit_text(r) for r in rows) or "no units")
    return 0


def run_rotate(args: argparse.Namespace, settings: Settings) -> int:
    hours = args.grace_hours if args.grace_hours is not None else settings.secret_grace_hours
    if not 0 <= hours <= 24 * 90:
        raise ValueError("--grace-hours must be between 0 and 2160.")
    grace = timedelta(hours=hours)
    secret = run_in_session(
        settings, lambda session: units.rotate_secret(session, args.sitekey, grace=grace)
    )
    if secret is None:
        return _no_unit(args.sitekey)
    data = {"sitekey": args.sitekey, "secret": secret, "old_secret_valid_hours": hours}
    print_result(data, args.json, f"secret: {secret}  (shown once; the old one works for {grace})")
    return 0


def run_stats(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.days <= 366:
        raise ValueError("--days must be between 1 and 366.")
    until = datetime.now(UTC)
    since = hour_of(until) - timedelta(days=args.days)
    rows = run_in_session(
        settings,
        lambda session: units.unit_stats(session, args.sitekey, since=since, until=until),
    )
    if rows is None:
        return _no_unit(args.sitekey)
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
