"""`humangate plan …` and `humangate billing …` as an operator runs them: real processes on a
real SQLite file, owners made through the account core."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from humangate.accounts import audit
from humangate.billing import vouchers
from humangate.db.engine import create_engine, create_sessionmaker
from tests.live import humangate_env, run_cli, run_cli_here
from tests.test_cli_operator import make_owners


def ok(env: dict[str, str], *args: str) -> Any:
    done = run_cli(env, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def refused(env: dict[str, str], *args: str) -> str:
    done = run_cli_here(env, *args)  # the same main(), without a process start each
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stderr


def test_plans_from_the_command_line(tmp_path: Path) -> None:
    env = humangate_env(tmp_path, billing="true")
    [owner] = make_owners(tmp_path, "owner@example.com")
    basic = ok(env, "plan", "create", "basic", "--price", "challenge=2", "--price", "sms:cn=40")
    assert basic["prices"] == {"challenge": 2, "sms:CN": 40} and basic["is_default"]
    pro = ok(
        env, "plan", "create", "pro", "--edition", "enterprise", "--credit-limit", "500",
        "--price", "verify=1",
    )  # fmt: skip
    assert (pro["edition"], pro["credit_limit"], pro["is_default"]) == ("enterprise", 500, False)
    # Prices merge; an empty amount removes an item.
    updated = ok(env, "plan", "update", "basic", "--price", "sms:CN=", "--price", "email=3")
    assert updated["prices"] == {"challenge": 2, "email": 3}
    assert ok(env, "plan", "set-default", "pro")["is_default"]
    assigned = ok(env, "plan", "assign", "owner@example.com", "basic")
    assert assigned == {"account_id": owner, "plan": {**updated, "is_default": False}}
    listed = ok(env, "plan", "list")
    assert [(p["name"], p["is_default"]) for p in listed] == [("basic", False), ("pro", True)]
    assert ok(env, "billing", "balance", f"#{owner}")["plan"] == "basic"

    assert "not a metered item" in refused(env, "plan", "create", "x", "--price", "sms=1")
    assert "country code" in refused(env, "plan", "create", "x", "--price", "sms:XX=1")
    assert "whole number" in refused(env, "plan", "create", "x", "--price", "challenge=-1")
    assert "exists" in refused(env, "plan", "create", "basic")
    assert "no plan" in refused(env, "plan", "assign", "owner@example.com", "gold")
    assert "invalid choice" in refused(env, "plan", "create", "x", "--edition", "gold")
    assert len(ok(env, "plan", "list")) == 2


def test_money_and_vouchers_from_the_command_line(tmp_path: Path) -> None:
    env = humangate_env(tmp_path, billing="true")
    [owner] = make_owners(tmp_path, "owner@example.com")
    who = "owner@example.com"
    for _ in range(2):  # retried with the same request id: once
        ok(env, "billing", "top-up", who, "10000", "--request-id", "bank-2026-12-01")
    again = ok(env, "billing", "top-up", who, "1", "--request-id", "bank-2026-12-01")
    assert again["moved"] is False
    ok(env, "billing", "adjust", who, "-2000", "--reason", "charged twice in November")
    ok(env, "billing", "refund", who, "500", "--memo", "asked by the owner")
    assert "needs a reason" in refused(env, "billing", "adjust", who, "100", "--reason", " ")
    assert "--reason" in refused(env, "billing", "adjust", who, "100")
    assert "cannot exceed" in refused(env, "billing", "refund", who, "999999")

    issued = ok(env, "billing", "voucher", "issue", "--amount", "300", "--days", "30")
    [single] = issued["vouchers"]
    assert single["code"].startswith("HG-") and single["status"] == "unredeemed"
    batch = ok(
        env, "billing", "voucher", "issue", "--amount", "50", "--days", "7", "--count", "3",
        "--batch", "launch",
    )  # fmt: skip
    assert len({v["code"] for v in batch["vouchers"]}) == 3
    granted = ok(
        env, "billing", "voucher", "issue", "--amount", "70", "--expires",
        "2030-01-01T00:00:00+08:00", "--account", who,
    )  # fmt: skip
    [grant] = granted["vouchers"]
    assert grant["code"] is None and grant["status"] == "redeemed"
    assert ok(env, "billing", "voucher", "void", "--batch", "launch") == {"voided": 3}
    statuses = {v["id"]: v["status"] for v in ok(env, "billing", "voucher", "list")}
    assert sorted(statuses.values()) == ["redeemed", "unredeemed"] + ["voided"] * 3
    assert [v["id"] for v in ok(env, "billing", "voucher", "list", "--account", who)] == [
        grant["id"]
    ]
    assert "needs a time zone" in refused(
        env, "billing", "voucher", "issue", "--amount", "1", "--expires", "2030-01-01"
    )
    assert "without --count" in refused(
        env, "billing", "voucher", "issue", "--amount", "1", "--days", "1", "--account", who,
        "--count", "2",
    )  # fmt: skip

    balance = ok(env, "billing", "balance", who)
    assert balance["cash"] == 10000 - 2000 - 500 and balance["total"] == 7500 + 70
    assert [v["remaining"] for v in balance["vouchers"]] == [70]
    database = sqlite3.connect(tmp_path / "humangate.db")
    actions = [
        row[0]
        for row in database.execute(
            "SELECT action || ' ' || actor_kind FROM audit_entries WHERE action LIKE 'billing.%' "
            "ORDER BY id"
        )
    ]
    assert actions == [
        "billing.top-up operator",
        "billing.adjustment operator",
        "billing.refund operator",
        "billing.voucher-issued operator",
        "billing.voucher-issued operator",
        "billing.voucher-granted operator",
        "billing.voucher-voided operator",
    ]
    dump = "\n".join(database.iterdump())
    codes = [single["code"], *(v["code"] for v in batch["vouchers"])]
    assert not any(code.replace("-", "")[2:] in dump for code in codes)
    assert owner == balance["account_id"]


def test_the_hourly_housekeeping_voids_expired_vouchers_with_billing_on(tmp_path: Path) -> None:
    [owner] = make_owners(tmp_path, "owner@example.com")
    past = datetime.now(UTC) - timedelta(days=2)

    async def grant() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'humangate.db'}")
        try:
            async with create_sessionmaker(engine)() as session:
                await vouchers.grant(
                    session,
                    owner,
                    amount=400,
                    expires_at=past + timedelta(days=1),
                    actor=audit.OPERATOR,
                    now=past,
                )
        finally:
            await engine.dispose()

    asyncio.run(grant())
    balance = ["billing", "balance", "owner@example.com"]
    for billing, left in (("false", 400), ("true", 0)):
        done = run_cli(humangate_env(tmp_path, billing=billing), "housekeeping", "--json")
        assert done.returncode == 0, done.stderr
        assert ok(humangate_env(tmp_path), *balance)["total"] == left
