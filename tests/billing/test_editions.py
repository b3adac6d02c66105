"""Editions: what a standard and an enterprise owner may use with billing on, and that billing
off allows everything; each gate over HTTP with both editions and with billing off."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.app import create_app
from humangate.billing.editions import EVERYTHING, EditionPolicy, Editions, allowance
from humangate.billing.statistics import purge_statistics
from humangate.config import Settings
from humangate.db import units as unit_db
from humangate.db.models import Account, BillingAccount, BillingPlan
from humangate.db.stats import UnitStat
from humangate.units import parse_unit_input
from tests.api.helpers import issue, pass_pow, siteverify
from tests.app_services import services_of
from tests.conftest import ORIGIN
from tests.live import create_unit_cli, humangate_env, run_cli
from tests.verify._app import make_app

POLICY = EditionPolicy(
    standard_stats_days=31, enterprise_stats_days=400, enterprise_rate_multiplier=5
)
_numbers = itertools.count(1)
PHONE = "+8613800138000"


def test_billing_off_allows_everything_whatever_the_edition() -> None:
    for edition in ("standard", "enterprise", None):
        assert allowance(billing=False, edition=edition, policy=POLICY) == EVERYTHING


def test_the_operators_own_units_are_allowed_everything() -> None:
    assert allowance(billing=True, edition=None, policy=POLICY) == EVERYTHING


def test_standard_has_none_of_the_extras() -> None:
    standard = allowance(billing=True, edition="standard", policy=POLICY)
    for feature in ("score-reasons", "calibration", "verify-api", "hide-mark"):
        assert not standard.allows(feature)
    assert standard.stats_days == 31 and standard.rate_multiplier == 1


def test_enterprise_has_every_extra_and_the_operators_numbers() -> None:
    enterprise = allowance(billing=True, edition="enterprise", policy=POLICY)
    for feature in ("score-reasons", "calibration", "verify-api", "hide-mark"):
        assert enterprise.allows(feature)
    assert enterprise.stats_days == 400 and enterprise.rate_multiplier == 5


# --- over HTTP ------------------------------------------------------------------------------


def _app(make_settings: Callable[..., Settings], **overrides: object) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(**overrides)), headers={"Origin": ORIGIN}) as client:
        yield client


@pytest.fixture(params=["standard", "enterprise", "billing-off"])
def edition(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(edition: str, make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    yield from _app(
        make_settings,
        billing=edition != "billing-off",
        rate_challenges_per_minute=3,
        billing_enterprise_rate_multiplier=3,
    )


async def _add_owner(session: AsyncSession, edition: str) -> int:
    """An owner on a free plan of `edition` (an operator's plan, no price)."""
    n = next(_numbers)
    now = datetime.now(UTC)
    plan = BillingPlan(
        name=f"{edition}-{n}", edition=edition, prices={}, credit_limit=0, created_at=now
    )
    account = Account(
        email=f"owner{n}@example.com",
        email_key=f"owner{n}@example.com",
        password_hash="x",
        status="active",
        created_at=now,
        last_active_at=now,
    )
    session.add_all([plan, account])
    await session.flush()
    session.add(BillingAccount(account_id=account.id, plan_id=plan.id, reserved=0, created_at=now))
    await session.commit()
    return account.id


def owner_with_unit(
    client: TestClient, edition: str, *, mode: str = "invisible"
) -> tuple[int, str, str]:
    """An owner on an `edition` plan ("standard" for billing off) and a unit of theirs:
    (account id, site key, secret)."""
    sessions = services_of(client).sessions

    async def work() -> tuple[int, unit_db.CreatedUnit]:
        async with sessions() as session:
            owner = await _add_owner(session, "standard" if edition == "billing-off" else edition)
            created = await unit_db.create_unit(
                session,
                name="owned",
                domains=["localhost"],
                mode=mode,  # type: ignore[arg-type]
                pow_difficulty=500,
                account_id=owner,
            )
            return owner, created

    owner, created = client.portal.call(work)  # type: ignore[union-attr]
    return owner, created.unit.sitekey, created.secret


def allowed(edition: str) -> bool:
    return edition != "standard"


def test_score_reasons_in_siteverify_for_enterprise_only(client: TestClient, edition: str) -> None:
    _, sitekey, secret = owner_with_unit(client, edition)
    answer = siteverify(client, secret, pass_pow(client, sitekey)).json()
    assert answer["success"] is True and "score" in answer
    assert ("score_reasons" in answer) is allowed(edition)


def test_calibration_and_labels_for_enterprise_only(client: TestClient, edition: str) -> None:
    _, sitekey, secret = owner_with_unit(client, edition)
    token = pass_pow(client, sitekey)
    calibration = client.post("/api/v1/calibration", json={"secret": secret})
    label = client.post(
        "/api/v1/feedback", json={"secret": secret, "response": token, "label": "abusive"}
    )
    if allowed(edition):
        assert calibration.status_code == 200, calibration.text
        assert label.status_code in (200, 404), label.text  # 404: the event is not yet kept
    else:
        for refused in (calibration, label):
            assert refused.status_code == 403
            assert refused.json()["error"] == "edition-required"


def test_the_verification_api_for_enterprise_only(client: TestClient, edition: str) -> None:
    owner, _, _ = owner_with_unit(client, edition)
    app = make_app(client, account_id=owner)
    started = app.start(PHONE)
    if allowed(edition):
        assert started.status_code == 201, started.text
    else:
        assert started.status_code == 403
        assert started.json()["error"] == "edition-required"
        assert app.fetch("v" * 20).json()["error"] == "edition-required"


def test_an_operators_own_app_is_never_refused(client: TestClient) -> None:
    assert make_app(client).start(PHONE).status_code == 201


def test_enterprise_units_get_a_higher_challenge_limit(client: TestClient, edition: str) -> None:
    """Three challenges a minute per network, three times that for enterprise."""
    _, sitekey, _ = owner_with_unit(client, edition)
    codes = [
        client.post("/api/v1/challenges", json={"sitekey": sitekey}).status_code for _ in range(6)
    ]
    if edition == "enterprise":
        assert codes == [200] * 6
    else:
        assert codes[:3] == [200] * 3 and codes[3:] == [429] * 3


# --- statistics retention -------------------------------------------------------------------


def _stats_of(client: TestClient, unit_ids: list[int], now: datetime) -> dict[int, int]:
    sessions = services_of(client).sessions

    async def work() -> dict[int, int]:
        async with sessions() as session:
            for unit_id in unit_ids:
                for days in (1, 40, 500):
                    hour = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
                    session.add(
                        UnitStat(unit_id=unit_id, hour=hour, metric="issued", key="", count=1)
                    )
            await session.commit()
            await purge_statistics(session, now=now, policy=POLICY)
            rows = await session.execute(
                select(UnitStat.unit_id, func.count()).group_by(UnitStat.unit_id)
            )
            return {int(unit_id): int(count) for unit_id, count in rows}

    return client.portal.call(work)  # type: ignore[union-attr]


PRODUCTION = pytest.param("postgres-redis", marks=[pytest.mark.postgres, pytest.mark.redis])


@pytest.fixture(params=["embedded", PRODUCTION])
def billing_on(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> Iterator[TestClient]:
    if request.param == "embedded":
        yield from _app(make_settings, billing=True)
    else:
        yield from _app(
            make_settings,
            billing=True,
            database_url=request.getfixturevalue("fresh_postgres_url"),
            redis_url=request.getfixturevalue("redis_url"),
        )


def _unowned_unit(client: TestClient) -> int:
    """A unit made as the CLI makes them: the operator's, with no owner."""
    sessions = services_of(client).sessions

    async def work() -> int:
        async with sessions() as session:
            created = await unit_db.create_unit(
                session, name="cli", domains=["localhost"], mode="invisible", pow_difficulty=500
            )
            return created.unit.id

    return int(client.portal.call(work))  # type: ignore[union-attr]


def _unit_id(client: TestClient, sitekey: str) -> int:
    unit = client.portal.call(services_of(client).directory.by_sitekey, sitekey)  # type: ignore[union-attr]
    assert unit is not None
    return unit.id


def test_statistics_are_kept_for_the_editions_days(billing_on: TestClient) -> None:
    client = billing_on
    standard = _unit_id(client, owner_with_unit(client, "standard")[1])
    enterprise = _unit_id(client, owner_with_unit(client, "enterprise")[1])
    operators = _unowned_unit(client)
    kept = _stats_of(client, [standard, enterprise, operators], datetime.now(UTC))
    # Standard keeps 31 days (1 of 3 rows), enterprise 400 (2 of 3), the operator's all 3.
    assert kept == {standard: 1, enterprise: 2, operators: 3}


def _hide_mark(client: TestClient, sitekey: str) -> None:
    sessions = services_of(client).sessions

    async def work() -> None:
        async with sessions() as session:
            await unit_db.update_unit(session, sitekey, parse_unit_input(hide_mark=True))

    client.portal.call(work)  # type: ignore[union-attr]


def test_the_mark_is_removable_for_enterprise_only(client: TestClient, edition: str) -> None:
    _, sitekey, _ = owner_with_unit(client, edition)
    assert "mark" not in issue(client, sitekey)  # shown unless the owner asks
    _hide_mark(client, sitekey)
    assert ("mark" in issue(client, sitekey)) is allowed(edition)
    if allowed(edition):
        assert issue(client, sitekey)["mark"] is False


# --- the per-node cache ---------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _CountingEditions(Editions):
    """The real lookup, counting its trips to the database."""

    reads = 0

    async def _read_edition(self, account_id: int) -> str:
        self.reads += 1
        return await super()._read_edition(account_id)


def test_an_accounts_edition_is_read_once_per_ttl_and_a_plan_change_follows(
    billing_on: TestClient,
) -> None:
    client = billing_on
    owner, _, _ = owner_with_unit(client, "standard")
    sessions = services_of(client).sessions
    clock = _Clock()
    editions = _CountingEditions(sessions, billing=True, policy=POLICY, ttl=5, clock=clock)

    async def ask_many() -> list[bool]:
        found = await asyncio.gather(*(editions.of_account(owner) for _ in range(20)))
        return [a.verify_api for a in found]

    async def upgrade() -> None:
        async with sessions() as session:
            plan = BillingPlan(
                name=f"ent-{owner}", edition="enterprise", prices={}, created_at=datetime.now(UTC)
            )
            session.add(plan)
            await session.flush()
            row = await session.get(BillingAccount, owner)
            assert row is not None
            row.plan_id = plan.id
            await session.commit()

    portal = client.portal
    assert portal is not None
    assert portal.call(ask_many) == [False] * 20
    assert editions.reads == 1  # twenty at once: one read
    portal.call(upgrade)
    clock.now = 4.9
    assert portal.call(ask_many) == [False] * 20  # cached for its few seconds
    clock.now = 5.1
    assert portal.call(ask_many) == [True] * 20
    assert editions.reads == 2


def test_the_operator_sets_the_mark_at_the_command_line(tmp_path: Path) -> None:
    env = humangate_env(tmp_path)
    sitekey = create_unit_cli(env, "--domain", "example.org")["sitekey"]
    shown = run_cli(env, "unit", "update", sitekey, "--hide-mark", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["hide_mark"] is True
    back = run_cli(env, "unit", "update", sitekey, "--show-mark", "--json")
    assert json.loads(back.stdout)["hide_mark"] is False
    both = run_cli(env, "unit", "update", sitekey, "--hide-mark", "--show-mark")
    assert both.returncode == 2 and "not allowed with" in both.stderr
