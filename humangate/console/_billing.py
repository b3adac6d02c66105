"""What the billing pages share: money as the console writes and reads it, the labels of items
and kinds of transaction, the gate that hides every billing page while billing is off, and
whether an owner's balance is used up (the banner on every console page).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.api.deps import get_services
from humangate.billing.statements import currency_exponent, format_minor
from humangate.console._i18n import N_, Phrase
from humangate.console.web import environment
from humangate.db import billing_reports as reports
from humangate.db.models import BillingAccount, BillingPlan
from humangate.errors import InvalidInput, NotFound

KIND_LABELS = {
    "top-up": N_("Top-ups"),
    "voucher-grant": N_("Vouchers granted"),
    "voucher-expiry": N_("Vouchers expired"),
    "usage": N_("Usage"),
    "refund": N_("Refunds"),
    "adjustment": N_("Adjustments"),
}
ITEM_LABELS = {
    "challenge": N_("Challenges issued"),
    "verify": N_("Tokens verified"),
    "email": N_("Codes sent by e-mail"),
    "sms:*": N_("Codes sent by SMS"),
    "carrier:*": N_("Carrier look-ups"),
}
EDITION_LABELS = {"standard": N_("Standard"), "enterprise": N_("Enterprise")}
BILLING_OFF = N_("There is no such page in the console.")
_AMOUNT = re.compile(r"-?\d{1,13}(\.\d{1,3})?")
MAX_MINOR = 10**12


def item_label(item: str) -> str:
    """What a metered item is, in words: `sms:GB` is "Codes sent by SMS to GB"."""
    if item in ITEM_LABELS:
        return ITEM_LABELS[item]
    family, _, country = item.partition(":")
    if family == "sms" and country:
        return Phrase("Codes sent by SMS to %(country)s", country=country)
    if family == "carrier":
        return ITEM_LABELS["carrier:*"]
    return item


def currency_of(request: Request) -> str:
    return get_services(request).settings.billing_currency


def money(amount: int, currency: str) -> str:
    """`1234` CNY as `12.34 CNY`."""
    return f"{format_minor(amount, currency)} {currency}"


environment.filters["money"] = money
environment.filters["decimal"] = format_minor
environment.globals["item_label"] = item_label


def parse_amount(text: str, currency: str, *, signed: bool = False) -> int:
    """An amount typed in the currency's major unit (`12.5`) in minor units (1250).

    Raises:
        InvalidInput: not a number, more decimals than the currency has, zero, negative when
            not `signed`, or too large.
    """
    exponent = currency_exponent(currency)
    text = text.strip().replace(",", "")
    if not _AMOUNT.fullmatch(text):
        raise InvalidInput(N_("Write the amount as a number, such as 12.50."))
    try:
        value = Decimal(text) * (10**exponent)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise InvalidInput(N_("Write the amount as a number, such as 12.50.")) from None
    if value != value.to_integral_value():
        raise InvalidInput(
            Phrase(
                "An amount in %(currency)s has %(n)s decimals at most.",
                currency=currency,
                n=exponent,
            )
        )
    minor = int(value)
    if minor == 0 or (minor < 0 and not signed) or abs(minor) > MAX_MINOR:
        raise InvalidInput(
            N_("The amount must be above zero and not too large.")
            if not signed
            else N_("The amount must not be zero, and not too large.")
        )
    return minor


def require_billing(request: Request) -> None:
    """The billing pages exist only with billing on: a 404 otherwise.

    Raises:
        NotFound: HUMANGATE_BILLING is off.
    """
    if not get_services(request).settings.billing:
        raise NotFound(BILLING_OFF)


async def used_up(session: AsyncSession, account_id: int) -> bool:
    """Whether the owner's balance, with the plan's credit, can pay for nothing more, on a plan
    that charges for something (a free plan never runs out). Reads only."""
    plan = await session.scalar(
        select(BillingPlan)
        .join(BillingAccount, BillingAccount.plan_id == BillingPlan.id)
        .where(BillingAccount.account_id == account_id)
    )
    if plan is None:
        plan = await session.scalar(
            select(BillingPlan).where(BillingPlan.is_default.is_(True)).limit(1)
        )
    if plan is None or not any(int(price) > 0 for price in (plan.prices or {}).values()):
        return False
    total = (await reports.owner_balances(session, [account_id]))[account_id]
    return total + int(plan.credit_limit) <= 0
