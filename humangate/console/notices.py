"""The operator's notice to every owner: a security incident, changed terms, maintenance.

Sending it has two steps, so that no request waits minutes and no transaction holds 100 000 rows:

1. `write_broadcast` puts the notice in every recipient's inbox, `BATCH` accounts per
   transaction, and records one `notice.broadcast` audit entry with the count.
2. `deliver_broadcast` then e-mails or texts each of those accounts (its first contact, in its
   language), a batch at a time with `PAUSE` seconds between batches, and records one
   `notice.delivered` entry with how many were sent and how many failed (each failure is logged
   with the account id). The page runs it as a background task of the worker that took the
   request (`schedule_delivery`); the command line runs it to the end before it returns. A
   worker that stops mid-way logs how far it got; the inboxes hold the notice either way.

Recipients are active owners; admins and suspended or banned owners (whose data is still held:
they need security incidents and changes to the terms) only when asked; pending sign-ups never.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts import audit, list_entries
from humangate.accounts._views import contacts
from humangate.accounts.delivery import send_rendered
from humangate.api.deps import ServicesDep
from humangate.console._i18n import N_, Phrase, message_of
from humangate.console.web import (
    AdminDep,
    CsrfForm,
    DbDep,
    account_client,
    add_nav,
    form_text,
    redirect,
    render,
    router,
    utcnow,
)
from humangate.db import notices as notice_db
from humangate.db.models import Account
from humangate.messaging import Channels, DeliveryError, MessageTemplates, RenderedMessage
from humangate.netaddr import ip_prefix
from humangate.services import Services

log = logging.getLogger(__name__)

add_nav(N_("Notices"), "/console/admin/notices", admin=True, order=65)

MAX_TITLE = 200
MAX_BODY = 5000
BATCH = 1000
PAUSE = 0.5
BLOCKED = ("suspended", "banned")
SENDING = N_("The notice is in every inbox; its e-mails and text messages are on their way.")


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A notice written to `recipients` inboxes, waiting to be delivered.

    `ref` names it in the audit log; `at` is its inbox rows' `created_at`, and `up_to` the
    highest account id it could reach, which together find its recipients again.
    """

    ref: str
    title: str
    body: str
    at: datetime
    up_to: int
    recipients: int


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """Messages sent and failed; `stopped` if a fault ended the delivery before the end."""

    sent: int
    failed: int
    stopped: bool = False


def check_notice(title: str, body: str) -> tuple[str, str]:
    """The title on one line and the body, trimmed.

    Raises:
        ValueError: an empty or overlong title or body.
    """
    title = " ".join((title or "").split())
    body = (body or "").strip()
    if not title or not body:
        raise ValueError(N_("A notice needs a title and a text."))
    if len(title) > MAX_TITLE or len(body) > MAX_BODY:
        message = N_("A notice has a title of %(title)s and a text of %(body)s characters at most.")
        raise ValueError(Phrase(message, title=MAX_TITLE, body=MAX_BODY))
    return title, body


async def write_broadcast(
    session: AsyncSession,
    *,
    title: str,
    body: str,
    admins: bool,
    blocked: bool,
    actor: audit.Actor,
    ip: str | None,
    now: datetime,
) -> Broadcast:
    """Put the notice in the inbox of every recipient, BATCH accounts per commit, and audit it.

    Raises:
        ValueError: an empty or overlong title or body; nothing is written.
    """
    title, body = check_notice(title, body)
    statuses = ("active", *BLOCKED) if blocked else ("active",)
    roles = ("owner", "admin") if admins else ("owner",)
    up_to = await notice_db.get_last_account_id(session)
    last, count = 0, 0
    while ids := await notice_db.list_recipient_ids(
        session, statuses=statuses, roles=roles, after=last, up_to=up_to, limit=BATCH
    ):
        await notice_db.add_inbox_notices(session, ids, title=title, body=body, now=now)
        await session.commit()  # one transaction per batch: none holds 100 000 rows
        last, count = ids[-1], count + len(ids)
    ref = secrets.token_hex(4)
    audience = "+".join(r + "s" for r in roles) + (" incl. suspended and banned" if blocked else "")
    await audit.record(
        session,
        "notice.broadcast",
        actor=actor,
        account_id=None,
        now=now,
        ip_prefix=ip_prefix(ip),
        target=title,
        details={"ref": ref, "recipients": count, "audience": audience},
    )
    await session.commit()
    return Broadcast(ref, title, body, now, up_to, count)


async def deliver_broadcast(
    sessions: async_sessionmaker[AsyncSession],
    templates: MessageTemplates,
    channels: Channels,
    broadcast: Broadcast,
) -> DeliveryReport:
    """E-mail or text every account whose inbox got `broadcast`, and audit the counts (with
    `stopped` when a fault such as a lost database ended the delivery early)."""
    report = DeliveryReport(0, 0)
    try:
        report = await _send_all(sessions, templates, channels, broadcast, report)
    except Exception:
        log.exception("Delivering notice %s stopped.", broadcast.ref)
        report = dataclasses.replace(report, stopped=True)
    finally:
        # Also when the worker stops mid-way: the log then says how far the delivery got.
        log.info("Notice %s: %d sent, %d failed.", broadcast.ref, report.sent, report.failed)
    details: dict[str, object] = {"ref": broadcast.ref, "sent": report.sent}
    details |= {"failed": report.failed} | ({"stopped": True} if report.stopped else {})
    async with sessions() as session:
        await audit.record(
            session,
            "notice.delivered",
            actor=audit.SYSTEM,
            account_id=None,
            now=utcnow(),
            target=broadcast.title,
            details=details,
        )
        await session.commit()
    return report


