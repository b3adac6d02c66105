"""`humangate billing balance | top-up | adjust | refund | voucher issue | list | void`: an
operator's money actions at the shell, audited as `operator` (docs/billing.md, "Billing from the
command line")."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.billing import ledger, topups, vouchers
from humangate.billing.running_out import balance_announcer
from humangate.cli._common import Subparsers, print_result, run_with_services
from humangate.config import Settings
from humangate.errors import InvalidInput

if TYPE_CHECKING:
    from humangate.services import CoreServices

T = TypeVar("T")
SHOWN_ONCE = "Codes are shown this once: only their digests are stored."


def register(commands: Subparsers) -> None:
    billing = commands.add_parser("billing", help="owners' balances, top-ups and vouchers")
    actions = billing.add_subparsers(dest="billing_command", required=True)
    balance = actions.add_parser("balance", help="an owner's balance, plan and vouchers")
    balance.add_argument("account", help="the owner's e-mail address, phone number or #id")
    balance.add_argument("--json", action="store_true", help="print JSON")
    balance.set_defaults(run=run_balance)
    for name, help_text in (
        ("top-up", "credit an owner's cash (a payment received by other means)"),
        ("adjust", "correct an owner's cash up or down (signed AMOUNT), with a reason"),
        ("refund", "pay an owner's cash back"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("account", help="the owner's e-mail address, phone number or #id")
        action.add_argument("amount", type=int, help="minor units")
        action.add_argument(
            "--reason" if name == "adjust" else "--memo",
            dest="memo",
            required=name == "adjust",
            default="",
            help="shown on the owner's statement and kept in the audit log",
        )
        action.add_argument(
            "--request-id",
            help="repeat a command with the same id and the money moves once (8-64 of A-Z a-z "
            "0-9 _ -); default: a new one",
        )
        action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(run=run_money, action="adjustment" if name == "adjust" else name)
    _register_vouchers(actions)


def _register_vouchers(actions: Subparsers) -> None:
    voucher = actions.add_parser("voucher", help="issue, list and void vouchers").add_subparsers(
        dest="voucher_command", required=True
    )
    issue = voucher.add_parser("issue", help="issue codes (shown once) or grant an owner")
    issue.add_argument("--amount", type=int, required=True, help="minor units per voucher")
    expiry = issue.add_mutually_exclusive_group(required=True)
    expiry.add_argument("--days", type=int, help="valid this many days from now")
    expiry.add_argument("--expires", metavar="ISO-TIME", help="e.g. 2027-01-31T23:59:59+08:00")
    issue.add_argument("--count", type=int, default=1, help="codes in the batch (default 1)")
    issue.add_argument("--batch", metavar="LABEL", help="the batch's label (needed for --count)")
    issue.add_argument("--account", help="grant this owner directly (no code)")
    issue.add_argument("--json", action="store_true", help="print JSON")
    issue.set_defaults(run=run_issue)
    listing = voucher.add_parser("list", help="vouchers, newest first")
    listing.add_argument("--batch", metavar="LABEL")
    listing.add_argument("--account")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=run_list)
    void = voucher.add_parser("void", help="void a voucher, or a batch's unredeemed codes")
    target = void.add_mutually_exclusive_group(required=True)
    target.add_argument("--id", type=int, dest="voucher_id")
    target.add_argument("--batch", metavar="LABEL")
    void.add_argument("--json", action="store_true", help="print JSON")
    void.set_defaults(run=run_void)


def _with_account(
    settings: Settings,
    who: str | None,
    work: Callable[[CoreServices, AsyncSession, int | None], Awaitable[T]],
) -> T:
    """Run `work` in a session, with the id of the account `who` names (None when not given)."""

    async def run(services: CoreServices) -> T:
        from humangate.accounts import find_account_by

        async with services.sessions() as session:
            account = (
                None if who is None else await find_account_by(services.accounts, session, who)
            )
            return await work(services, session, None if account is None else account.id)

    return run_with_services(settings, run)


def balance_row(account_id: int, held: ledger.Balance, plan: ledger.PlanView) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "plan": plan.name,
        "edition": plan.edition,
        "credit_limit": plan.credit_limit,
        "cash": held.cash,
        "vouchers": [
            {
                "voucher_id": voucher.voucher_id,
                "remaining": voucher.remaining,
                "expires_at": voucher.expires_at.isoformat(),
            }
            for voucher in held.vouchers
        ],
        "total": held.total,
    }


def run_balance(args: argparse.Namespace, settings: Settings) -> int:
    async def read(
        _: CoreServices, session: AsyncSession, account_id: int | None
    ) -> dict[str, Any]:
        assert account_id is not None
        now = datetime.now(UTC)
        plan = await ledger.plan_of(session, account_id, now=now)
        held = await ledger.balance(session, account_id, now=now)
        await session.commit()  # the billing account, opened on first need
        return balance_row(account_id, held, plan)

    row = _with_account(settings, args.account, read)
    currency = settings.billing_currency
    lines = [
        f"account #{row['account_id']}  plan {row['plan']} ({row['edition']})",
        f"total {row['total']} {currency}: cash {row['cash']}",
        *(
            f"  voucher #{v['voucher_id']}: {v['remaining']} until {v['expires_at']}"
            for v in row["vouchers"]
        ),
    ]
    print_result(row, args.json, "\n".join(lines))
    return 0


def run_money(args: argparse.Namespace, settings: Settings) -> int:
    request_id = args.request_id or topups.new_request_id()

    async def move(core: CoreServices, session: AsyncSession, account_id: int | None) -> bool:
        assert account_id is not None
        moved = await topups.apply(
            session,
            args.action,
            account_id,
            args.amount,
            request_id=request_id,
            actor=audit.OPERATOR,
            now=datetime.now(UTC),
            memo=args.memo,
        )
        if moved:
            announce = balance_announcer(
                core.sessions, core.settings, core.message_templates, core.channels
            )
            await announce(account_id)
        return moved

    moved = _with_account(settings, args.account, move)
    data = {"action": args.action, "amount": args.amount, "request_id": request_id, "moved": moved}
    text = (
        f"{args.action} of {args.amount} {settings.billing_currency} done (request {request_id})"
        if moved
        else f"request {request_id} was done before; nothing changed"
    )
    print_result(data, args.json, text)
    return 0


def _expiry(args: argparse.Namespace, now: datetime) -> datetime:
    if args.days is not None:
        if not 1 <= args.days <= vouchers.MAX_DAYS:
            raise InvalidInput(f"--days is 1 to {vouchers.MAX_DAYS}.")
        return now + timedelta(days=args.days)
    try:
        moment = datetime.fromisoformat(args.expires)
    except ValueError:
        raise InvalidInput("--expires is an ISO 8601 time such as 2027-01-31T23:59:59Z.") from None
    if moment.tzinfo is None:
        raise InvalidInput("--expires needs a time zone, e.g. Z or +08:00.")
    return moment.astimezone(UTC)


def run_issue(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    expires_at = _expiry(args, now)
    if args.account is not None and (args.count != 1 or args.batch is not None):
        raise InvalidInput("A grant (--account) is one voucher, without --count or --batch.")

    async def issue(
        services: CoreServices, session: AsyncSession, account_id: int | None
    ) -> list[vouchers.IssuedVoucher]:
        if account_id is not None:
            granted = await vouchers.grant(
                session,
                account_id,
                amount=args.amount,
                expires_at=expires_at,
                actor=audit.OPERATOR,
                now=now,
            )
            return [vouchers.IssuedVoucher(granted, None)]
        return await vouchers.issue_codes(
            session,
            server_key=services.key,
            amount=args.amount,
            expires_at=expires_at,
            actor=audit.OPERATOR,
            now=now,
            count=args.count,
            batch=args.batch,
        )

    issued = _with_account(settings, args.account, issue)
    rows = [{**item.voucher.as_dict(now), "code": item.code} for item in issued]
    if args.account is not None:
        until = f"{expires_at:%Y-%m-%d %H:%M} UTC"
        text = f"voucher #{rows[0]['id']} of {args.amount} granted, until {until}"
    else:
        text = "\n".join(str(row["code"]) for row in rows) + f"\n{SHOWN_ONCE}"
    print_result({"vouchers": rows, "note": SHOWN_ONCE}, args.json, text)
    return 0


def _voucher_text(row: dict[str, Any]) -> str:
    owner = "-" if row["account_id"] is None else f"#{row['account_id']}"
    return (
        f"#{row['id']}  {row['status']:<10}  {row['amount']:>10}  until {row['expires_at']}  "
        f"{row['batch'] or row['kind']}  {owner}"
    )


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)

    async def listing(
        _: CoreServices, session: AsyncSession, account_id: int | None
    ) -> list[vouchers.VoucherView]:
        return await vouchers.list_vouchers(session, batch=args.batch, account_id=account_id)

    rows = [v.as_dict(now) for v in _with_account(settings, args.account, listing)]
    print_result(rows, args.json, "\n".join(_voucher_text(row) for row in rows) or "no vouchers")
    return 0


def run_void(args: argparse.Namespace, settings: Settings) -> int:
    async def void(_: CoreServices, session: AsyncSession, __: int | None) -> int:
        return await vouchers.void(
            session,
            actor=audit.OPERATOR,
            now=datetime.now(UTC),
            voucher_id=args.voucher_id,
            batch=args.batch,
        )

    done = _with_account(settings, None, void)
    print_result({"voided": done}, args.json, f"{done} vouchers voided")
    return 0
