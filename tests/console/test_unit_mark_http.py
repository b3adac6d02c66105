"""Leaving the HumanGate mark out of the widget (`hide_mark`) on the unit form, over HTTP.

The box is on the edit form only with billing on and an owner of the enterprise edition, who
sets and clears it (audited as a unit change); an owner of the standard edition does not see
it, and a form that sends it anyway is refused (403, edition-required) with nothing changed.
With billing off the form has no box and leaves the setting alone. Editions are set the way
an operator sets them: plans made and assigned on the operator's billing pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from humangate.config import Settings
from humangate.db import units as unit_db
from humangate.db.models import AuditEntry, BillingPlan
from humangate.units import parse_unit_input
from tests.console.conftest import open_client
from tests.console.test_i18n import set_language
from tests.console.test_units_http import (
    GOOD,
    Login,
    create,
    csrf_of,
    make_admin,
    make_owner,
    post,
    run,
    units_of,
    use,
)

BOX = 'name="hide_mark"'
REFUSED = "Removing the HumanGate mark needs the enterprise edition"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(console_widget=False, demo=False, billing=True)


def admin_post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_of(client.get("/console/admin/billing").text)
    return client.post(path, data={**data, "csrf": token}, follow_redirects=False)


def put_on_plan(client: TestClient, admin: Login, owner: Login, edition: str) -> None:
    """The operator makes a free plan of `edition` and moves `owner` to it."""
    use(client, admin)
    data = {"name": f"Free {edition}", "edition": edition, "prices": "", "credit": "0"}
    assert admin_post(client, "/console/admin/billing/plans", data).status_code == 303
    plan_id = _plan_id(client, f"Free {edition}")
    path = f"/console/admin/billing/accounts/{owner.account_id}/plan"
    assert admin_post(client, path, {"plan": str(plan_id)}).status_code == 303
    use(client, owner)


def _plan_id(client: TestClient, name: str) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(BillingPlan.id).where(BillingPlan.name == name)))

    return run(client, work)  # type: ignore[no-any-return]


def edit(client: TestClient, sitekey: str, **changes: Any) -> Any:
    return post(client, f"/console/units/{sitekey}/edit", {**GOOD, **changes})


def mark_changes(client: TestClient, account_id: int) -> list[list[str]]:
    """The changed fields of each audited edit of the owner's units that touched the mark."""

    async def work(session: Any) -> list[Any]:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.account_id == account_id, AuditEntry.action == "unit.updated")
            .order_by(AuditEntry.id)
        )
        return [row.details["changed"] for row in rows]

    return [changed for changed in run(client, work) if "hide_mark" in changed]


def test_an_enterprise_owner_sets_and_clears_the_mark(client: TestClient) -> None:
    admin = make_admin(client)
    owner = make_owner(client, "owner@example.com")
    put_on_plan(client, admin, owner, "enterprise")
    sitekey, _ = create(client)
    assert BOX not in client.get("/console/units/new").text  # set when editing, as the CLI does
    form = client.get(f"/console/units/{sitekey}/edit").text
    assert BOX in form and 'id="hide_mark" name="hide_mark" value="on">' in form  # not ticked

    assert edit(client, sitekey, hide_mark="on").status_code == 303
    [unit] = units_of(client, owner.account_id)
    assert unit.hide_mark is True
    assert 'value="on" checked>' in client.get(f"/console/units/{sitekey}/edit").text
    assert mark_changes(client, owner.account_id) == [["hide_mark"]]

    # The same form without the box clears it; a save that changes nothing records nothing.
    assert edit(client, sitekey).status_code == 303
    assert units_of(client, owner.account_id)[0].hide_mark is False
    assert edit(client, sitekey).status_code == 303
    assert mark_changes(client, owner.account_id) == [["hide_mark"], ["hide_mark"]]

    # A refused form shows the box again as it was sent.
    bad = edit(client, sitekey, hide_mark="on", difficulty="x")
    assert bad.status_code == 400 and 'value="on" checked>' in bad.text
    assert units_of(client, owner.account_id)[0].hide_mark is False


def test_the_box_is_labelled_in_chinese(client: TestClient) -> None:
    admin = make_admin(client)
    owner = make_owner(client, "owner@example.com")
    put_on_plan(client, admin, owner, "enterprise")
    sitekey, _ = create(client)
    set_language(client, "zh-CN")
    form = client.get(f"/console/units/{sitekey}/edit").text
    assert "<legend>HumanGate 标识</legend>" in form
    assert "在组件中不显示 HumanGate 名称" in form and "此为企业版功能" in form


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_standard_owner_sees_no_box_and_a_forged_one_is_refused(
    client: TestClient, language: str
) -> None:
    admin = make_admin(client)
    owner = make_owner(client, "owner@example.com")
    put_on_plan(client, admin, owner, "standard")
    sitekey, _ = create(client)
    set_language(client, language)
    assert BOX not in client.get(f"/console/units/{sitekey}/edit").text

    for sent in ("on", ""):
        refused = edit(client, sitekey, name="Renamed", hide_mark=sent)
        assert refused.status_code == 403, refused.text
        if language == "en":
            assert REFUSED in refused.text
        else:
            assert "隐藏 HumanGate 标识需要企业版" in refused.text and REFUSED not in refused.text
    [unit] = units_of(client, owner.account_id)
    assert (unit.name, unit.hide_mark) == (GOOD["name"], False)
    assert mark_changes(client, owner.account_id) == []

    # A mark the operator set at the command line stays as it is through the owner's form.
    run(client, lambda s: unit_db.update_unit(s, sitekey, parse_unit_input(hide_mark=True)))
    assert edit(client, sitekey, name="Renamed").status_code == 303
    [unit] = units_of(client, owner.account_id)
    assert (unit.name, unit.hide_mark) == ("Renamed", True)


def test_with_billing_off_there_is_no_box(make_settings: Callable[..., Settings]) -> None:
    client = open_client(make_settings(console_widget=False, demo=False))
    try:
        owner = make_owner(client, "owner@example.com")
        use(client, owner)
        sitekey, _ = create(client)
        assert BOX not in client.get(f"/console/units/{sitekey}/edit").text
        # A box sent anyway is not the form's to read: the setting is the command line's.
        assert edit(client, sitekey, hide_mark="on").status_code == 303
        assert units_of(client, owner.account_id)[0].hide_mark is False
        run(client, lambda s: unit_db.update_unit(s, sitekey, parse_unit_input(hide_mark=True)))
        assert edit(client, sitekey).status_code == 303
        assert units_of(client, owner.account_id)[0].hide_mark is True
    finally:
        client.__exit__(None, None, None)
