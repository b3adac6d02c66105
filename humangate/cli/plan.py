"""`humangate plan create | list | update | set-default | assign`: billing plans and their prices
(docs/billing.md, "Billing from the command line")."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.billing import plans
from humangate.billing.ledger import PlanView
from humangate.cli._common import Subparsers, print_result, run_in_session, run_with_services
from humangate.config import Settings
from humangate.errors import InvalidInput
from humangate.text import is_ascii_digits

if TYPE_CHECKING:
    from humangate.services import CoreServices


def register(commands: Subparsers) -> None:
    plan = commands.add_parser("plan", help="manage billing plans and prices").add_subparsers(
        dest="plan_command", required=True
    )
    create = plan.add_parser("create", help="create a plan")
    create.add_argument("name")
    create.add_argument("--edition", choices=plans.EDITIONS, default="standard")
    _add_prices(create)
    create.add_argument("--default", action="store_true", help="new owners start on it")
    create.set_defaults(run=run_create)
    update = plan.add_parser("update", help="change a plan; prices are merged")
    update.add_argument("name")
    update.add_argument("--rename", metavar="NAME", help="a new name")
    update.add_argument("--edition", choices=plans.EDITIONS)
    _add_prices(update)
    update.add_argument("--clear-prices", action="store_true", help="start from no prices")
    update.set_defaults(run=run_update)
    listing = plan.add_parser("list", help="list plans")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)
    default = plan.add_parser("set-default", help="the plan new owners start on")
    default.add_argument("name")
    default.add_argument("--json", action="store_true", help="print JSON")
    default.set_defaults(run=run_set_default)
    assign = plan.add_parser("assign", help="move an owner to a plan")
    assign.add_argument("account", help="the owner's e-mail address, phone number or #id")
    assign.add_argument("name")
    assign.add_argument("--json", action="store_true", help="print JSON")
    assign.set_defaults(run=run_assign)


def _add_prices(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--price",
        action="append",
        dest="prices",
        metavar="ITEM=AMOUNT",
        help="minor units per challenge, verify, email, sms:CC, sms:* or carrier:* (repeat); "
        "an empty AMOUNT removes the item",
    )
    command.add_argument("--credit-limit", type=int, help="minor units the balance may go below 0")
    command.add_argument("--json", action="store_true", help="print JSON")


def parse_prices(values: list[str]) -> dict[str, int | None]:
    """`ITEM=AMOUNT` options as a mapping (None for `ITEM=`, which removes the item)."""
    prices: dict[str, int | None] = {}
    for value in values:
        item, sep, amount = value.partition("=")
        if not sep:
            raise InvalidInput("A --price is ITEM=AMOUNT, e.g. challenge=2 or sms:CN=50.")
        amount = amount.strip()
        if amount and not is_ascii_digits(amount):
            raise InvalidInput(f"The price of {item.strip()[:40]!r} is not a whole number.")
        prices[item.strip()] = int(amount) if amount else None
    return prices


def _plan_text(row: dict[str, Any]) -> str:
    prices = ", ".join(f"{item}={price}" for item, price in row["prices"].items()) or "free"
    default = "  (default)" if row["is_default"] else ""
    return f"{row['name']}  {row['edition']:<10}  credit {row['credit_limit']}  {prices}{default}"


def _show(plan: PlanView, args: argparse.Namespace) -> int:
    row = plans.plan_row(plan)
    print_result(row, args.json, _plan_text(row))
    return 0


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    given = parse_prices(args.prices or [])
    prices = {item: price for item, price in given.items() if price is not None}
    plan = run_in_session(
        settings,
        lambda session: plans.create_plan(
            session,
            name=args.name,
            edition=args.edition,
            prices=prices,
            credit_limit=args.credit_limit or 0,
            make_default=args.default,
            now=datetime.now(UTC),
            actor=audit.OPERATOR,
        ),
    )
    return _show(plan, args)


def run_update(args: argparse.Namespace, settings: Settings) -> int:
    given = parse_prices(args.prices or [])

    async def update(session: AsyncSession) -> PlanView:
        prices = None
        if given or args.clear_prices:
            current = (
                {} if args.clear_prices else dict((await plans.get_plan(session, args.name)).prices)
            )
            for item, price in given.items():
                if price is None:
                    current.pop(plans.check_item(item), None)
                else:
                    current[item] = price
            prices = current
        return await plans.update_plan(
            session,
            args.name,
            new_name=args.rename,
            edition=args.edition,
            prices=prices,
            credit_limit=args.credit_limit,
            actor=audit.OPERATOR,
            now=datetime.now(UTC),
        )

    return _show(run_in_session(settings, update), args)


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    rows = [plans.plan_row(plan) for plan in run_in_session(settings, plans.list_plans)]
    print_result(rows, args.json, "\n".join(_plan_text(row) for row in rows) or "no plans")
    return 0


def run_set_default(args: argparse.Namespace, settings: Settings) -> int:
    plan = run_in_session(
        settings,
        lambda session: plans.set_default_plan(
            session, args.name, actor=audit.OPERATOR, now=datetime.now(UTC)
        ),
    )
    return _show(plan, args)


def run_assign(args: argparse.Namespace, settings: Settings) -> int:
    async def assign(services: CoreServices) -> tuple[int, PlanView]:
        from humangate.accounts import find_account_by

        async with services.sessions() as session:
            account = await find_account_by(services.accounts, session, args.account)
            plan = await plans.assign_plan(
                session, account.id, args.name, now=datetime.now(UTC), actor=audit.OPERATOR
            )
            return account.id, plan

    account_id, plan = run_with_services(settings, assign)
    data = {"account_id": account_id, "plan": plans.plan_row(plan)}
    print_result(data, args.json, f"account #{account_id} is on plan {plan.name}")
    return 0
