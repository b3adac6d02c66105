"""`humangate housekeeping` as an operator runs it: a real process on a real SQLite file, with
its messages in the development outbox."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
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

LONG_AGO = datetime.now(UTC) - timedelta(days=400)


def make_idle_owner(data_dir: Path, email: str) -> int:
    """An owner who signed up (and was last seen) 400 days ago, made through the account core."""

    async def make() -> int:
        engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'humangate.db'}")
        try:
            await migrate(engine)
            ctx = AccountContext.create(
                store=MemoryStore(),
                server_key=SECRET_KEY.encode(),
                hasher=PasswordHasher(TEST_PARAMS),
            )
            client = Client(ip="192.0.2.1", device_label="CLI test")
            async with create_sessionmaker(engine)() as session:
                sent = await sign_up(
                    ctx, session, email, "a long passphrase", client=client, now=LONG_AGO
                )
                assert isinstance(sent, CodeSent)
                code = sent.outgoing[0].params["code"]
                done = await confirm_sign_up(ctx, session, email, code, client=client, now=LONG_AGO)
                assert isinstance(done, LoggedIn)
                return done.account.id
        finally:
            await engine.dispose()

    return asyncio.run(make())


def warned_long_ago(data_dir: Path) -> None:
    """Move every warning 31 days back, past the grace period."""
    with sqlite3.connect(data_dir / "humangate.db") as db:
        db.execute(
            "UPDATE accounts SET inactivity_warned_at = ? WHERE inactivity_warned_at IS NOT NULL",
            ((datetime.now(UTC) - timedelta(days=31)).strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )


def account_ids(data_dir: Path) -> list[int]:
    with sqlite3.connect(data_dir / "humangate.db") as db:
        return [row[0] for row in db.execute("SELECT id FROM accounts ORDER BY id")]


def test_housekeeping_warns_then_cancels_only_when_asked(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    owner = make_idle_owner(tmp_path, "idle@example.com")

    first = run_cli(env, "housekeeping", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["warned"] == [owner] and report["cancelled"] == []
    assert (report["messages"], report["cancel_inactive"], report["delivered"]) == (1, False, True)
    (mail,) = [e for e in read_outbox(tmp_path) if e.to == "idle@example.com"]
    assert mail.subject == "Your account will be cancelled for inactivity"
    # Ids and counts only: no address in the report.
    assert "idle@example.com" not in first.stdout + first.stderr

    warned_long_ago(tmp_path)
    kept = run_cli(env, "housekeeping")
    assert kept.returncode == 0, kept.stderr
    assert "cancelled 0 (cancellation is off)" in kept.stdout
    assert account_ids(tmp_path) == [owner]

    done = run_cli(env, "housekeeping", "--cancel-inactive", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["cancelled"] == [owner]
    assert account_ids(tmp_path) == []
    subjects = [e.subject for e in read_outbox(tmp_path) if e.to == "idle@example.com"]
    assert subjects[-1] == "Your account was cancelled"


def test_the_setting_turns_cancellation_on_and_the_flag_off(tmp_path: Path) -> None:
    env = humangate_env(tmp_path, cancel_inactive="true")
    owner = make_idle_owner(tmp_path, "idle@example.com")
    assert run_cli(env, "housekeeping").returncode == 0
    warned_long_ago(tmp_path)
    held = run_cli(env, "housekeeping", "--no-cancel-inactive", "--json")
    assert json.loads(held.stdout)["cancelled"] == [] and account_ids(tmp_path) == [owner]
    done = run_cli(env, "housekeeping", "--json")
    assert json.loads(done.stdout)["cancelled"] == [owner] and account_ids(tmp_path) == []


def test_bad_arguments_and_undeliverable_messages(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    bad = run_cli(env, "housekeeping", "--cancel-inactive=yes")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    make_idle_owner(tmp_path, "idle@example.com")
    production = humangate_env(tmp_path, environment="production")
    failed = run_cli(production, "housekeeping", "--json")
    assert failed.returncode == 1 and "not delivered" in failed.stderr
    assert json.loads(failed.stdout)["delivered"] is False
    assert "Traceback" not in failed.stderr


def count_rows(data_dir: Path, table: str) -> int:
    with sqlite3.connect(data_dir / "humangate.db") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_retention_settings_reach_the_command(tmp_path: Path) -> None:
    make_idle_owner(tmp_path, "idle@example.com")  # its entries and device are 400 days old
    audit_rows = count_rows(tmp_path, "audit_entries")
    keep = humangate_env(tmp_path, audit_retention_days="0", device_retention_days="0")
    kept = run_cli(keep, "housekeeping", "--json")
    assert kept.returncode == 0, kept.stderr
    report = json.loads(kept.stdout)
    assert (report["purged_audit"], report["purged_devices"]) == (0, 0)
    assert count_rows(tmp_path, "known_devices") == 1
    # That round's inactivity warning added one entry, dated now.
    assert count_rows(tmp_path, "audit_entries") == audit_rows + 1

    month = humangate_env(tmp_path, audit_retention_days="30", device_retention_days="30")
    done = run_cli(month, "housekeeping")
    assert done.returncode == 0, done.stderr
    assert f"purged {audit_rows} audit entries, 1 unused devices, 0 read notices" in done.stdout
    assert count_rows(tmp_path, "known_devices") == 0
    assert count_rows(tmp_path, "audit_entries") == 1  # the warning


def test_a_negative_retention_is_refused_at_start_up(tmp_path: Path) -> None:
    make_idle_owner(tmp_path, "idle@example.com")
    before = count_rows(tmp_path, "audit_entries")
    for name in ("audit_retention_days", "device_retention_days", "notice_retention_days"):
        failed = run_cli(humangate_env(tmp_path, **{name: "-1"}), "housekeeping")
        assert failed.returncode == 2
        assert "Invalid HumanGate setting" in failed.stderr and name in failed.stderr
        assert "Traceback" not in failed.stderr
    assert count_rows(tmp_path, "audit_entries") == before
    assert account_ids(tmp_path) != []
