"""Plans and prices (humangate/billing/plans.py) on SQLite and PostgreSQL: created, checked,
updated, one default, owners moved between them; the free standard plan made on first need."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts.audit import OPERATOR
from humangate.billing import ledger, plans
from humangate.db.models import AuditEntry
from humangate.errors import InvalidInput, NotFound
from tests.billing._db import NOW, db_url, make_owner, sessions

__all__ = ["db_url", "sessions"]


async def test_create_list_update_and_the_default(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        basic = await plans.create_plan(
            session,
            name="Basic",
            edition="standard",
            prices={"challenge": 2, "verify": 1, "sms:cn": 40, "sms:*": 90},
            now=NOW,
            actor=OPERATOR,
        )
        pro = await plans.create_plan(
            session,
            name="Pro",
            edition="enterprise",
            prices={"email": 3, "carrier:*": 30},
            credit_limit=5000,
            now=NOW,
            actor=OPERATOR,
        )
    assert basic.is_default and not pro.is_default  # the first plan is the default
    assert basic.prices == {"challenge": 2, "verify": 1, "sms:CN": 40, "sms:*": 90}
    assert ledger.price_of(basic, "sms:CN") == 40 and ledger.price_of(basic, "sms:GB") == 90
    assert ledger.price_of(pro, "challenge") == 0

    async with sessions() as session:
        await plans.set_default_plan(session, "Pro", actor=OPERATOR, now=NOW)
        changed = await plans.update_plan(
            session,
            "Basic",
            new_name="Starter",
            prices={"challenge": 3},
            credit_limit=10,
            actor=OPERATOR,
            now=NOW,
        )
    assert changed.prices == {"challenge": 3} and changed.credit_limit == 10
    async with sessions() as session:
        listed = await plans.list_plans(session)
    assert [(p.name, p.edition, p.is_default) for p in listed] == [
        ("Starter", "standard", False),
        ("Pro", "enterprise", True),
    ]
    assert plans.plan_row(listed[1])["prices"] == {"carrier:*": 30, "email": 3}


async def test_bad_plans_are_refused_and_change_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bad: list[dict[str, object]] = [
        {"prices": {"challenge": -1}},
        {"prices": {"challenge": 1.5}},
        {"prices": {"challenge": True}},
        {"prices": {"sms:XX": 5}},
        {"prices": {"sms:CHN": 5}},
        {"prices": {"captcha": 5}},
        {"prices": {"email:*": 5}},
        {"prices": {"challenge": plans.MAX_AMOUNT + 1}},
        {"edition": "gold"},
        {"name": ""},
        {"name": "x" * 61},
        {"credit_limit": -5},
    ]
    for fields in bad:
        values: dict[str, object] = {"name": "P", "edition": "standard", "prices": {}}
        values.update(fields)
        async with sessions() as session:
            with pytest.raises(InvalidInput):
                await plans.create_plan(session, now=NOW, actor=OPERATOR, **values)  # type: ignore[arg-type]
    async with sessions() as session:
        assert await plans.list_plans(session) == []
        await plans.create_plan(
            session, name="P", edition="standard", prices={}, now=NOW, actor=OPERATOR
        )
    async with sessions() as session:
        with pytest.raises(InvalidInput) as taken:
            await plans.create_plan(
                session, name="P", edition="standard", prices={}, now=NOW, actor=OPERATOR
            )
        assert taken.value.code == "plan-exists"
    async with sessions() as session:
        with pytest.raises(NotFound):
            await plans.update_plan(session, "Nope", credit_limit=1, actor=OPERATOR, now=NOW)
        with pytest.raises(InvalidInput):
            await plans.update_plan(session, "P", prices={"sms:ZZ": 1}, actor=OPERATOR, now=NOW)
        assert (await plans.get_plan(session, "P")).prices == {}


async def test_owners_start_on_the_default_and_move(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await make_owner(sessions)
    async with sessions() as session:
        # No plan at all: the first need makes the free standard one.
        plan = await ledger.plan_of(session, first, now=NOW)
        await session.commit()
    assert (plan.name, plan.edition, dict(plan.prices)) == ("standard", "standard", {})
    async with sessions() as session:
        await plans.create_plan(
            session,
            name="Pro",
            edition="enterprise",
            prices={"challenge": 1},
            make_default=True,
            now=NOW,
            actor=OPERATOR,
        )
    second = await make_owner(sessions)
    async with sessions() as session:
        assert (await ledger.plan_of(session, second, now=NOW)).name == "Pro"
        assert (await ledger.plan_of(session, first, now=NOW)).name == "standard"
        moved = await plans.assign_plan(session, first, "Pro", now=NOW, actor=OPERATOR)
    assert moved.name == "Pro"
    async with sessions() as session:
        assert (await ledger.plan_of(session, first, now=NOW)).edition == "enterprise"
        with pytest.raises(NotFound):
            await plans.assign_plan(session, first, "Nope", now=NOW, actor=OPERATOR)
        with pytest.raises(NotFound):
            await plans.assign_plan(session, 999_999, "Pro", now=NOW, actor=OPERATOR)
        logged = await session.execute(
            select(AuditEntry.action, AuditEntry.account_id, AuditEntry.actor_kind)
        )
    assert sorted(logged) == [
        ("billing.plan-assigned", first, "operator"),
        ("billing.plan-created", None, "operator"),
    ]


@given(st.text(max_size=12))
def test_only_known_item_shapes_are_prices(text: str) -> None:
    from phonenumbers import SUPPORTED_REGIONS

    known = {"challenge", "verify", "email", "sms:*", "carrier:*"}
    country = text.removeprefix("sms:")
    valid = text.strip() in known or (
        text.startswith("sms:")
        and len(country) == 2
        and country.isascii()
        and country.isalpha()
        and country.upper() in SUPPORTED_REGIONS
    )
    if valid:
        assert plans.check_item(text) in known | {f"sms:{country.upper()}"}
    else:
        with pytest.raises(InvalidInput):
            plans.check_item(text)
