"""The billing core's refusals on the console: in the page's language, by their codes.

The table (humangate/console/_billing_refusals.py) must have a sentence for every code the
billing core raises, found here by reading the core's source, so that a new refusal without a
sentence fails; and every refusal an operator or an owner can meet on the billing pages is
shown in Chinese on a Chinese console, checked over HTTP.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select, update

import humangate.billing
from humangate import errors
from humangate.config import Settings
from humangate.console._billing_refusals import BILLING_REFUSALS, refusal_message
from humangate.console._i18n import translate
from humangate.db.models import Voucher
from humangate.errors import EditionRequired, InvalidInput, NotFound, Refusal
from tests.console.test_billing_http import issue_code, move_money
from tests.console.test_i18n import CJK, PLACEHOLDER, set_language
from tests.console.test_units_http import Login, csrf_of, make_admin, make_owner, run, use

BILLING = Path(humangate.billing.__file__).parent
REFUSAL_CLASSES = {
    name: kind
    for name, kind in vars(errors).items()
    if isinstance(kind, type) and issubclass(kind, Refusal)
}
# A class's own code says nothing about which refusal it is; the core names each one.
GENERIC = {"refused", "bad-request", "not-found", "access-denied", "expired-or-used"}
# The Stripe webhook's answer to a signed body that is no event: the API's documented
# `bad-request`, which no console page shows.
API_ONLY = {("payments.py", "parse_event", "bad-request")}


def raised_refusals() -> Iterator[tuple[str, str, str, frozenset[str]]]:
    """(module, function, code, names of its params) of each refusal the billing core makes."""
    for path in sorted(BILLING.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                kind = REFUSAL_CLASSES.get(node.func.id)
                if kind is None:
                    continue
                given = {keyword.arg: keyword.value for keyword in node.keywords}
                code = given.get("code")
                assert code is None or isinstance(code, ast.Constant), (path.name, node.lineno)
                params = given.get("params")
                assert params is None or isinstance(params, ast.Dict), (path.name, node.lineno)
                names = frozenset(
                    str(key.value)
                    for key in (params.keys if params else [])
                    if isinstance(key, ast.Constant)
                )
                found = kind.code if code is None else code.value
                yield path.name, function.name, str(found), names


def test_the_scan_finds_the_cores_refusals() -> None:
    found = {(module, code) for module, _, code, _ in raised_refusals()}
    assert ("vouchers.py", "voucher-invalid") in found and ("plans.py", "plan-exists") in found
    assert ("editions.py", "edition-required") in found
    assert ("meter.py", "insufficient-balance") in found
    assert len(found) >= 30


def test_every_code_the_billing_core_raises_has_the_consoles_sentence() -> None:
    for module, function, code, names in raised_refusals():
        if (module, function, code) in API_ONLY:
            continue
        where = f"{module}:{function} raises {code!r}"
        assert code not in GENERIC, where + ": give it a code of its own"
        assert code in BILLING_REFUSALS, where + ": add its sentence to BILLING_REFUSALS"
        # Every value the sentence names is one the refusal gives.
        assert set(PLACEHOLDER.findall(BILLING_REFUSALS[code])) <= names, where


def test_no_sentence_for_a_code_the_core_does_not_raise() -> None:
    raised = {code for _, _, code, _ in raised_refusals()}
    assert sorted(set(BILLING_REFUSALS) - raised) == []


def sample_values(msgid: str) -> dict[str, object]:
    return {name: "hide-mark" if name == "feature" else 7 for name in PLACEHOLDER.findall(msgid)}


@pytest.mark.parametrize("code", sorted(BILLING_REFUSALS))
def test_each_sentence_is_chinese_on_a_chinese_page(code: str) -> None:
    values = sample_values(BILLING_REFUSALS[code])
    refusal = InvalidInput("An English sentence.", code=code, params=values)
    shown = translate(refusal_message(refusal), "zh-CN")
    assert CJK.search(shown) and "%(" not in shown, shown
    assert translate(refusal_message(refusal), "en") != "An English sentence."


def test_other_refusals_are_shown_as_they_were_raised() -> None:
    assert refusal_message(InvalidInput("The console's own sentence.")) == (
        "The console's own sentence."
    )
    # A refusal that lacks a value its sentence names falls back to the core's own sentence.
    assert refusal_message(NotFound("There is no plan named 'x'.", code="unknown-plan")) == (
        "There is no plan named 'x'."
    )
    refused = EditionRequired("Removing the mark ...", params={"feature": "hide-mark"})
    assert translate(refusal_message(refused), "zh-CN").startswith("隐藏 HumanGate 标识需要企业版")


# --- over HTTP, on a Chinese console ---------------------------------------------------------


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(console_widget=False, demo=False, billing=True)


def chinese(code: str, **values: object) -> str:
    """The sentence the page shows for `code` on a Chinese console, escaped as on the page."""
    refusal = InvalidInput("-", code=code, params=values)
    text = translate(refusal_message(refusal), "zh-CN")
    assert CJK.search(text), text
    return str(escape(text))


def form(client: TestClient, path: str, data: dict[str, Any], *, page: str) -> Any:
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf": token}, follow_redirects=False)


def ops(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return form(client, path, data, page="/console/admin/billing")


def assert_shown(reply: Any, status: int, code: str, **values: object) -> None:
    assert reply.status_code == status, (code, reply.text)
    assert chinese(code, **values) in reply.text, (code, reply.text)
    assert '<html lang="zh-CN">' in reply.text


PLAN = {"name": "Basic", "edition": "standard", "prices": "challenge = 0.01", "credit": "0"}


def test_the_operators_refusals_are_chinese(client: TestClient) -> None:
    admin = make_admin(client)
    use(client, admin)
    set_language(client, "zh-CN")
    plans = "/console/admin/billing/plans"
    assert ops(client, plans, PLAN).status_code == 303
    cases: list[tuple[dict[str, str], str, dict[str, object]]] = [
        ({"prices": "nonsense = 1"}, "unknown-item", {"item": "nonsense"}),
        ({"prices": "sms:QQ = 1"}, "unknown-country", {"country": "QQ"}),
        ({"prices": "\n".join(f"x{n} = 1" for n in range(301))}, "too-many-prices", {"max": 300}),
        ({"name": "!!"}, "bad-plan-name", {}),
        ({"edition": "gold"}, "unknown-edition", {}),
        ({}, "plan-exists", {"name": "Basic"}),
    ]
    for change, code, values in cases:
        assert_shown(ops(client, plans, {**PLAN, **change}), 400, code, **values)
        assert "Basic" in client.get("/console/admin/billing").text

    vouchers = "/console/admin/billing/vouchers"
    batch = {"amount": "1", "days": "10", "count": "2", "batch": "spring"}
    assert ops(client, vouchers, batch).status_code == 200
    assert_shown(ops(client, vouchers, {**batch, "batch": ""}), 400, "bad-batch-label")
    assert_shown(ops(client, vouchers, batch), 400, "batch-exists", batch="spring")
    void = f"{vouchers}/void"
    assert_shown(ops(client, void, {}), 400, "void-what")
    assert_shown(ops(client, void, {"batch": "autumn"}), 404, "unknown-voucher")


def test_the_refusals_of_an_owners_money_and_vouchers_are_chinese(client: TestClient) -> None:
    admin = make_admin(client)
    owner = make_owner(client, "owner@example.com")
    use(client, admin)
    set_language(client, "zh-CN")
    aid = owner.account_id
    assert_shown(move_money(client, aid, "refund", "100"), 400, "refund-above-cash")
    assert_shown(move_money(client, aid, "adjustment", "-5"), 400, "below-credit-limit")
    page = client.get(f"/console/admin/billing/accounts/{aid}").text
    data = {"csrf": csrf_of(page), "request_id": "x", "action": "top-up", "amount": "1"}
    money = f"/console/admin/billing/accounts/{aid}/money"
    forged = client.post(money, data={**data, "reason": "r"}, follow_redirects=False)
    assert_shown(forged, 400, "bad-request-id")
    nobody = client.post(
        "/console/admin/billing/accounts/99999/money",
        data={**data, "request_id": "a" * 16, "reason": "r"},
        follow_redirects=False,
    )
    assert_shown(nobody, 404, "unknown-account", account=99999)

    code = issue_code(client, admin)
    _redeem_as(client, owner, code, admin)
    voucher_id = run(client, _last_voucher_id)
    void = ops(client, "/console/admin/billing/vouchers/void", {"voucher_id": str(voucher_id)})
    assert_shown(void, 400, "voucher-in-balance")


def _redeem_as(client: TestClient, owner: Login, code: str, admin: Login) -> None:
    use(client, owner)
    reply = form(client, "/console/billing/redeem", {"code": code}, page="/console/billing")
    assert reply.status_code == 303
    use(client, admin)


async def _last_voucher_id(session: Any) -> int:
    return int(await session.scalar(select(Voucher.id).order_by(Voucher.id.desc()).limit(1)))


def redeem(client: TestClient, code: str) -> Any:
    return form(client, "/console/billing/redeem", {"code": code}, page="/console/billing")


def test_an_owners_voucher_refusals_are_chinese(client: TestClient) -> None:
    admin = make_admin(client)
    used, voided, old = (issue_code(client, admin) for _ in range(3))
    void = ops(client, "/console/admin/billing/vouchers/void", {"voucher_id": "2"})
    assert void.status_code == 303
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    set_language(client, "zh-CN")

    async def expire(session: Any) -> None:
        past = datetime.now(UTC) - timedelta(days=1)
        await session.execute(update(Voucher).where(Voucher.id == 3).values(expires_at=past))
        await session.commit()

    run(client, expire)
    assert redeem(client, used).status_code == 303
    assert_shown(redeem(client, used), 400, "voucher-redeemed")
    assert_shown(redeem(client, voided), 400, "voucher-voided")
    assert_shown(redeem(client, old), 400, "voucher-expired")
    assert_shown(redeem(client, "HG-0000"), 400, "voucher-invalid")
    for _ in range(6):  # ten tries an hour, right or wrong
        redeem(client, "HG-0000")
    assert_shown(redeem(client, "HG-0000"), 429, "too-many-attempts")
