"""Operator-defined plans: an edition and a price per metered item, in minor units of the
deployment's currency (docs/billing.md, "Plans and prices").

Items are `challenge` (a challenge issued), `verify` (a token verified), `sms:CC` (a code sent
by SMS to the ISO 3166-1 country CC), `sms:*` (any country without its own price), `email` and
`carrier:*`; an item a plan does not name costs nothing. One plan is the default, which every
new billing account starts on. The first plan created is the default; when there is no plan at
all, the first owner's billing account creates a "standard" plan of the standard edition that
charges nothing (`ledger.default_plan`), so billing turned on never stops an owner before the
operator has set prices.

The functions take the caller's session; those that change plans commit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.billing.ledger import MAX_AMOUNT as MAX_AMOUNT
from humangate.billing.ledger import (
    PlanView,
    ensure_billing_account,
    is_minor_units,
    plan_view,
)
from humangate.db.models import Account, BillingPlan
from humangate.errors import InvalidInput, NotFound

Edition = Literal["standard", "enterprise"]
EDITIONS: tuple[Edition, ...] = get_args(Edition)
DEFAULT_PLAN_NAME = "standard"
MAX_ITEMS = 300
_PLAN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}")
_PLAIN_ITEMS = frozenset({"challenge", "verify", "email", "sms:*", "carrier:*"})
_COUNTRY = re.compile(r"[A-Z]{2}")


def plan_row(plan: PlanView) -> dict[str, object]:
    """A plan as `--json` prints it, prices sorted by item."""
    return {
        "id": plan.id,
        "name": plan.name,
        "edition": plan.edition,
        "prices": dict(sorted(plan.prices.items())),
        "credit_limit": plan.credit_limit,
        "is_default": plan.is_default,
    }


def check_item(item: str) -> str:
    """A metered item's name, with an SMS country upper-cased (`sms:cn` is `sms:CN`).

    Raises:
        InvalidInput: an item that is none of challenge, verify, email, sms:*, sms:CC,
            carrier:*, or a country that is not an ISO 3166-1 alpha-2 code.
    """
    from phonenumbers import SUPPORTED_REGIONS

    item = item.strip() if isinstance(item, str) else ""
    if item in _PLAIN_ITEMS:
        return item
    kind, sep, country = item.partition(":")
    # Matched before upper-casing: "ß".upper() is "SS", a country.
    if kind == "sms" and sep and re.fullmatch(r"[A-Za-z]{2}", country):
        if country.upper() in SUPPORTED_REGIONS:
            return f"sms:{country.upper()}"
        raise InvalidInput(
            f"{country!r} is not a country code such as CN, GB or US.",
            code="unknown-country",
            params={"country": country},
        )
    raise InvalidInput(
        f"{item[:40]!r} is not a metered item: challenge, verify, email, sms:CC (a country "
        "such as sms:CN), sms:* or carrier:*.",
        code="unknown-item",
        params={"item": item[:40]},
    )


def check_amount(value: object, *, item: str | None = None) -> int:
    """A non-negative whole number of minor units, at most MAX_AMOUNT: the price of `item`, or
    without one the credit limit.

    Raises:
        InvalidInput: `bad-price` or `bad-credit-limit`.
    """
    if is_minor_units(value, least=0):
        return value
    if item is None:
        raise InvalidInput(
            f"The credit limit must be a whole number of minor units, 0 to {MAX_AMOUNT}.",
            code="bad-credit-limit",
            params={"max": MAX_AMOUNT},
        )
    raise InvalidInput(
        f"The price of {item} must be a whole number of minor units, 0 to {MAX_AMOUNT}.",
        code="bad-price",
        params={"item": item, "max": MAX_AMOUNT},
    )


def check_prices(prices: Mapping[str, object]) -> dict[str, int]:
    """Prices keyed by checked item names; raises InvalidInput naming the first bad one."""
    if len(prices) > MAX_ITEMS:
        raise InvalidInput(
            f"A plan prices at most {MAX_ITEMS} items.",
            code="too-many-prices",
            params={"max": MAX_ITEMS},
        )
    checked: dict[str, int] = {}
    for item, price in prices.items():
        name = check_item(item)
        checked[name] = check_amount(price, item=name)
    return checked


def check_plan_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not _PLAN_NAME.fullmatch(name):
        raise InvalidInput(
            "A plan's name is 1 to 60 letters, digits, spaces, dots, dashes or underscores.",
            code="bad-plan-name",
        )
    return name


def check_edition(edition: str) -> Edition:
    if edition not in EDITIONS:
        raise InvalidInput(f"The edition is one of {', '.join(EDITIONS)}.", code="unknown-edition")
    return "enterprise" if edition == "enterprise" else "standard"


async def _row(session: AsyncSession, name: str) -> BillingPlan:
    row = await session.scalar(select(BillingPlan).where(BillingPlan.name == name.strip()))
    if row is None:
        raise NotFound(
            f"There is no plan named {name.strip()[:60]!r}.",
            code="unknown-plan",
            params={"name": name.strip()[:60]},
        )
    return row


async def _flush_name(session: AsyncSession, name: str) -> None:
    """Write a plan's row before its audit entry: a name taken already is a refusal."""
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise InvalidInput(
            f"A plan named {name!r} exists already.", code="plan-exists", params={"name": name}
        ) from None


