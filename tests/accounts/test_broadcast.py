"""The notice to every owner (console/notices.py) on SQLite and PostgreSQL: batches, who gets it,
by which channel and in which language, and what the audit log keeps."""

from __future__ import annotations

import pytest

from humangate.accounts import audit, list_entries, list_inbox, update_profile
from humangate.console import notices
from humangate.messaging import Channels, EmailMessage, MessageTemplates, SmsMessage
from tests.accounts.conftest import BROWSER, T0, Harness
from tests.console.test_messages import Recorder

TITLE = "Maintenance on Sunday"
BODY = "The service pauses at 02:00 UTC.\n\nThanks for your patience."


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notices, "BATCH", 2)
    monkeypatch.setattr(notices, "PAUSE", 0)


async def _broadcast(accounts: Harness, **options: bool) -> notices.Broadcast:
    async with accounts.sessions() as session:
        return await notices.write_broadcast(
            session,
            title=TITLE,
            body=BODY,
            admins=options.get("admins", False),
            blocked=options.get("blocked", False),
            actor=audit.OPERATOR,
            ip=None,
            now=T0,
        )


async def test_every_owner_gets_it_once_by_their_channel(accounts: Harness) -> None:
    ids = [(await accounts.signed_up(f"o{i}@example.com")).account.id for i in range(4)]
    phone = (await accounts.signed_up("+1 415 555 0100")).account.id
    await accounts.run(update_profile, ids[1], language="zh-CN", client=BROWSER, now=T0)
    broadcast = await _broadcast(accounts)
    assert broadcast.recipients == 5
    for account_id in [*ids, phone]:
        inbox = await accounts.db(list_inbox, account_id)
        assert [note.subject for note in inbox if note.kind == "notice"] == [TITLE]

    mail, sms = Recorder(refuse="o3@example.com"), Recorder()
    channels = Channels(mailer=mail, sms=sms, mail_configured=True, sms_configured=True)
    report = await notices.deliver_broadcast(
        accounts.sessions, MessageTemplates(), channels, broadcast
    )
    assert report == notices.DeliveryReport(sent=4, failed=1)
    emails = [m for m in mail.sent if isinstance(m, EmailMessage)]
    assert sorted(m.to for m in emails) == ["o0@example.com", "o1@example.com", "o2@example.com"]
    chinese = next(m for m in emails if m.to == "o1@example.com")
    english = next(m for m in emails if m.to == "o0@example.com")
    assert "自动发送" in (chinese.html or "") and "02:00 UTC" in english.text
    (text,) = sms.sent
    assert isinstance(text, SmsMessage) and text.to == "+14155550100"

    (sent,) = (await accounts.db(list_entries, action="notice.broadcast")).entries
    assert (sent.actor_kind, sent.target, sent.details["recipients"]) == ("operator", TITLE, 5)
    (done,) = (await accounts.db(list_entries, action="notice.delivered")).entries
    assert done.details == {"ref": broadcast.ref, "sent": 4, "failed": 1}
    assert BODY not in str(sent.as_dict()) + str(done.as_dict())  # the text stays out of the log


async def test_one_message_per_account_even_with_two_alike_notices(accounts: Harness) -> None:
    for i in range(3):
        await accounts.signed_up(f"o{i}@example.com")
    first = await _broadcast(accounts)
    second = await _broadcast(accounts, admins=True)
    assert first.ref != second.ref and (first.recipients, second.recipients) == (3, 3)
    mail = Recorder()
    channels = Channels(mailer=mail, sms=Recorder(), mail_configured=True, sms_configured=True)
    report = await notices.deliver_broadcast(accounts.sessions, MessageTemplates(), channels, first)
    assert report.sent == 3 and len(mail.sent) == 3


@pytest.mark.parametrize(
    ("title", "body"),
    [("", BODY), (" \n ", BODY), (TITLE, " "), ("x" * 201, BODY), (TITLE, "x" * 5001)],
)
async def test_bad_notices_write_nothing(accounts: Harness, title: str, body: str) -> None:
    await accounts.signed_up("o0@example.com")
    before = await accounts.snapshot()
    async with accounts.sessions() as session:
        with pytest.raises(ValueError, match="notice"):
            await notices.write_broadcast(
                session,
                title=title,
                body=body,
                admins=False,
                blocked=False,
                actor=audit.OPERATOR,
                ip=None,
                now=T0,
            )
    assert await accounts.snapshot() == before
