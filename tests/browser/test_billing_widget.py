"""The widget of an operator who bills: a unit whose owner's balance is used up shows the visitor
a neutral "Verification unavailable" in their language, never why; an enterprise owner's unit
that asks for it shows a plain privacy link instead of the HumanGate name."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, Response, expect

from humangate.config import Settings
from humangate.db import units as unit_db
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.models import Account, BillingAccount, BillingPlan
from humangate.units import parse_unit_input
from tests.browser._host import HostSite
from tests.browser._widget import MESSAGE, ROOT
from tests.browser.conftest import Server, redis_database
from tests.live import humangate_env, run_cli, running_server

pytestmark = pytest.mark.browser

BRAND = ".humangate-widget a.brand"


@dataclass(frozen=True)
class Seeded:
    broke: str  # a unit of an owner with no money on a priced plan
    hidden: str  # an enterprise owner's unit that asks to hide the mark


async def _seed(settings: Settings) -> Seeded:
    engine = create_engine(settings.resolved_database_url)
    sessions = create_sessionmaker(engine)
    now = datetime.now(UTC)
    try:
        async with sessions() as session:
            priced = BillingPlan(
                name="priced", edition="standard", prices={"challenge": 5}, credit_limit=0,
                is_default=True, created_at=now,
            )  # fmt: skip
            enterprise = BillingPlan(
                name="ent", edition="enterprise", prices={}, credit_limit=0, created_at=now
            )
            owners = [
                Account(
                    email=f"{name}@example.com",
                    email_key=f"{name}@example.com",
                    password_hash="x",
                    status="active",
                    created_at=now,
                    last_active_at=now,
                )  # fmt: skip
                for name in ("broke", "rich")
            ]
            session.add_all([priced, enterprise, *owners])
            await session.flush()
            for owner, plan in zip(owners, (priced, enterprise), strict=True):
                session.add(
                    BillingAccount(account_id=owner.id, plan_id=plan.id, reserved=0, created_at=now)
                )
            await session.commit()
            made = [
                await unit_db.create_unit(
                    session,
                    name=owner.email or "",
                    domains=["127.0.0.1", "localhost"],
                    mode="interactive",
                    pow_difficulty=1000,
                    account_id=owner.id,
                )  # fmt: skip
                for owner in owners
            ]
            await unit_db.update_unit(
                session, made[1].unit.sitekey, parse_unit_input(hide_mark=True)
            )
            return Seeded(broke=made[0].unit.sitekey, hidden=made[1].unit.sitekey)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def billing_server(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Seeded]]:
    own_redis = redis_database(redis_url, "billing-widget")
    data_dir = tmp_path_factory.mktemp("hg-billing")
    env = humangate_env(
        data_dir, redis_url=own_redis, billing="true", monitoring_networks="127.0.0.1/32,::1/128"
    )
    migrated = run_cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    settings = Settings(data_dir=data_dir, secret_key="x" * 40)
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's loop owns the main thread
        seeded = pool.submit(asyncio.run, _seed(settings)).result()
    with running_server(env) as live:
        yield Server(url=live.url, redis_url=own_redis, env=live.env), seeded


def _widget(sitekey: str, lang: str = "") -> str:
    extra = f" data-lang={lang}" if lang else ""
    return (
        f"<div class=humangate data-sitekey={sitekey}{extra} data-callback=onToken "
        "data-error-callback=onError></div>"
    )


NEUTRAL = [("en", "Verification unavailable"), ("zh", "验证暂不可用")]


@pytest.mark.parametrize(("lang", "shown"), NEUTRAL)
def test_a_used_up_balance_shows_a_neutral_message(
    page: Page,
    host_site: HostSite,
    billing_server: tuple[Server, Seeded],
    lang: str,
    shown: str,
) -> None:
    server, seeded = billing_server
    replies: list[int] = []

    def note(response: Response) -> None:
        if response.url.endswith("/challenges"):
            replies.append(response.status)

    page.on("response", note)
    page.goto(host_site.page(server.url, _widget(seeded.broke, lang)))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "error")
    expect(page.locator(MESSAGE)).to_have_text(shown)
    assert replies == [402]
    text = page.locator(ROOT).inner_text().lower()
    for reason in ("balance", "insufficient", "余额", "payment"):
        assert reason not in text
    # The site's own code hears why, so the owner can see it in their logs.
    assert page.evaluate("() => events") == [["error", "insufficient-balance"]]


def test_an_enterprise_unit_may_hide_the_mark_but_not_the_privacy_link(
    page: Page, host_site: HostSite, billing_server: tuple[Server, Seeded]
) -> None:
    server, seeded = billing_server
    page.goto(host_site.page(server.url, _widget(seeded.hidden)))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "puzzle")
    expect(page.locator(BRAND)).to_have_text("Privacy")
    assert "/privacy/device" in (page.locator(BRAND).get_attribute("href") or "")
