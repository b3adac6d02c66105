"""Billing in Chromium, through a real server with HUMANGATE_BILLING on.

The owner's journey: an operator (made with `humangate create-admin`) prices challenges and
issues a voucher; an owner signs up, redeems it, and uses their unit until the voucher is spent;
the next challenge is refused with 402 `insufficient-balance`, the widget on a host page says
only "Verification unavailable", and the console shows the used-up banner; the operator tops up,
the unit works again, and the month's statement (issued as the housekeeping round issues it
once the month has closed) matches the ledger, line by line and in its CSV.

axe-core checks every billing page on the way, in English and in Chinese.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from humangate.billing import statements
from humangate.challenges.pow import solve_pow
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.models import LedgerPosting, LedgerTransaction
from tests.browser._widget import LIVE, ROOT
from tests.browser.conftest import Server, redis_database, store_of
from tests.browser.test_console_auth import _axe, assert_accessible
from tests.browser.test_console_units import create_admin_cli, create_unit, log_in, sign_up
from tests.live import humangate_env, running_server

pytestmark = pytest.mark.browser

PRICE = "0.01"  # CNY per challenge: a voucher of 0.03 pays for three
VOUCHER = "0.03"


@pytest.fixture(scope="module")
def billing_server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`humangate serve` with billing on, its own Redis database, settling every half second."""
    own_redis = redis_database(redis_url, "billing-journey")
    data = tmp_path_factory.mktemp("hg-billing")
    env = humangate_env(
        data,
        redis_url=own_redis,
        monitoring_networks="127.0.0.1/32,::1/128",
        billing="true",
        billing_settle_seconds="0.5",
    )
    with running_server(env) as live:
        yield Server(url=live.url, redis_url=own_redis, env=live.env)


@pytest.fixture(scope="module")
def billing_redis(billing_server: Server):
    with store_of(billing_server) as client:
        yield client


def _database_url(server: Server) -> str:
    return f"sqlite+aiosqlite:///{Path(server.env['HUMANGATE_DATA_DIR']) / 'humangate.db'}"