async def _send_all(
    sessions: async_sessionmaker[AsyncSession],
    templates: MessageTemplates,
    channels: Channels,
    broadcast: Broadcast,
    report: DeliveryReport,
) -> DeliveryReport:
    last = 0
    rendered: dict[str, RenderedMessage] = {}
    while True:
        async with sessions() as session:
            accounts = await notice_db.list_notice_recipients(
                session,
                title=broadcast.title,
                at=broadcast.at,
                after=last,
                up_to=broadcast.up_to,
                limit=BATCH,
            )
        if not accounts:
            return report
        for account in accounts:
            ok = await _send_one(templates, channels, broadcast, account, rendered)
            report = DeliveryReport(report.sent + ok, report.failed + (not ok))
        last = accounts[-1].id
        if len(accounts) == BATCH:
            await asyncio.sleep(PAUSE)  # a throttle, so that a big list does not flood a relay


async def _send_one(
    templates: MessageTemplates,
    channels: Channels,
    broadcast: Broadcast,
    account: Account,
    rendered: dict[str, RenderedMessage],
) -> bool:
    targets = contacts(account)[:1]
    if not targets:
        return False
    language = account.language or "en"
    if language not in rendered:
        rendered[language] = templates.operator_notice(
            language, title=broadcast.title, body=broadcast.body, link_path="/console/inbox"
        )
    target = targets[0]
    try:
        await send_rendered(channels, rendered[language], kind=target.kind, to=target.value)
    except (DeliveryError, ValueError) as exc:
        log.warning("Notice %s to account %d was not delivered: %s", broadcast.ref, account.id, exc)
        return False
    return True


def schedule_delivery(
    app: FastAPI, services: Services, broadcast: Broadcast
) -> asyncio.Task[DeliveryReport | None]:
    """Deliver in the background; `app` keeps the task until it ends (see `drain`)."""
    # The app's own set of running deliveries (no service: a task belongs to one app's loop).
    tasks: set[asyncio.Task[DeliveryReport | None]] = getattr(app.state, "broadcasts", set())
    app.state.broadcasts = tasks
    task = asyncio.create_task(_deliver_logged(services, broadcast))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return task


async def _deliver_logged(services: Services, broadcast: Broadcast) -> DeliveryReport | None:
    try:
        return await deliver_broadcast(
            services.sessions, services.message_templates, services.channels, broadcast
        )
    except Exception:
        # Nobody awaits this task: say here that the delivery stopped (the inboxes hold it).
        log.exception("Delivering notice %s stopped.", broadcast.ref)
        return None


async def drain(app: FastAPI) -> None:
    """Wait until every delivery this worker started has ended."""
    tasks = list(getattr(app.state, "broadcasts", ()))
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


@router.get("/admin/notices")
async def notices_page(request: Request, viewer: AdminDep, db: DbDep) -> Response:
    done = request.query_params.get("done") == "sent"
    context = {"notice": SENDING if done else None, "title": "", "body": "", **await _history(db)}
    return render(request, "admin_notices.html", context, viewer=viewer)


@router.post("/admin/notices")
async def notices_send(
    request: Request, viewer: AdminDep, db: DbDep, form: CsrfForm, services: ServicesDep
) -> Response:
    title = form_text(form, "title", limit=MAX_TITLE)
    body = form_text(form, "body", limit=MAX_BODY)
    admins, blocked = form.get("admins") == "yes", form.get("blocked") == "yes"
    try:
        broadcast = await write_broadcast(
            db,
            title=title,
            body=body,
            admins=admins,
            blocked=blocked,
            actor=audit.Actor.admin(viewer.account.id),
            ip=account_client(request).ip,
            now=utcnow(),
        )
    except ValueError as exc:
        form_values = {"title": title, "body": body, "error": message_of(exc)}
        context = {**form_values, **await _history(db)}
        return render(request, "admin_notices.html", context, viewer=viewer, status=400)
    schedule_delivery(request.app, services, broadcast)
    return redirect(request, "/console/admin/notices?done=sent")


async def _history(db: AsyncSession) -> dict[str, object]:
    """The last notices to every owner, each with its delivery counts once it is done."""
    sent = await list_entries(db, action="notice.broadcast", limit=10)
    delivered = await list_entries(db, action="notice.delivered", limit=50)
    reports = {str(entry.details.get("ref")): entry.details for entry in delivered.entries}
    rows = [(entry, reports.get(str(entry.details.get("ref")))) for entry in sent.entries]
    return {"history": rows}