async def create_plan(
    session: AsyncSession,
    *,
    name: str,
    edition: str,
    prices: Mapping[str, object],
    now: datetime,
    actor: audit.Actor,
    credit_limit: int = 0,
    make_default: bool = False,
    ip_prefix: str | None = None,
) -> PlanView:
    """Create a plan (the default one when `make_default` or when it is the first); audited;
    commits.

    Raises:
        InvalidInput: a bad name, edition, price or credit limit, or a name already taken.
    """
    row = BillingPlan(
        name=check_plan_name(name),
        edition=check_edition(edition),
        prices=check_prices(prices),
        credit_limit=check_amount(credit_limit),
        is_default=False,
        created_at=now,
    )
    first = await session.scalar(select(BillingPlan.id).limit(1)) is None
    if make_default or first:
        await session.execute(update(BillingPlan).values(is_default=False))
        row.is_default = True
    session.add(row)
    await _flush_name(session, row.name)
    await _audit(session, "billing.plan-created", row, actor, now, ip_prefix)
    await session.commit()
    return plan_view(row)


async def _audit(
    session: AsyncSession,
    action: audit.AuditAction,
    row: BillingPlan,
    actor: audit.Actor,
    now: datetime,
    ip_prefix: str | None,
    account_id: int | None = None,
) -> None:
    details: dict[str, object] = {
        "plan": row.name,
        "edition": row.edition,
        "prices": dict(row.prices),
        "credit_limit": row.credit_limit,
    }
    await audit.record(
        session,
        action,
        actor=actor,
        account_id=account_id,
        now=now,
        ip_prefix=ip_prefix,
        target=row.name,
        details=details,
    )


async def update_plan(
    session: AsyncSession,
    name: str,
    *,
    new_name: str | None = None,
    edition: str | None = None,
    prices: Mapping[str, object] | None = None,
    credit_limit: int | None = None,
    actor: audit.Actor,
    now: datetime,
    ip_prefix: str | None = None,
) -> PlanView:
    """Change what is given of plan `name`; `prices` replaces the whole price list. Audited;
    commits.
    New prices apply to usage charged from then on; settled usage keeps its amounts.

    Raises:
        NotFound: no plan has that name (code `unknown-plan`).
        InvalidInput: a bad value, or a new name already taken.
    """
    checked_prices = None if prices is None else check_prices(prices)
    row = await _row(session, name)
    if new_name is not None:
        row.name = check_plan_name(new_name)
    if edition is not None:
        row.edition = check_edition(edition)
    if checked_prices is not None:
        row.prices = checked_prices
    if credit_limit is not None:
        row.credit_limit = check_amount(credit_limit)
    await _flush_name(session, row.name)
    await _audit(session, "billing.plan-updated", row, actor, now, ip_prefix)
    await session.commit()
    return plan_view(row)


async def list_plans(session: AsyncSession) -> list[PlanView]:
    """Every plan, oldest first."""
    rows = await session.scalars(select(BillingPlan).order_by(BillingPlan.id))
    return [plan_view(row) for row in rows]


async def get_plan(session: AsyncSession, name: str) -> PlanView:
    """The plan named `name`; raises NotFound (`unknown-plan`)."""
    return plan_view(await _row(session, name))


async def set_default_plan(
    session: AsyncSession,
    name: str,
    *,
    actor: audit.Actor,
    now: datetime,
    ip_prefix: str | None = None,
) -> PlanView:
    """Make plan `name` the one new billing accounts start on; audited; commits. Accounts
    already on a plan stay on it."""
    row = await _row(session, name)
    await session.execute(
        update(BillingPlan).where(BillingPlan.id != row.id).values(is_default=False)
    )
    row.is_default = True
    await _audit(session, "billing.plan-default", row, actor, now, ip_prefix)
    await session.commit()
    return plan_view(row)


async def open_billing_account(session: AsyncSession, account_id: int, *, now: datetime) -> None:
    """Make sure the owner has a billing account (on the default plan), committed on its own:
    two first uses at once (two payments, a payment and a redemption) must not make one of them
    fail on the account's (or the default plan's) unique key in the middle of moving money."""
    for attempt in range(3):
        try:
            await ensure_billing_account(session, account_id, now=now)
            await session.commit()
            return
        except IntegrityError:  # made at the same moment by the other one: read it next time
            await session.rollback()
            if attempt == 2:
                raise


async def assign_plan(
    session: AsyncSession,
    account_id: int,
    name: str,
    *,
    now: datetime,
    actor: audit.Actor,
    ip_prefix: str | None = None,
) -> PlanView:
    """Move the owner `account_id` to plan `name` (opening their billing account if need be);
    audited; commits. Usage is charged at the new plan's prices from then on.

    Raises:
        NotFound: no such plan (`unknown-plan`) or no such account (`unknown-account`).
    """
    row = await _row(session, name)
    if await session.get(Account, account_id) is None:
        raise NotFound(
            f"There is no account #{account_id}.",
            code="unknown-account",
            params={"account": account_id},
        )
    billing = await ensure_billing_account(session, account_id, now=now)
    billing.plan_id = row.id
    await _audit(session, "billing.plan-assigned", row, actor, now, ip_prefix, account_id)
    await session.commit()
    return plan_view(row)
