"""The owner's billing page (only with HUMANGATE_BILLING on): the balance in cash and vouchers,
the plan and its edition, usage by day, unit and item, redeeming a voucher, topping up, and the
monthly statements, each as a printable page and a CSV.

Every page answers 404 while billing is off. The statements are the owner's own: another
owner's number answers 404 like one that does not exist. Top-ups go through the payment
provider when one is configured (a link to its checkout page, since the console's CSP allows
forms to post only to itself), else the page says to ask the operator.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from humangate.api.deps import ServicesDep
from humangate.billing import ledger, payments, statements
from humangate.billing import vouchers as voucher_core
from humangate.billing.topups import new_request_id
from humangate.console._billing import (
    EDITION_LABELS,
    KIND_LABELS,
    currency_of,
    item_label,
    parse_amount,
    require_billing,
)
from humangate.console._billing_refusals import refusal_message
from humangate.console._i18n import N_, message_of
from humangate.console.web import (
    CsrfForm,
    DbDep,
    Viewer,
    ViewerDep,
    account_client,
    add_nav,
    download,
    form_text,
    redirect,
    render,
    router,
    utcnow,
)
from humangate.db import billing_reports as reports
from humangate.errors import Expired, InvalidInput, NotFound, RateLimited, UpstreamUnavailable
from humangate.netaddr import ip_prefix
from humangate.stats import hour_of

add_nav(N_("Billing"), "/console/billing", order=30, setting="billing")

BillingOn = Depends(require_billing)
CHART_DAYS = 30
NO_SUCH_STATEMENT = N_("There is no such statement in your account.")
CHECKOUT_FAILED = N_("The payment page could not be opened. Try again in a few minutes.")
NOTICES = {
    "redeemed": N_("The voucher is in your balance."),
    "paid": N_("Thank you. Your payment is added to the balance as soon as it is confirmed."),
}


async def _usage_chart(db: DbDep, viewer: Viewer, now: datetime) -> dict[str, Any]:
    """The last CHART_DAYS days' cost per item and day, for charts.js and the table."""
    until = hour_of(now).replace(hour=0) + timedelta(days=1)
    since = until - timedelta(days=CHART_DAYS)
    rows = await reports.daily_usage(db, viewer.account.id, since=since, until=until)
    days = [since + timedelta(days=n) for n in range(CHART_DAYS)]
    items = sorted({row.item for row in rows})
    cost = {(row.day, row.item): row.amount for row in rows}
    quantity = {(row.day, row.item): row.quantity for row in rows}
    table = [
        {
            "day": day.date().isoformat(),
            "items": {
                item: (quantity.get((day.date(), item), 0), cost.get((day.date(), item), 0))
                for item in items
            },
            "total": sum(cost.get((day.date(), item), 0) for item in items),
        }
        for day in days
    ]
    chart = {
        "by": "day",
        "x": [int(day.timestamp()) for day in days],
        "series": [
            {"metric": item, "label": item, "values": [cost.get((d.date(), item), 0) for d in days]}
            for item in items
        ],
    }
    return {"item_names": items, "table": table, "chart": chart}


async def _month_usage(db: DbDep, viewer: Viewer, now: datetime) -> dict[str, Any]:
    """This month's movements so far: usage per unit and item, and the totals per kind."""
    start, end = statements.month_bounds(statements.period_of(now))
    movements = await reports.list_movements(db, viewer.account.id, since=start, until=end)
    usage = [m for m in movements if m.kind == "usage"]
    names = await reports.unit_names(db, [m.unit_id for m in usage if m.unit_id])
    return {
        "period": statements.period_of(now),
        "usage": [
            {
                "unit": names.get(m.unit_id) if m.unit_id else None,
                "unit_id": m.unit_id,
                "item": m.item or "",
                "quantity": m.quantity,
                "cost": -m.amount,
            }
            for m in usage
        ],
        "by_kind": statements.summarize(movements),
    }


