"""The console's own audit entries over HTTP: an owner's unit changes and an operator's notices,
with the right actor, account and target, and never a secret."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from humangate.accounts import AuditRecord, list_entries
from humangate.accounts.audit import CONSOLE_ACTIONS
from tests.console.test_units_http import (
    GOOD,
    Login,
    create,
    make_admin,
    make_owner,
    post,
    run,
    shown_after,
    units_of,
    use,
)


def entries(client: TestClient, action: str, account_id: int | None = None) -> list[AuditRecord]:
    """Entries for `action` (or a prefix such as "unit."), oldest first."""
    page = run(client, lambda s: list_entries(s, account_id=account_id, action=action, limit=200))
    return list(reversed(page.entries))


def test_unit_actions_are_audited_without_secrets(client: TestClient) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    sitekey, first_secret = create(client, name="Checkout", mode="managed")
    post(client, f"/console/units/{sitekey}/edit", {**GOOD, "name": "Till", "mode": "invisible"})
    post(client, f"/console/units/{sitekey}/edit", {**GOOD, "name": "Till", "mode": "invisible"})
    rotated = shown_after(client, post(client, f"/console/units/{sitekey}/rotate", {}))
    found = re.search(r'<code id="secret">([^<]+)</code>', rotated.text)
    assert found
    post(client, f"/console/units/{sitekey}/disable", {})
    post(client, f"/console/units/{sitekey}/disable", {})  # already disabled: nothing new
    post(client, f"/console/units/{sitekey}/enable", {})
    post(client, f"/console/units/{sitekey}/delete", {"confirm": sitekey})

    logged = entries(client, "unit.", owner.account_id)
    assert [e.action for e in logged] == [
        "unit.created",
        "unit.updated",  # the second, identical edit changed nothing and is not recorded
        "unit.secret_rotated",
        "unit.disabled",
        "unit.enabled",
        "unit.deleted",
    ]
    for entry in logged:
        assert (entry.actor_kind, entry.actor_id) == ("account", owner.account_id)
        assert (entry.account_id, entry.target) == (owner.account_id, sitekey)
        assert entry.ip_prefix == "unknown"  # the test client has no IP address
    assert logged[0].details == {"name": "Checkout", "mode": "managed"}
    assert logged[1].details == {"name": "Till", "changed": ["name", "mode"]}
    assert logged[2].details == {"name": "Till", "grace_hours": 24.0}
    assert logged[-1].details == {"name": "Till"}
    text = json.dumps([e.as_dict() for e in logged])
    for secret in (first_secret, found.group(1)):
        assert secret not in text


def test_an_edit_names_the_risk_settings_it_changed(client: TestClient) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    sitekey, _ = create(client)
    edit = {**GOOD, "threshold": "0.7", "allow_networks": "203.0.113.0/24"}
    assert post(client, f"/console/units/{sitekey}/edit", edit).status_code == 303
    (entry,) = entries(client, "unit.updated", owner.account_id)
    assert entry.details["changed"] == ["score_threshold", "allow_networks"]


def test_refused_unit_changes_are_not_audited(client: TestClient) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    sitekey, _ = create(client)
    before = entries(client, "unit.", owner.account_id)
    bad = post(client, f"/console/units/{sitekey}/edit", {**GOOD, "difficulty": "nine"})
    assert bad.status_code == 400
    wrong = post(client, f"/console/units/{sitekey}/delete", {"confirm": "nope"})
    assert wrong.status_code == 400
    stranger = make_owner(client, "stranger@example.com")
    use(client, stranger)
    for path, data in (
        (f"/console/units/{sitekey}/rotate", {}),
        (f"/console/units/{sitekey}/disable", {}),
        (f"/console/units/{sitekey}/delete", {"confirm": sitekey}),
    ):
        assert post(client, path, data).status_code == 404
    assert entries(client, "unit.", owner.account_id) == before
    assert entries(client, "unit.", stranger.account_id) == []
    assert len(units_of(client, owner.account_id)) == 1


def test_an_operator_notice_is_audited(client: TestClient) -> None:
    owner = make_owner(client, "shop.owner@example.com")
    ops: Login = make_admin(client)
    use(client, ops)
    target = f"/console/admin/accounts/{owner.account_id}/notice"
    body = "The service pauses at 02:00 UTC."
    sent = post(client, target, {"title": "  Maintenance   on Sunday ", "body": body})
    assert sent.status_code == 303
    (entry,) = entries(client, "notice.sent")
    assert (entry.actor_kind, entry.actor_id) == ("admin", ops.account_id)
    assert (entry.account_id, entry.details) == (
        owner.account_id,
        {"title": "Maintenance on Sunday"},
    )
    assert body not in json.dumps(entry.as_dict())

    refused = post(client, target, {"title": "", "body": body})
    assert refused.status_code == 400
    missing = post(client, "/console/admin/accounts/9999/notice", {"title": "Hi", "body": body})
    assert missing.status_code == 404
    assert len(entries(client, "notice.sent")) == 1


def test_the_audit_page_filters_by_the_new_actions(client: TestClient) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    sitekey, _ = create(client)
    use(client, make_admin(client))
    page = client.get("/console/admin/audit").text
    for action in sorted(CONSOLE_ACTIONS) + ["unit.", "notice."]:
        assert f'<option value="{action}"' in page, action
    created = client.get("/console/admin/audit?action=unit.created")
    assert created.status_code == 200
    assert "<code>unit.created</code>" in created.text and sitekey in created.text
    assert "<code>account.signup</code>" not in created.text
    assert client.get("/console/admin/audit?action=unit.").status_code == 200
