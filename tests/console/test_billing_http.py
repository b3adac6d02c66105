"""The billing pages over HTTP: hidden while billing is off; the owner's balance, plan, vouchers,
usage, statements (page and CSV) and the used-up banner; the operator's plans, vouchers,
balances and audited money actions; ownership, CSRF and bad input (4xx, never 5xx).

Owners and admins are made through the account core (tests/console/test_units_http.py); usage
is posted through the ledger as the settlement job would, since these pages only read it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from humangate.billing import ledger, statements
from humangate.config import Settings
from humangate.db.models import AuditEntry
from tests.billing.test_payments import fake_stripe  # noqa: F401 (a fixture)
from tests.console.conftest import open_client
from tests.console.test_i18n import english_left, set_language
from tests.console.test_units_http import (
    Login,
    create,
    csrf_of,
    make_admin,
    make_owner,
    run,
    use,
)

BANNER = 'id="balance-banner"'


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(console_widget=False, demo=False, billing=True)


@pytest.fixture
def admin(client: TestClient) -> Login:
    return make_admin(client)


def post(client: TestClient, path: str, data: dict[str, Any], *, page: str) -> Any:
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf": token}, follow_redirects=False)


def admin_post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return post(client, path, data, page="/console/admin/billing")


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, html
    return found.group(1).strip()


def make_plan(client: TestClient, admin: Login, prices: str, **extra: str) -> None:
    use(client, admin)
    data = {"name": "Pay as you go", "edition": "standard", "prices": prices, "credit": "0"}
    reply = admin_post(client, "/console/admin/billing/plans", {**data, **extra})
    assert reply.status_code == 303, reply.text


def issue_code(client: TestClient, admin: Login, amount: str = "5.00") -> str:
    use(client, admin)
    page = admin_post(
        client, "/console/admin/billing/vouchers", {"amount": amount, "days": "30", "count": "1"}
    )
    assert page.status_code == 200, page.text
    found = re.search(r'<code class="voucher-code">([^<]+)</code>', page.text)
    assert found, page.text
    return found.group(1)


def move_money(
    client: TestClient, account_id: int, action: str, amount: str, reason: str = "by hand"
) -> Any:
    path = f"/console/admin/billing/accounts/{account_id}"
    page = client.get(path).text
    request_id = re.search(r'name="request_id" value="([^"]+)"', page)
    assert request_id
    data = {
        "csrf": csrf_of(page),
        "request_id": request_id.group(1),
        "action": action,
        "amount": amount,
        "reason": reason,
    }
    return client.post(path + "/money", data=data, follow_redirects=False)


# --- off -------------------------------------------------------------------------------------


def test_with_billing_off_there_is_no_billing_page_or_link(
    make_settings: Callable[..., Settings],
) -> None:
    client = open_client(make_settings(console_widget=False, demo=False))
    try:
        admin = make_admin(client)
        use(client, admin)
        for path in ("/console/billing", "/console/admin/billing", "/console/billing/statements/x"):
            assert client.get(path).status_code == 404, path
        home = client.get("/console").text
        assert "/console/billing" not in home and "/console/admin/billing" not in home
        assert BANNER not in home
    finally:
        client.__exit__(None, None, None)


# --- the owner -------------------------------------------------------------------------------


def test_owner_redeems_a_voucher_and_sees_it_with_its_expiry(
    client: TestClient, admin: Login
) -> None:
    code = issue_code(client, admin, "5.00")
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    page = client.get("/console/billing")
    assert page.status_code == 200
    assert text_of(page.text, "balance-total") == "0.00 CNY"
    assert text_of(page.text, "plan-edition") == "Standard"
    assert 'id="ask-operator"' in page.text  # no payment provider configured

    reply = post(client, "/console/billing/redeem", {"code": code.lower()}, page="/console/billing")
    assert reply.status_code == 303
    page = client.get(reply.headers["location"]).text
    assert text_of(page, "balance-total") == "5.00 CNY"
    assert text_of(page, "balance-cash") == "0.00 CNY"
    assert 'id="vouchers"' in page
    expiry = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert expiry in page

    again = post(client, "/console/billing/redeem", {"code": code}, page="/console/billing")
    assert again.status_code == 400 and "redeemed already" in again.text
    wrong = post(client, "/console/billing/redeem", {"code": "HG-0000"}, page="/console/billing")
    assert wrong.status_code == 400 and 'id="form-error"' in wrong.text
    assert text_of(wrong.text, "balance-total") == "5.00 CNY"


def test_forms_need_their_csrf_token(client: TestClient, admin: Login) -> None:
    use(client, make_owner(client, "owner@example.com"))
    reply = client.post("/console/billing/redeem", data={"code": "x"}, follow_redirects=False)
    assert reply.status_code == 403
    use(client, admin)
    reply = client.post(
        "/console/admin/billing/plans",
        data={"name": "p", "edition": "standard", "prices": ""},
        follow_redirects=False,
    )
    assert reply.status_code == 403


def test_banner_when_the_balance_is_used_up_and_gone_after_a_top_up(
    client: TestClient, admin: Login
) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    # The free plan billing starts with never runs out.
    assert BANNER not in client.get("/console/units").text
    make_plan(client, admin, "challenge = 0.01", default="on")
    use(client, owner)
    for path in ("/console", "/console/units", "/console/billing", "/console/profile"):
        page = client.get(path).text
        assert BANNER in page, path
    assert "new challenges are refused" in page
    use(client, admin)
    assert BANNER not in client.get("/console/admin/billing").text  # the operator's own pages
    assert move_money(client, owner.account_id, "top-up", "1.00").status_code == 303
    use(client, owner)
    assert BANNER not in client.get("/console/units").text


def test_usage_by_day_unit_and_item_and_the_statement(client: TestClient, admin: Login) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    sitekey, _ = create(client)
    unit_id = run(client, lambda s: _unit_id(s, sitekey))
    now = datetime.now(UTC)
    last_month = statements.month_bounds(statements.period_of(now))[0] - timedelta(days=3)

    async def history(session: Any) -> None:
        aid = owner.account_id
        await ledger.top_up(session, aid, 1000, reference="h1", actor="t", now=last_month)
        hour = last_month.replace(minute=0, second=0, microsecond=0)
        lines = [
            ledger.UsageLine(hour, unit_id, "challenge", 40, 40),
            ledger.UsageLine(hour, unit_id, "verify", 30, 60),
        ]
        await ledger.settle_usage(session, aid, lines, batch="b1", now=last_month)
        today = now.replace(minute=0, second=0, microsecond=0)
        line = ledger.UsageLine(today, unit_id, "challenge", 7, 7)
        await ledger.settle_usage(session, aid, [line], batch="b2", now=now)
        await session.commit()
        await statements.issue_statements(session, now=now)

    run(client, history)
    page = client.get("/console/billing").text
    assert text_of(page, "balance-total") == "8.93 CNY"
    assert 'id="usage-by-day"' in page and 'id="stats-data"' in page
    this_month = page.split('id="usage-by-unit"')[1].split("</table>")[0]
    assert "Shop sign-up" in this_month and "Challenges issued" in this_month
    assert "<td>7</td>" in this_month

    number = re.search(r'href="/console/billing/statements/(HG-\d{6}-\d{6})"', page)
    assert number, page
    shown = client.get(f"/console/billing/statements/{number.group(1)}")
    assert shown.status_code == 200
    assert 'data-line="opening">0.00 CNY' in shown.text
    assert 'data-line="usage">-1.00 CNY' in shown.text
    assert 'data-line="closing">9.00 CNY' in shown.text
    assert "Tokens verified" in shown.text and "Shop sign-up" in shown.text

    sheet = client.get(f"/console/billing/statements/{number.group(1)}.csv")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    assert f'filename="{number.group(1)}.csv"' in sheet.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(sheet.text)))
    assert rows[2] == ["opening", "", "", "", "0.00"] and rows[-1][-1] == "9.00"
    assert ["usage", "Shop sign-up", "verify", "30", "-0.60"] in rows

    # Another owner: the number is not theirs.
    use(client, make_owner(client, "other@example.com"))
    for path in (
        f"/console/billing/statements/{number.group(1)}",
        f"/console/billing/statements/{number.group(1)}.csv",
    ):
        assert client.get(path).status_code == 404
    assert client.get("/console/admin/billing").status_code == 403


async def _unit_id(session: Any, sitekey: str) -> int:
    from humangate.db.models import Unit

    return int((await session.execute(select(Unit.id).where(Unit.sitekey == sitekey))).scalar_one())


# --- the operator ----------------------------------------------------------------------------


def test_plans_are_created_edited_and_made_default(client: TestClient, admin: Login) -> None:
    make_plan(client, admin, "challenge = 0.01\nsms:cn = 0.05")
    page = client.get("/console/admin/billing").text
    plan_id = re.search(r'id="plan-(\d+)"', page)
    assert plan_id and "sms:CN = 0.05" in page
    path = f"/console/admin/billing/plans/{plan_id.group(1)}"
    data = {"name": "Business", "edition": "enterprise", "prices": "verify = 1", "credit": "2.50"}
    assert admin_post(client, path, data).status_code == 303
    page = client.get("/console/admin/billing").text
    assert "Business" in page and "verify = 1.00" in page and 'value="2.50"' in page

    bad = admin_post(client, path, {**data, "prices": "nonsense = 1"})
    assert bad.status_code == 400 and 'id="form-error"' in bad.text
    bad = admin_post(client, path, {**data, "prices": "verify 1"})
    assert bad.status_code == 400
    bad = admin_post(client, path, {**data, "prices": "verify = 0.001"})
    assert bad.status_code == 400
    bad = admin_post(client, "/console/admin/billing/plans", {**data, "name": "Business"})
    assert bad.status_code == 400  # the name is taken
    assert admin_post(client, "/console/admin/billing/plans/99999", data).status_code == 404

    make_plan(client, admin, "", name="Second")
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    assert text_of(client.get("/console/billing").text, "plan-name") == "Business"


def test_vouchers_are_issued_in_batches_listed_and_voided(client: TestClient, admin: Login) -> None:
    use(client, admin)
    data = {"amount": "1", "days": "10", "count": "3", "batch": "spring"}
    page = admin_post(client, "/console/admin/billing/vouchers", data)
    codes = re.findall(r'<code class="voucher-code">([^<]+)</code>', page.text)
    assert len(set(codes)) == 3
    listing = client.get("/console/admin/billing").text
    assert listing.count("spring") >= 3
    for bad in (
        {**data, "count": "2", "batch": ""},
        {**data, "amount": "-1"},
        {**data, "days": "x"},
    ):
        assert admin_post(client, "/console/admin/billing/vouchers", bad).status_code == 400
    assert (
        admin_post(client, "/console/admin/billing/vouchers/void", {"batch": "spring"}).status_code
        == 303
    )
    unknown = admin_post(client, "/console/admin/billing/vouchers/void", {"batch": "autumn"})
    assert unknown.status_code == 404
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    reply = post(client, "/console/billing/redeem", {"code": codes[0]}, page="/console/billing")
    assert reply.status_code == 400 and "withdrawn" in reply.text


def test_money_actions_need_a_reason_move_once_and_are_audited(
    client: TestClient, admin: Login
) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, admin)
    aid = owner.account_id
    assert move_money(client, aid, "top-up", "10").status_code == 303
    assert move_money(client, aid, "adjustment", "-2.5", "goodwill reversed").status_code == 303
    assert move_money(client, aid, "refund", "100").status_code == 400  # above the cash
    assert move_money(client, aid, "refund", "1").status_code == 303
    assert move_money(client, aid, "top-up", "5", reason="").status_code == 400
    assert move_money(client, aid, "top-up", "abc").status_code == 400
    assert move_money(client, aid, "steal", "5").status_code == 400
    page = client.get(f"/console/admin/billing/accounts/{aid}").text
    assert text_of(page, "balance-total") == "6.50 CNY"

    # The same form sent twice moves the money once.
    path = f"/console/admin/billing/accounts/{aid}"
    form = client.get(path).text
    request_id = re.search(r'name="request_id" value="([^"]+)"', form)
    assert request_id
    data = {
        "csrf": csrf_of(form),
        "request_id": request_id.group(1),
        "action": "top-up",
        "amount": "1",
        "reason": "twice",
    }
    first = client.post(path + "/money", data=data, follow_redirects=False)
    second = client.post(path + "/money", data=data, follow_redirects=False)
    assert first.headers["location"].endswith("done=moved")
    assert second.headers["location"].endswith("done=repeated")
    assert text_of(client.get(path).text, "balance-total") == "7.50 CNY"

    actions = run(client, lambda s: _audit_actions(s, aid))
    assert actions.count("billing.top-up") == 2 and "billing.adjustment" in actions
    assert "billing.refund" in actions
    balances = client.get("/console/admin/billing?q=owner@").text
    assert f'data-account="{aid}">7.50 CNY' in balances
    assert client.get("/console/admin/billing/accounts/99999").status_code == 404
    assert client.get("/console/admin/billing/accounts/abc").status_code == 400
    assert client.get("/console/admin/billing/accounts/99999999999").status_code == 400
    huge = admin_post(client, "/console/admin/billing/vouchers/void", {"voucher_id": "9" * 12})
    assert huge.status_code == 400
    superscript = admin_post(client, "/console/admin/billing/vouchers/void", {"voucher_id": "²"})
    assert superscript.status_code == 400

    # The reasons are on the owner's statement of the month.
    closed = statements.month_bounds(statements.period_of(datetime.now(UTC)))[1]
    [number] = run(
        client, lambda s: statements.issue_statements(s, now=closed + timedelta(hours=1))
    )
    use(client, owner)
    shown = client.get(f"/console/billing/statements/{number}").text
    memos = shown.split('id="statement-memos"')[1].split("</table>")[0]
    assert "goodwill reversed" in memos and "-2.50 CNY" in memos and "twice" in memos


async def _audit_actions(session: Any, account_id: int) -> list[str]:
    rows = await session.scalars(
        select(AuditEntry.action).where(AuditEntry.account_id == account_id)
    )
    return list(rows)


def test_chinese_pages_leave_no_english(client: TestClient, admin: Login) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    set_language(client, "zh-CN")
    page = client.get("/console/billing")
    assert page.status_code == 200 and page.headers["content-language"] == "zh-CN"
    # The plan's name is the operator's; the placeholder shows a code's shape.
    assert english_left(page.text) <= {"CNY", "XXXX", "standard"}, english_left(page.text)
    use(client, admin)
    set_language(client, "zh-CN")
    page = client.get("/console/admin/billing")
    names = {"CNY", "owner", "example", "com", "ops", "standard"}
    names |= {"challenge", "verify", "email", "sms", "carrier"}  # the items, as typed
    left = english_left(page.text) - names
    assert left == set(), left


def test_top_up_opens_the_provider_checkout(
    make_settings: Callable[..., Settings],
    fake_stripe: tuple[str, Path],  # noqa: F811 (the fixture imported above)
) -> None:
    url, log = fake_stripe
    settings = make_settings(
        console_widget=False, demo=False, billing=True, stripe_api_url=url,
        stripe_secret_key="sk_test_console", stripe_webhook_secret="whsec_console",
        public_url="http://testserver",
    )  # fmt: skip
    client = open_client(settings)
    try:
        owner = make_owner(client, "owner@example.com")
        use(client, owner)
        page = client.get("/console/billing").text
        assert 'id="top-up-form"' in page and 'id="ask-operator"' not in page
        reply = post(
            client, "/console/billing/top-up", {"amount": "12.34"}, page="/console/billing"
        )
        assert reply.status_code == 200, reply.text
        link = re.search(r'id="checkout-link" href="([^"]+)"', reply.text)
        assert link and link.group(1).startswith("https://checkout.stripe.test/c/pay/cs_test_")
        [sent] = [json.loads(line) for line in log.read_text().splitlines()]
        assert sent["form"]["line_items[0][price_data][unit_amount]"] == "1234"
        assert sent["form"]["client_reference_id"] == str(owner.account_id)
        assert "sk_test_console" not in reply.text

        for amount, status in (("abc", 400), ("0", 400), ("1.234", 400), ("0.13", 502)):
            bad = post(
                client, "/console/billing/top-up", {"amount": amount}, page="/console/billing"
            )
            assert bad.status_code == status, (amount, bad.text)
            assert 'id="form-error"' in bad.text
    finally:
        client.__exit__(None, None, None)


def test_the_housekeeping_round_issues_closed_months_statements(client: TestClient) -> None:
    from tests.console.test_housekeeping import make_job

    owner = make_owner(client, "owner@example.com")
    now = datetime.now(UTC)

    async def top_up(session: Any) -> None:
        await ledger.top_up(session, owner.account_id, 250, reference="hk", actor="t", now=now)
        await session.commit()

    run(client, top_up)
    closed = statements.month_bounds(statements.period_of(now))[1] + timedelta(hours=1)
    client.portal.call(make_job(client, lambda: closed).run_once)  # type: ignore[union-attr]
    assert run(client, lambda s: statements.reports.list_statements(s, owner.account_id)) == []
    job = make_job(client, lambda: closed, billing=True)
    client.portal.call(job.run_once)  # type: ignore[union-attr]
    [issued] = run(client, lambda s: statements.reports.list_statements(s, owner.account_id))
    assert (issued.period, issued.opening, issued.closing) == (statements.period_of(now), 0, 250)
    assert issued.number == statements.statement_number(issued.period, 1)