def _in_thread(work):  # Playwright's sync API holds this thread's event loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _issue_and_sum(url: str, at: datetime) -> dict[str, int]:
    """Issue the statements due at `at`, and sum the owners' books per kind straight from the
    ledger, for the transactions booked before `at`."""
    engine = create_engine(url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            await statements.issue_statements(session, now=at)
            rows = await session.execute(
                select_books().where(LedgerTransaction.created_at < at.replace(day=1, hour=0))
            )
            return {kind: int(total) for kind, total in rows}
    finally:
        await engine.dispose()


def select_books():
    return (
        select(LedgerTransaction.kind, func.sum(LedgerPosting.amount))
        .join(LedgerPosting, LedgerPosting.transaction_id == LedgerTransaction.id)
        .where((LedgerPosting.book == "cash") | LedgerPosting.book.like("voucher:%"))
        .group_by(LedgerTransaction.kind)
    )


def _challenge(server: Server, sitekey: str) -> httpx.Response:
    with httpx.Client(base_url=server.url, headers={"Origin": server.url}, timeout=30) as http:
        return http.post("/api/v1/challenges", json={"sitekey": sitekey})


def _pass(server: Server, sitekey: str, secret: str) -> None:
    """What a visitor's widget and the site's server do: a challenge, its work, siteverify."""
    with httpx.Client(base_url=server.url, headers={"Origin": server.url}, timeout=30) as http:
        challenge = http.post("/api/v1/challenges", json={"sitekey": sitekey})
        assert challenge.status_code == 200, challenge.text
        body = challenge.json()
        number = solve_pow(body["pow"])
        answer = http.post(
            f"/api/v1/challenges/{body['id']}/answer", json={"pow": {"number": number}}
        ).json()
        assert answer["success"] is True, answer
        result = http.post("/siteverify", data={"secret": secret, "response": answer["token"]})
        assert result.json()["success"] is True, result.text


def _reload_until(page, selector: str, *, present: bool, rounds: int = 60) -> None:
    """Reload until `selector` is (or is not) on the page: settlement runs every half second."""
    for _ in range(rounds):
        page.reload()
        if (page.locator(selector).count() > 0) == present:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{selector} {'never appeared' if present else 'never went'}")


def _operator(browser, server: Server, redis_db, locale: str = "en"):
    """An operator logged in; one made by the CLI speaks English until the profile says not."""
    context = browser.new_context(locale="en", bypass_csp=True, color_scheme="light")
    page = context.new_page()
    log_in(page, server, create_admin_cli(server), redis_db)
    if locale != "en":
        page.goto(server.url + "/console/profile")
        page.select_option("#language", locale)
        page.click("form:has(#language) button[type=submit]")
        expect(page.locator("html")).to_have_attribute("lang", locale)
    return context, page


def test_owner_journey_voucher_usage_running_out_top_up_and_statement(
    browser, billing_server, billing_redis, host_site
):
    server, found = billing_server, {}
    ops_context, ops = _operator(browser, server, billing_redis)
    owner_context = browser.new_context(bypass_csp=True, color_scheme="light")
    page = owner_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # The operator prices challenges and issues a voucher.
        ops.goto(server.url + "/console/admin/billing")
        found["admin billing, empty"] = _axe(ops)
        ops.fill("#new-name", "Metered")
        ops.fill("#new-prices", f"challenge = {PRICE}")
        ops.check("#new-default")
        ops.click("#new-plan button[type=submit]")
        expect(ops.locator("p.alert.ok")).to_be_visible()
        ops.fill("#voucher-amount", VOUCHER)
        ops.fill("#voucher-days", "30")
        ops.click("#issue-vouchers button[type=submit]")
        code = ops.inner_text("code.voucher-code")
        found["vouchers issued"] = _axe(ops)

        # A newcomer redeems it and makes a unit.
        address = sign_up(page, server)
        page.goto(server.url + "/console/billing")
        expect(page.locator("#balance-banner")).to_be_visible()  # nothing paid in yet
        found["billing, empty"] = _axe(page)
        page.fill("#code", code)
        page.click("#redeem-form button[type=submit]")
        expect(page.locator("#balance-total")).to_have_text("0.03 CNY")
        expect(page.locator("#vouchers")).to_contain_text("0.03 CNY")
        expect(page.locator("#balance-banner")).to_have_count(0)
        found["billing, voucher"] = _axe(page)
        sitekey, secret = create_unit(page, server)

        # Three challenges spend the voucher; the fourth is refused.
        for _ in range(3):
            _pass(server, sitekey, secret)
        refused = _challenge(server, sitekey)
        assert refused.status_code == 402, refused.text
        assert refused.json()["error"] == "insufficient-balance"
        widget = browser.new_page()
        widget.goto(
            host_site.page(server.url, f'<div class="humangate" data-sitekey="{sitekey}"></div>')
        )
        expect(widget.locator(ROOT)).to_have_attribute("data-state", "error")
        expect(widget.locator(LIVE)).to_have_text("Verification unavailable")
        assert "balance" not in widget.locator(ROOT).inner_text().lower()
        widget.close()

        page.goto(server.url + "/console/units")
        _reload_until(page, "#balance-banner", present=True)
        page.goto(server.url + "/console/billing")
        expect(page.locator("#balance-total")).to_have_text("0.00 CNY")
        expect(page.locator("#usage-by-unit")).to_contain_text("My shop")
        found["billing, used up"] = _axe(page)

        # The operator tops up; the unit works again.
        ops.goto(server.url + "/console/admin/billing?q=" + address)
        ops.click(f"#balances a:has-text('{address}')")
        expect(ops.locator("#money-form")).to_be_visible()
        found["admin account billing"] = _axe(ops)
        ops.fill("#amount", "1")
        ops.fill("#reason", "Bank transfer 2026-12")
        ops.click("#money-form button[type=submit]")
        expect(ops.locator("#balance-total")).to_have_text("1.00 CNY")
        _pass(server, sitekey, secret)
        page.goto(server.url + "/console/units")
        _reload_until(page, "#balance-banner", present=False)
        page.goto(server.url + "/console/billing")
        _reload_until(page, "#usage-by-unit td:has-text('4')", present=True)
        # A "4" may stand in another cell before the charge is settled: wait for the balance.
        _reload_until(page, "#balance-total:text-is('0.99 CNY')", present=True)

        # The month closes: its statement matches the ledger.
        now = datetime.now(UTC)
        closed = statements.month_bounds(statements.period_of(now))[1] + timedelta(hours=1)
        books = _in_thread(_issue_and_sum(_database_url(server), closed))
        page.goto(server.url + "/console/billing")
        page.click("#statements th a")
        expect(page.locator("#statement")).to_be_visible()
        found["statement"] = _axe(page)
        shown = {
            line: page.inner_text(f'td[data-line="{line}"]')
            for line in ("opening", "voucher-grant", "usage", "top-up", "closing")
        }
        assert shown == {
            "opening": "0.00 CNY",
            "voucher-grant": f"{books['voucher-grant'] / 100:.2f} CNY",
            "usage": f"{books['usage'] / 100:.2f} CNY",
            "top-up": f"{books['top-up'] / 100:.2f} CNY",
            "closing": f"{sum(books.values()) / 100:.2f} CNY",
        }
        assert shown["closing"] == "0.99 CNY" and shown["usage"] == "-0.04 CNY"
        expect(page.locator("#statement-usage")).to_contain_text("My shop")
        number = page.url.rsplit("/", 1)[1]
        assert re.fullmatch(r"HG-\d{6}-\d{6}", number)
        sheet = page.request.get(f"{server.url}/console/billing/statements/{number}.csv")
        rows = list(csv.reader(io.StringIO(sheet.text())))
        assert rows[-1] == ["closing", "", "", "", "0.99"]
        assert ["usage", "My shop", "challenge", "4", "-0.04"] in rows
    finally:
        owner_context.close()
        ops_context.close()
    assert not errors, errors
    assert_accessible(found, at_least=7)


def test_axe_on_the_billing_pages_in_chinese(browser, billing_server, billing_redis):
    server, found = billing_server, {}
    context = browser.new_context(locale="zh-CN", bypass_csp=True, color_scheme="light")
    page = context.new_page()
    ops_context, ops = _operator(browser, server, billing_redis, "zh-CN")
    try:
        sign_up(page, server)
        for path in ("/console/billing", "/console/units"):
            page.goto(server.url + path)
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            found[f"zh {path}"] = _axe(page)
        page.goto(server.url + "/console/billing")
        page.fill("#code", "HG-NOPE")
        page.click("#redeem-form button[type=submit]")
        expect(page.locator("#form-error")).to_be_visible()
        found["zh billing, wrong code"] = _axe(page)
        ops.goto(server.url + "/console/admin/billing")
        expect(ops.locator("html")).to_have_attribute("lang", "zh-CN")
        found["zh admin billing"] = _axe(ops)
        ops.fill("#voucher-amount", "abc")
        ops.fill("#voucher-days", "30")
        ops.click("#issue-vouchers button[type=submit]")
        expect(ops.locator("#form-error")).to_be_visible()
        found["zh admin billing, error"] = _axe(ops)
        ops.click("#balances th a >> nth=0")
        expect(ops.locator("#money-form")).to_be_visible()
        found["zh admin account billing"] = _axe(ops)
    finally:
        context.close()
        ops_context.close()
    assert_accessible(found, at_least=6)


def test_axe_on_the_unit_form_that_offers_to_leave_the_mark_out(
    browser, billing_server, billing_redis
):
    """An owner the operator moved to an enterprise plan finds the mark's box on the unit form,
    ticks it, and sees it ticked; axe checks the form in English and in Chinese."""
    server, found = billing_server, {}
    ops_context, ops = _operator(browser, server, billing_redis)
    context = browser.new_context(bypass_csp=True, color_scheme="light")
    page = context.new_page()
    try:
        ops.goto(server.url + "/console/admin/billing")
        ops.fill("#new-name", "Enterprise mark")
        ops.select_option("#new-edition", "enterprise")
        ops.click("#new-plan button[type=submit]")
        expect(ops.locator("p.alert.ok")).to_be_visible()
        address = sign_up(page, server)
        ops.goto(server.url + "/console/admin/billing?q=" + address)
        ops.click(f"#balances a:has-text('{address}')")
        ops.select_option("#plan", label="Enterprise mark")
        ops.click("#plan-form button[type=submit]")
        expect(ops.locator("p.alert.ok")).to_be_visible()

        sitekey, _ = create_unit(page, server)
        form = f"{server.url}/console/units/{sitekey}/edit"
        page.goto(form)
        expect(page.locator("#hide_mark")).not_to_be_checked()
        found["unit form, mark offered"] = _axe(page)
        page.check("#hide_mark")
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{server.url}/console/units/{sitekey}")
        page.goto(form)
        expect(page.locator("#hide_mark")).to_be_checked()
        page.goto(server.url + "/console/profile")
        page.select_option("#language", "zh-CN")
        page.click("form:has(#language) button[type=submit]")
        page.goto(form)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("label[for=hide_mark]")).to_have_text("在组件中不显示 HumanGate 名称")
        found["zh unit form, mark offered"] = _axe(page)
    finally:
        context.close()
        ops_context.close()
    assert_accessible(found, at_least=2)
