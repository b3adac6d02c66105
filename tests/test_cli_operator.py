"""`humangate account cancel` and `humangate notice` as an operator runs them: real processes on a
real SQLite file, with their messages in the development outbox."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from humangate.accounts import (
    AccountContext,
    Client,
    CodeSent,
    LoggedIn,
    confirm_sign_up,
    sign_up,
)
from humangate.accounts.passwords import TEST_PARAMS, PasswordHasher
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.messaging import read_outbox
from humangate.store import MemoryStore
from tests.live import SECRET_KEY, humangate_env, run_cli


def make_owners(data_dir: Path, *emails: str, pending: str | None = None) -> list[int]:
    """Confirmed owners (and one unconfirmed sign-up), made through the account core."""

    async def make() -> list[int]:
        engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'humangate.db'}")
        try:
            await migrate(engine)
            ctx = AccountContext.create(
                store=MemoryStore(),
                server_key=SECRET_KEY.encode(),
                hasher=PasswordHasher(TEST_PARAMS),
            )
            client = Client(ip="192.0.2.1", device_label="CLI test")
            now = datetime.now(UTC)
            ids = []
            async with create_sessionmaker(engine)() as session:
                for email in emails:
                    sent = await sign_up(
                        ctx, session, email, "a long passphrase", client=client, now=now
                    )
                    assert isinstance(sent, CodeSent)
                    code = sent.outgoing[0].params["code"]
                    done = await confirm_sign_up(ctx, session, email, code, client=client, now=now)
                    assert isinstance(done, LoggedIn)
                    ids.append(done.account.id)
                if pending:
                    await sign_up(
                        ctx, session, pending, "a long passphrase", client=client, now=now
                    )
            return ids
        finally:
            await engine.dispose()

    return asyncio.run(make())


def query(data_dir: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "humangate.db") as db:
        return list(db.execute(sql, args))


def run_with_input(env: dict[str, str], text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humangate", *args],
        env=env,
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_account_cancel_asks_then_erases_and_tells_the_owner(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    (owner,) = make_owners(tmp_path, "owner@example.com")
    reason = "Order of the district court, case 12/2026."
    args = ("account", "cancel", "OWNER@example.com", "--reason", reason)

    refused = run_with_input(env, "someone@example.com\n", *args)
    assert refused.returncode == 2 and "not confirmed" in refused.stderr
    assert query(tmp_path, "SELECT id FROM accounts") == [(owner,)]

    done = run_with_input(env, "owner@example.com\n", *args, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["account_id"] == owner and report["delivered"] is True
    assert query(tmp_path, "SELECT id FROM accounts") == []
    ((actor, actor_id, details),) = query(
        tmp_path,
        "SELECT actor_kind, actor_id, details FROM audit_entries "
        "WHERE action = 'account.cancelled'",
    )
    assert (actor, actor_id) == ("operator", None)
    assert json.loads(str(details))["reason"] == reason
    mail = [e for e in read_outbox(tmp_path, 100) if e.to == "owner@example.com"]
    assert "cancelled" in (mail[-1].subject or "").lower() and reason in mail[-1].text


def test_account_cancel_refuses_bad_input_cleanly(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    (owner,) = make_owners(tmp_path, "owner@example.com")
    for args in (
        ("account", "cancel", "nobody@example.com", "--reason", "x", "--yes"),
        ("account", "cancel", "not an address", "--reason", "x", "--yes"),
        ("account", "cancel", f"#{owner}", "--reason", "   ", "--yes"),
        ("account", "cancel", f"#{owner}", "--reason", "x" * 501, "--yes"),
    ):
        done = run_cli(env, *args)
        assert done.returncode == 2, args
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr, args
    missing = run_cli(env, "account", "cancel", "owner@example.com", "--yes")
    assert missing.returncode == 2 and "--reason" in missing.stderr
    assert query(tmp_path, "SELECT id FROM accounts") == [(owner,)]


def test_notice_reaches_every_active_owner(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    owners = make_owners(tmp_path, "a@example.com", "b@example.com", pending="p@example.com")
    title = "Maintenance on Sunday"
    body = "The service pauses at 02:00 UTC.\n\nThanks for your patience."
    done = run_cli(env, "notice", "--all", "--title", title, "--body", body, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["recipients"], report["sent"], report["failed"]) == (2, 2, 0)
    inboxes = query(tmp_path, "SELECT account_id FROM notifications WHERE subject = ?", title)
    assert sorted(int(str(row[0])) for row in inboxes) == owners
    mail = sorted(e.to for e in read_outbox(tmp_path, 100) if "02:00 UTC" in e.text)
    assert mail == ["a@example.com", "b@example.com"]
    ((actor, details),) = query(
        tmp_path, "SELECT actor_kind, details FROM audit_entries WHERE action = 'notice.broadcast'"
    )
    assert actor == "operator" and json.loads(str(details))["recipients"] == 2


def test_notice_refuses_bad_input_and_sends_nothing(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    make_owners(tmp_path, "a@example.com")
    for args in (
        ("--all", "--title", "", "--body", "text"),
        ("--all", "--title", "Title", "--body", "  "),
        ("--all", "--title", "x" * 201, "--body", "text"),
        ("--all", "--title", "Title", "--body", "x" * 5001),
        ("--title", "Title", "--body", "text"),  # --all is required
    ):
        done = run_cli(env, "notice", *args)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr
    assert query(tmp_path, "SELECT count(*) FROM notifications WHERE kind = 'notice'") == [(0,)]
    assert query(tmp_path, "SELECT count(*) FROM audit_entries WHERE action LIKE 'notice.%'") == [
        (0,)
    ]
    assert [e for e in read_outbox(tmp_path, 100) if "Title" in e.text] == []