async def _page(
    request: Request,
    viewer: Viewer,
    db: DbDep,
    services: ServicesDep,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    now = utcnow()
    account_id = viewer.account.id
    held = await ledger.balance(db, account_id, now=now)
    plan = await ledger.plan_of(db, account_id, now=now)
    await db.commit()  # plan_of opens the billing account on the default plan the first time
    context = {
        "balance": held,
        "plan": plan,
        "currency": currency_of(request),
        "edition_labels": EDITION_LABELS,
        "kind_labels": KIND_LABELS,
        "item_label": item_label,
        "chart": await _usage_chart(db, viewer, now),
        "month": await _month_usage(db, viewer, now),
        "statements": await reports.list_statements(db, account_id),
        "vouchers": await voucher_core.list_vouchers(db, account_id=account_id, limit=50),
        "now": now,
        "can_pay": payments.payment_provider(services.settings) is not None,
        "error": error,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    return render(request, "billing.html", context, viewer=viewer, status=status)


@router.get("/billing", dependencies=[BillingOn])
async def billing_page(
    request: Request, viewer: ViewerDep, db: DbDep, services: ServicesDep
) -> Response:
    return await _page(request, viewer, db, services)


@router.post("/billing/redeem", dependencies=[BillingOn])
async def redeem(
    request: Request, viewer: ViewerDep, db: DbDep, services: ServicesDep, form: CsrfForm
) -> Response:
    """Redeem a voucher code; a refused code shows the page again with the reason (400/429),
    in the console's words for the voucher core's code."""
    code = form_text(form, "code", limit=64)
    try:
        await voucher_core.redeem(
            db,
            services.accounts.store,
            viewer.account.id,
            code,
            server_key=services.key,
            now=utcnow(),
            ip_prefix=ip_prefix(account_client(request).ip),
        )
    except (InvalidInput, Expired, RateLimited) as exc:
        await db.rollback()
        status = 429 if isinstance(exc, RateLimited) else 400
        return await _page(request, viewer, db, services, error=refusal_message(exc), status=status)
    return redirect(request, "/console/billing?done=redeemed")


@router.post("/billing/top-up", dependencies=[BillingOn])
async def top_up(
    request: Request, viewer: ViewerDep, db: DbDep, services: ServicesDep, form: CsrfForm
) -> Response:
    """Open the payment provider's checkout for the amount typed, and link to it."""
    provider = payments.payment_provider(services.settings)
    if provider is None:
        raise NotFound(N_("Payments are not set up here: ask the operator to top up your balance."))
    currency = currency_of(request)
    try:
        amount = parse_amount(form_text(form, "amount", limit=20), currency)
    except InvalidInput as exc:
        return await _page(request, viewer, db, services, error=message_of(exc), status=400)
    base = services.settings.public_url.rstrip("/")  # set: payment_provider needs it
    try:
        checkout = await provider.create_checkout(
            account_id=viewer.account.id,
            amount=amount,
            currency=currency,
            success_url=f"{base}/console/billing?done=paid",
            cancel_url=f"{base}/console/billing",
            request_id=new_request_id(),
        )
    except (InvalidInput, UpstreamUnavailable):
        return await _page(request, viewer, db, services, error=CHECKOUT_FAILED, status=502)
    context = {"checkout": checkout, "amount": amount, "currency": currency}
    return render(request, "billing_checkout.html", context, viewer=viewer)


async def _statement(db: DbDep, viewer: Viewer, number: str) -> statements.StatementView:
    view = await statements.load_statement(db, number, account_id=viewer.account.id)
    if view is None:
        raise NotFound(NO_SUCH_STATEMENT)
    return view


@router.get("/billing/statements/{number}.csv", dependencies=[BillingOn])
async def statement_csv(request: Request, number: str, viewer: ViewerDep, db: DbDep) -> Response:
    view = await _statement(db, viewer, number.removesuffix(".csv"))
    body = statements.to_csv(view, currency=currency_of(request))
    return download(
        request, body, media_type="text/csv; charset=utf-8", filename=f"{view.number}.csv"
    )


@router.get("/billing/statements/{number}", dependencies=[BillingOn])
async def statement_page(request: Request, number: str, viewer: ViewerDep, db: DbDep) -> Response:
    view = await _statement(db, viewer, number)
    context = {
        "statement": view,
        "currency": currency_of(request),
        "kinds": statements.KINDS,
        "kind_labels": KIND_LABELS,
        "item_label": item_label,
        "start": statements.month_bounds(view.period)[0],
        "end": statements.month_bounds(view.period)[1] - timedelta(seconds=1),
    }
    return render(request, "statement.html", context, viewer=viewer)
