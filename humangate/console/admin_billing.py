"""The operator's billing pages (admins only, and only with HUMANGATE_BILLING on): plans and
their prices, vouchers (single codes, batches, grants' list, voiding), owners' balances, and an
owner's manual top-up, adjustment and refund, each with a reason and audited by the core
(`humangate.billing.topups`).

Amounts are typed in the currency's major unit (`12.50`) and kept in minor units. A money form
carries a request id chosen when the page was drawn, so a form sent twice moves money once.
Voucher codes are shown once, on the page that answers the form that issued them. The billing
core's refusals are shown in the console's words for their codes (`_billing_refusals`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from humangate.accounts import audit
from humangate.api.deps import ServicesDep, get_services
from humangate.billing import ledger, plans, topups
from humangate.billing import vouchers as voucher_core
from humangate.billing.running_out import balance_announcer
from humangate.console._billing import (
    EDITION_LABELS,
    currency_of,
    item_label,
    parse_amount,
    require_billing,
)
from humangate.console._billing_refusals import refusal_message
from humangate.console._directory import search_accounts
from humangate.console._i18n import N_, Phrase, message_of
from humangate.console.web import (
    AdminDep,
    CsrfForm,
    DbDep,
    Viewer,
    account_client,
    add_nav,
    form_text,
    redirect,
    render,
    router,
    utcnow,
)
from humangate.db import billing_reports as reports
from humangate.db.models import BillingPlan
from humangate.errors import InvalidInput, NotFound, Refusal
from humangate.netaddr import ip_prefix
from humangate.text import is_ascii_digits

add_nav(N_("Billing"), "/console/admin/billing", admin=True, order=65, setting="billing")

BillingOn = Depends(require_billing)
# A row id as the database holds it (32 bits): a larger number in a path is a 400, not a
# database error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ACTION_LABELS = {
    "top-up": N_("Top up"),
    "adjustment": N_("Adjust (signed)"),
    "refund": N_("Refund"),
}
NOTICES = {
    "plan": N_("The plan is saved."),
    "default": N_("New owners now start on this plan."),
    "voided": N_("The vouchers not yet redeemed are void."),
    "moved": N_("The money moved and the change is in the audit log."),
    "repeated": N_("This form was sent before; the money moved only once."),
    "assigned": N_("The owner is on the new plan."),
}
MAX_VOUCHERS_SHOWN = 100


def _actor(viewer: Viewer) -> audit.Actor:
    return audit.Actor.admin(viewer.account.id)


def _parse_prices(text: str, currency: str) -> dict[str, int]:
    """`item = amount` lines (amounts in the major unit) as prices in minor units.

    Raises:
        InvalidInput: a line without `=`, or a bad amount (items are checked by the core).
    """
    prices: dict[str, int] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        item, sep, amount = line.partition("=")
        if not sep:
            raise InvalidInput(
                Phrase("Write each price as item = amount, not %(line)s.", line=repr(line[:40]))
            )
        text_amount = amount.strip()
        prices[item.strip()] = (
            0 if text_amount in ("0", "0.0", "0.00") else parse_amount(text_amount, currency)
        )
    return prices


def _prices_text(prices: dict[str, int], currency: str) -> str:
    from humangate.billing.statements import format_minor

    return "\n".join(f"{item} = {format_minor(p, currency)}" for item, p in sorted(prices.items()))


async def _plan_by_id(db: DbDep, plan_id: int) -> ledger.PlanView:
    row = await db.get(BillingPlan, plan_id)
    if row is None:
        raise NotFound(N_("There is no such plan."))
    return ledger.plan_view(row)


async def _page(
    request: Request,
    viewer: Viewer,
    db: DbDep,
    *,
    error: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    query = request.query_params.get("q", "")
    try:
        rows = await search_accounts(db, query)
    except ValueError as exc:
        raise InvalidInput(message_of(exc)) from exc
    balances = await reports.owner_balances(db, [row.account.id for row in rows])
    currency = currency_of(request)
    all_plans = await plans.list_plans(db)
    context: dict[str, Any] = {
        "q": query,
        "rows": rows,
        "balances": balances,
        "plans": all_plans,
        "prices_text": {p.id: _prices_text(dict(p.prices), currency) for p in all_plans},
        "vouchers": await voucher_core.list_vouchers(db, limit=MAX_VOUCHERS_SHOWN),
        "now": utcnow(),
        "currency": currency,
        "edition_labels": EDITION_LABELS,
        "item_label": item_label,
        "error": error,
        "values": values or {},
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    return render(request, "admin_billing.html", context, viewer=viewer, status=status)


@router.get("/admin/billing", dependencies=[BillingOn])
async def billing_admin_page(request: Request, viewer: AdminDep, db: DbDep) -> Response:
    return await _page(request, viewer, db)


# --- plans -----------------------------------------------------------------------------------


@router.post("/admin/billing/plans", dependencies=[BillingOn])
async def create_plan(request: Request, viewer: AdminDep, db: DbDep, form: CsrfForm) -> Response:
    values = {k: form_text(form, k, limit=5000) for k in ("name", "edition", "prices", "credit")}
    currency = currency_of(request)
    try:
        credit = values["credit"]
        await plans.create_plan(
            db,
            name=values["name"],
            edition=values["edition"],
            prices=_parse_prices(values["prices"], currency),
            credit_limit=0 if credit in ("", "0") else parse_amount(credit, currency),
            make_default=form.get("default") == "on",
            now=utcnow(),
            actor=_actor(viewer),
            ip_prefix=ip_prefix(account_client(request).ip),
        )
    except InvalidInput as exc:
        await db.rollback()
        return await _page(
            request, viewer, db, error=refusal_message(exc), status=400, values=values
        )
    return redirect(request, "/console/admin/billing?done=plan")


@router.post("/admin/billing/plans/{plan_id}", dependencies=[BillingOn])
async def update_plan(
    request: Request, plan_id: RowId, viewer: AdminDep, db: DbDep, form: CsrfForm
) -> Response:
    plan = await _plan_by_id(db, plan_id)
    currency = currency_of(request)
    try:
        credit = form_text(form, "credit", limit=20)
        await plans.update_plan(
            db,
            plan.name,
            new_name=form_text(form, "name", limit=100) or None,
            edition=form_text(form, "edition", limit=20) or None,
            prices=_parse_prices(form_text(form, "prices", limit=5000), currency),
            credit_limit=0 if credit in ("", "0") else parse_amount(credit, currency),
            actor=_actor(viewer),
            now=utcnow(),
            ip_prefix=ip_prefix(account_client(request).ip),
        )
    except InvalidInput as exc:
        await db.rollback()
        return await _page(request, viewer, db, error=refusal_message(exc), status=400)
    except NotFound as exc:  # renamed or gone meanwhile
        await db.rollback()
        raise NotFound(refusal_message(exc), code=exc.code) from exc
    return redirect(request, "/console/admin/billing?done=plan")


@router.post("/admin/billing/plans/{plan_id}/default", dependencies=[BillingOn])
async def default_plan(
    request: Request, plan_id: RowId, viewer: AdminDep, db: DbDep, form: CsrfForm
) -> Response:
    plan = await _plan_by_id(db, plan_id)
    try:
        await plans.set_default_plan(
            db,
            plan.name,
            actor=_actor(viewer),
            now=utcnow(),
            ip_prefix=ip_prefix(account_client(request).ip),
        )
    except NotFound as exc:  # renamed meanwhile
        await db.rollback()
        raise NotFound(refusal_message(exc), code=exc.code) from exc
    return redirect(request, "/console/admin/billing?done=default")


# --- vouchers --------------------------------------------------------------------------------


def _whole(form_value: str, name: str, *, low: int, high: int) -> int:
    if not is_ascii_digits(form_value) or not low <= int(form_value) <= high:
        raise InvalidInput(
            Phrase(
                "The %(name)s is a whole number from %(low)s to %(high)s.",
                name=Phrase(name),
                low=low,
                high=high,
            )
        )
    return int(form_value)


@router.post("/admin/billing/vouchers", dependencies=[BillingOn])
async def issue_vouchers(
    request: Request, viewer: AdminDep, db: DbDep, services: ServicesDep, form: CsrfForm
) -> Response:
    """Issue one code or a batch; the codes are on this answer only."""
    values = {k: form_text(form, k, limit=100) for k in ("amount", "days", "count", "batch")}
    now = utcnow()
    try:
        amount = parse_amount(values["amount"], currency_of(request))
        days = _whole(values["days"], N_("number of days"), low=1, high=voucher_core.MAX_DAYS)
        count = _whole(
            values["count"] or "1", N_("number of codes"), low=1, high=voucher_core.MAX_BATCH
        )
        issued = await voucher_core.issue_codes(
            db,
            server_key=services.key,
            amount=amount,
            expires_at=now + timedelta(days=days),
            actor=_actor(viewer),
            now=now,
            count=count,
            batch=values["batch"] or None,
        )
    except InvalidInput as exc:
        await db.rollback()
        return await _page(
            request, viewer, db, error=refusal_message(exc), status=400, values=values
        )
    context = {"issued": issued, "currency": currency_of(request), "batch": values["batch"]}
    return render(request, "admin_vouchers_issued.html", context, viewer=viewer)


@router.post("/admin/billing/vouchers/void", dependencies=[BillingOn])
async def void_vouchers(request: Request, viewer: AdminDep, db: DbDep, form: CsrfForm) -> Response:
    voucher_id = form_text(form, "voucher_id", limit=12)
    batch = form_text(form, "batch", limit=60)
    try:
        if voucher_id and (not is_ascii_digits(voucher_id) or not 1 <= int(voucher_id) < 2**31):
            raise InvalidInput(N_("A voucher is named by its number."))
        await voucher_core.void(
            db,
            actor=_actor(viewer),
            now=utcnow(),
            voucher_id=int(voucher_id) if voucher_id else None,
            batch=None if voucher_id else (batch or None),
        )
    except (InvalidInput, NotFound) as exc:
        await db.rollback()
        status = 404 if isinstance(exc, NotFound) else 400
        return await _page(request, viewer, db, error=refusal_message(exc), status=status)
    return redirect(request, "/console/admin/billing?done=voided")


# --- one owner's money -----------------------------------------------------------------------


async def _account_page(
    request: Request,
    viewer: Viewer,
    db: DbDep,
    account_id: RowId,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    from humangate.console._directory import get_account

    row = await get_account(db, account_id)
    if row is None:
        raise NotFound(N_("There is no such account."))
    now = utcnow()
    context = {
        "row": row,
        "balance": await ledger.balance(db, account_id, now=now),
        "plan": await ledger.plan_of(db, account_id, now=now),
        "plans": await plans.list_plans(db),
        "statements": await reports.list_statements(db, account_id),
        "currency": currency_of(request),
        "edition_labels": EDITION_LABELS,
        "actions": ACTION_LABELS,
        "request_id": topups.new_request_id(),
        "error": error,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    await db.commit()  # plan_of opens the billing account on the default plan the first time
    return render(request, "admin_billing_account.html", context, viewer=viewer, status=status)


@router.get("/admin/billing/accounts/{account_id}", dependencies=[BillingOn])
async def account_billing(
    request: Request, account_id: RowId, viewer: AdminDep, db: DbDep
) -> Response:
    return await _account_page(request, viewer, db, account_id)


@router.post("/admin/billing/accounts/{account_id}/money", dependencies=[BillingOn])
async def move_money(
    request: Request,
    account_id: RowId,
    viewer: AdminDep,
    db: DbDep,
    services: ServicesDep,
    form: CsrfForm,
) -> Response:
    """A top-up, an adjustment or a refund, with its reason; audited by the core. The owner is
    told when the balance crossed a notice threshold (or a threshold above it is re-armed)."""
    action = form_text(form, "action", limit=20)
    reason = form_text(form, "reason", limit=topups.MAX_MEMO)
    try:
        if action not in ACTION_LABELS:
            raise InvalidInput(N_("Choose a top-up, an adjustment or a refund."))
        if not reason:
            raise InvalidInput(N_("Give a reason: the owner sees it on the statement."))
        amount = parse_amount(
            form_text(form, "amount", limit=20), currency_of(request), signed=action == "adjustment"
        )
        moved = await topups.apply(
            db,
            action,  # type: ignore[arg-type]  # checked against ACTION_LABELS above
            account_id,
            amount,
            request_id=form_text(form, "request_id", limit=64),
            actor=_actor(viewer),
            now=utcnow(),
            memo=reason,
            ip_prefix=ip_prefix(account_client(request).ip),
        )
    except (InvalidInput, NotFound) as exc:
        await db.rollback()
        if isinstance(exc, NotFound):
            raise NotFound(refusal_message(exc), code=exc.code) from exc
        return await _account_page(
            request, viewer, db, account_id, error=refusal_message(exc), status=400
        )
    if moved:
        announce = balance_announcer(
            services.sessions, services.settings, services.message_templates, services.channels
        )
        await announce(account_id)
    done = "moved" if moved else "repeated"
    return redirect(request, f"/console/admin/billing/accounts/{account_id}?done={done}")


@router.post("/admin/billing/accounts/{account_id}/plan", dependencies=[BillingOn])
async def assign_plan(
    request: Request, account_id: RowId, viewer: AdminDep, db: DbDep, form: CsrfForm
) -> Response:
    """Move the owner to another plan; this node reads their edition afresh at once (the
    others within HUMANGATE_UNIT_CACHE_SECONDS)."""
    plan_id = form_text(form, "plan", limit=12)
    if not is_ascii_digits(plan_id) or not 1 <= int(plan_id) < 2**31:
        raise InvalidInput(N_("Choose a plan."))
    plan = await _plan_by_id(db, int(plan_id))
    try:
        await plans.assign_plan(
            db,
            account_id,
            plan.name,
            now=utcnow(),
            actor=_actor(viewer),
            ip_prefix=ip_prefix(account_client(request).ip),
        )
    except Refusal as exc:
        await db.rollback()
        raise NotFound(N_("There is no such account.")) from exc
    get_services(request).editions.forget(account_id)
    return redirect(request, f"/console/admin/billing/accounts/{account_id}?done=assigned")
