"""An owner's verification API records: in their data export (never a secret, a destination only
masked) and gone with their account when it is cancelled."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, text

from humangate.accounts import (
    Cancelled,
    CodeSent,
    confirm_cancellation,
    export_account,
    request_cancellation,
)
from humangate.db import verify_apps
from humangate.db.models import (
    Verification,
    VerifyApp,
    VerifyAppSecret,
    VerifyNonce,
    VerifyPrefixBlock,
    VerifyUsage,
)
from humangate.verify.apps import AppChanges
from tests.accounts.conftest import BROWSER, SERVER_KEY, T0, Harness
from tests.db.test_verify_purge import block, verification

VERIFY_TABLES = (VerifyAppSecret, Verification, VerifyNonce, VerifyUsage, VerifyPrefixBlock)


async def app_with_records(accounts: Harness, account_id: int | None, name: str) -> dict[str, Any]:
    """An app holding one row of every verify table (two secrets: one rotated out)."""
    async with accounts.sessions() as session:
        created = await verify_apps.create_app(
            session,
            AppChanges(name=name, countries=("CN",), templates={"en": "Code {code}"}),
            account_id=account_id,
            server_key=SERVER_KEY,
            now=T0,
        )
        secret = await verify_apps.rotate_app_secret(
            session, created.app.app_key, server_key=SERVER_KEY, now=T0, grace_hours=1
        )
        app_id = created.app.id
        charged = verification(app_id, name[0], T0)
        charged.cost = 5  # minor units, as the billing meter charged them
        session.add_all(
            [
                charged,
                VerifyNonce(
                    app_id=app_id, nonce=(name * 16)[:32], expires_at=T0 + timedelta(minutes=15)
                ),
                VerifyUsage(
                    app_id=app_id,
                    day=date(2026, 3, 2),
                    channel="sms",
                    country="CN",
                    sent=3,
                    failed=1,
                    approved=2,
                ),
                block(app_id, "86138", created=T0, until=T0 + timedelta(hours=24)),
            ]
        )
        await session.commit()
    return {"app_key": created.app.app_key, "id": app_id, "secrets": [created.secret, secret]}


async def test_the_export_holds_the_owner_s_apps_verifications_and_usage(
    accounts: Harness,
) -> None:
    owner = await accounts.signed_up()
    other = await accounts.signed_up("other@example.com")
    mine = await app_with_records(accounts, owner.account.id, "mine")
    theirs = await app_with_records(accounts, other.account.id, "theirs")
    operators = await app_with_records(accounts, None, "operator")

    exported: Any = await accounts.run(export_account, owner.account.id, client=BROWSER, now=T0)
    dumped = json.dumps(exported)
    (app,) = exported["verify_apps"]
    assert (app["app_key"], app["name"], app["account_id"]) == (
        mine["app_key"],
        "mine",
        owner.account.id,
    )
    assert app["countries"] == ["CN"] and app["templates"] == {"en": "Code {code}"}
    assert app["created_at"] == T0.isoformat()
    assert [s["expires_at"] for s in app["secrets"]] == [
        (T0 + timedelta(hours=1)).isoformat(),
        None,
    ]
    assert exported["verifications"] == [
        {
            "id": "VE" + "m".rjust(32, "0"),
            "app_key": mine["app_key"],
            "channel": "sms",
            "destination": "+86 138****0000",
            "country": "CN",
            "status": "approved",
            "delivery": "sent",
            "attempts": 0,
            "sends": 1,
            "cost": 5,
            "created_at": T0.isoformat(),
            "expires_at": (T0 + timedelta(minutes=10)).isoformat(),
            "finished_at": None,
        }
    ]
    assert exported["verify_usage"] == [
        {
            "app_key": mine["app_key"],
            "day": "2026-03-02",
            "channel": "sms",
            "country": "CN",
            "sent": 3,
            "failed": 1,
            "approved": 2,
        }
    ]
    # Nothing of the other apps; no secret, no digest of a destination or a code.
    for absent in (theirs["app_key"], operators["app_key"], *mine["secrets"], "d" * 64, "c" * 64):
        assert absent not in dumped


async def count(accounts: Harness, table: Any, app_id: int) -> int:
    async with accounts.sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(table).where(table.app_id == app_id)
        )
        return int(found or 0)


async def test_cancellation_erases_the_owner_s_verify_records_only(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    other = await accounts.signed_up("other@example.com")
    mine = await app_with_records(accounts, owner.account.id, "mine")
    kept = [
        await app_with_records(accounts, other.account.id, "theirs"),
        await app_with_records(accounts, None, "operator"),
    ]
    if accounts.engine.dialect.name == "sqlite":
        # The cascade from accounts to verify_apps to their rows needs SQLite's foreign keys on,
        # which the engine turns on for every connection.
        async with accounts.engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    for table in VERIFY_TABLES:
        assert await count(accounts, table, mine["id"]) >= 1

    sent = await accounts.run(request_cancellation, owner.account.id, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    code = sent.outgoing[0].params["code"]
    done = await accounts.run(confirm_cancellation, owner.account.id, code, client=BROWSER, now=T0)
    assert isinstance(done, Cancelled)

    async with accounts.sessions() as session:
        apps = (await session.scalars(select(VerifyApp.app_key).order_by(VerifyApp.id))).all()
    assert apps == [app["app_key"] for app in kept]
    for table in VERIFY_TABLES:
        assert await count(accounts, table, mine["id"]) == 0, table.__tablename__
        for app in kept:
            assert await count(accounts, table, app["id"]) >= 1, table.__tablename__
