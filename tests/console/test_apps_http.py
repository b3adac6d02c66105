"""The owner's verification API apps over HTTP: the secret once, settings, ownership, the log
(with each verification's cost while billing is on), conversion per country and the pumping
alerts.

Owners sign up through the account core (tests/console/test_units_http.py); verifications,
usage and prefix blocks are written straight into their tables, as the verification service
would, since these pages only read them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from humangate.accounts import audit
from humangate.billing import ledger, plans
from humangate.config import Settings
from humangate.db import verify_apps as app_db
from humangate.db.models import Verification, VerifyPrefixBlock, VerifyUsage
from humangate.verify.apps import AppView
from tests.console.conftest import open_client
from tests.console.test_i18n import english_left, set_language
from tests.console.test_units_http import (
    create as create_unit,
)
from tests.console.test_units_http import (
    csrf_of,
    make_owner,
    run,
    shown_after,
    use,
)
from tests.live import free_port
from tests.verify._app import make_app

CJK = re.compile(r"[\u4e00-\u9fff]")


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_of(client.get("/console/apps").text)
    return client.post(path, data={**data, "csrf": token}, follow_redirects=False)


def good(sitekey: str, /, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Shop login",
        "channels": ["sms", "email"],
        "countries": "cn, gb US",
        "allow_virtual": "on",
        "code_length": "6",
        "code_ttl": "300",
        "template_en": "Your {app} code is {code}.",
        "template_zh": "您的验证码是 {code}。",
        "require_token": "on",
        "sitekey": sitekey,
        "daily_cap": "500",
        "destination_daily_cap": "5",
        "prefix_hourly_cap": "20",
        "network_hourly_cap": "10",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def create(client: TestClient, **changes: Any) -> tuple[str, str, str]:
    """A unit, then an app accepting its tokens; returns (app key, secret, sitekey)."""
    sitekey, _ = create_unit(client)
    page = shown_after(client, post(client, "/console/apps", good(sitekey, **changes)))
    key = re.search(r'<code id="app-key">([^<]+)</code>', page.text)
    secret = re.search(r'<code id="secret">([^<]+)</code>', page.text)
    assert key and secret, page.text
    return key.group(1), secret.group(1), sitekey


def stored(client: TestClient, app_key: str) -> AppView:
    app = run(client, lambda s: app_db.get_app(s, app_key))
    assert app is not None
    return app  # type: ignore[no-any-return]


def add_rows(client: TestClient, rows: list[Any]) -> None:
    async def work(session: Any) -> None:
        session.add_all(rows)
        await session.commit()

    run(client, work)


def verification(app_id: int, n: int, *, status: str, when: datetime) -> Verification:
    return Verification(
        id=f"vf_{n:04d}",
        app_id=app_id,
        channel="sms",
        destination_digest="d" * 64,
        destination_masked=f"+44 7700 9••• {n:02d}",
        country="GB",
        prefix="447700",
        carrier="vodafone-uk",
        locale="en",
        status=status,
        code_digest="c" * 64,
        attempts=n % 3,
        sends=1 + n % 2,
        delivery="sent",
        created_at=when,
        expires_at=when + timedelta(minutes=5),
        last_sent_at=when,
    )


def test_create_shows_the_secret_once_and_lists_the_app(client: TestClient) -> None:
    use(client, make_owner(client, "owner@example.com"))
    app_key, secret, sitekey = create(client)
    assert app_key.startswith("hga_") and len(secret) >= 20
    app = stored(client, app_key)
    assert app.countries == ("CN", "GB", "US")
    assert app.templates == {"en": "Your {app} code is {code}.", "zh-CN": "您的验证码是 {code}。"}
    assert (app.sitekey, app.code_ttl, app.daily_cap) == (sitekey, 300, 500)
    # The redirect's page was taken: a reload finds nothing.
    again = client.get(f"/console/apps/{app_key}/secret")
    assert again.status_code == 200
    assert 'id="secret-gone"' in again.text and secret not in again.text
    listed = client.get("/console/apps").text
    assert app_key in listed and "Shop login" in listed and "CN GB US" in listed
    page = client.get(f"/console/apps/{app_key}").text
    assert secret not in page and 'value="300"' in page
    assert f'<option value="{sitekey}" selected>' in page
    # Empty templates take the service's own wording.
    plain = post(client, f"/console/apps/{app_key}", good(sitekey, template_en="", template_zh=""))
    assert plain.status_code == 303 and stored(client, app_key).templates == {}


def test_bad_input_is_a_form_error_and_changes_nothing(client: TestClient) -> None:
    use(client, make_owner(client, "owner@example.com"))
    app_key, _, sitekey = create(client)
    before = stored(client, app_key)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"countries": "GB XX"}, "not a country code"),
        ({"code_length": "3"}, "code length"),
        ({"code_ttl": "59"}, "A code lives"),
        ({"template_en": "no code here"}, "names {code} once"),
        ({"daily_cap": "0"}, "Messages a day"),
        ({"channels": []}, "at least one channel"),
        ({"channels": ["fax"]}, "Choose channels"),
        ({"sitekey": "hg_not_mine"}, "your units"),
        ({"sitekey": "", "name": "Renamed"}, "stop requiring"),
    ]
    for bad, words in cases:
        reply = post(
            client, f"/console/apps/{app_key}", good(sitekey, **{"name": "Renamed", **bad})
        )
        assert reply.status_code == 400, bad
        error = re.search(r'id="form-error">([^<]+)<', reply.text)
        assert error and words in error.group(1).replace("&#34;", '"'), (bad, reply.text[:300])
        assert 'value="Renamed"' in reply.text  # the form shows what was typed
    assert stored(client, app_key) == before
    new = post(client, "/console/apps", good(sitekey, name="", countries="GB"))
    assert new.status_code == 400 and 'id="form-error"' in new.text
    assert post(client, f"/console/apps/{app_key}/rotate", {"overlap": "200"}).status_code == 400
    assert post(client, f"/console/apps/{app_key}/rotate", {"overlap": "x"}).status_code == 400


def test_update_disable_rotate_and_delete_are_audited(client: TestClient) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    app_key, first, sitekey = create(client)
    changed = good(sitekey, name="Till", require_token=None, sitekey="", three_carriers_only="on")
    assert post(client, f"/console/apps/{app_key}", changed).status_code == 303
    app = stored(client, app_key)
    assert (app.name, app.require_token, app.sitekey, app.three_carriers_only) == (
        "Till",
        False,
        None,
        True,
    )
    assert post(client, f"/console/apps/{app_key}/disable", {}).status_code == 303
    assert stored(client, app_key).disabled
    assert 'id="app-disabled"' in client.get(f"/console/apps/{app_key}").text
    assert post(client, f"/console/apps/{app_key}/enable", {}).status_code == 303
    assert not stored(client, app_key).disabled
    rotated = shown_after(client, post(client, f"/console/apps/{app_key}/rotate", {"overlap": "2"}))
    second = re.search(r'<code id="secret">([^<]+)</code>', rotated.text)
    assert second and second.group(1) != first and "2.0 hours" in rotated.text
    refused = post(client, f"/console/apps/{app_key}/delete", {"confirm": "nope"})
    assert refused.status_code == 400 and stored(client, app_key).name == "Till"
    assert post(client, f"/console/apps/{app_key}/delete", {"confirm": app_key}).status_code == 303
    assert run(client, lambda s: app_db.get_app(s, app_key)) is None
    assert client.get(f"/console/apps/{app_key}").status_code == 404

    page = run(
        client,
        lambda s: audit.list_entries(s, account_id=owner.account_id, action="app.", limit=50),
    )
    actions = [e.action for e in reversed(page.entries)]
    assert actions == [
        "app.created",
        "app.updated",
        "app.disabled",
        "app.enabled",
        "app.secret_rotated",
        "app.deleted",
    ]
    assert page.entries[-2].details == {
        "name": "Till",
        "changed": ["name", "three_carriers_only", "require_token", "sitekey"],
    }
    text = repr([e.as_dict() for e in page.entries])
    assert first not in text and second.group(1) not in text


def test_another_owner_can_neither_see_nor_change_the_app(client: TestClient) -> None:
    use(client, make_owner(client, "owner@example.com"))
    app_key, _, sitekey = create(client)
    block = VerifyPrefixBlock(
        app_id=stored(client, app_key).id,
        prefix="88216",
        sent=40,
        approved=0,
        created_at=datetime.now(UTC),
        until=datetime.now(UTC) + timedelta(hours=6),
    )
    add_rows(client, [block])
    before = stored(client, app_key)
    use(client, make_owner(client, "other@example.com"))
    assert app_key not in client.get("/console/apps").text
    for path in ("", "/log", "/conversion", "/delete", "/secret"):
        assert client.get(f"/console/apps/{app_key}{path}").status_code == 404, path
    for path, data in [
        ("", good(sitekey, name="Stolen", require_token=None, sitekey="")),
        ("/rotate", {"overlap": "0"}),
        ("/disable", {}),
        ("/delete", {"confirm": app_key}),
        (f"/blocks/{block.id}/unblock", {}),
    ]:
        assert post(client, f"/console/apps/{app_key}{path}", data).status_code == 404, path
    assert stored(client, app_key) == before
    blocks = run(client, lambda s: s.scalars(select(VerifyPrefixBlock)))
    assert len(list(blocks)) == 1


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    use(client, make_owner(client, "owner@example.com"))
    app_key, _, sitekey = create(client)
    reply = client.post(f"/console/apps/{app_key}/disable", follow_redirects=False)
    assert reply.status_code == 403 and not stored(client, app_key).disabled
    reply = client.post("/console/apps", data=good(sitekey, name="No token"))
    assert reply.status_code == 403
    assert len(run(client, lambda s: app_db.list_apps(s))) == 1


def test_the_log_shows_masked_entries_page_by_page(client: TestClient) -> None:
    use(client, make_owner(client, "owner@example.com"))
    app_key, _, _ = create(client)
    app_id = stored(client, app_key).id
    start = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    rows = [
        verification(
            app_id, n, status="approved" if n % 2 else "pending", when=start + timedelta(minutes=n)
        )
        for n in range(55)
    ]
    add_rows(client, rows)
    first = client.get(f"/console/apps/{app_key}/log")
    assert first.status_code == 200
    assert first.text.count("<tr>") == 51  # the header and 50 entries
    assert "+44 7700 9••• 54" in first.text and "+44 7700 9••• 04" not in first.text
    assert 'data-status="approved"' in first.text and "vodafone-uk" in first.text
    assert "c" * 64 not in first.text and "d" * 64 not in first.text
    assert 'rel="next"' in first.text
    # Billing is off: nothing was priced, and the log has no cost column.
    assert ">Cost<" not in first.text and "data-cost" not in first.text
    second = client.get(f"/console/apps/{app_key}/log?page=2")
    assert second.text.count("<tr>") == 6 and "+44 7700 9••• 00" in second.text
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text
    for bad in ("0", "x", "99999", "²"):
        assert client.get(f"/console/apps/{app_key}/log?page={bad}").status_code == 400


def test_with_billing_on_the_log_shows_what_each_verification_cost(
    make_settings: Callable[..., Settings],
) -> None:
    """Real starts through the signed API: an e-mail code charged 3, an SMS code the gateway
    (nothing listens) refused, charged 5 then credited back, and a row from before billing."""
    dead_sms = f"http://127.0.0.1:{free_port()}/send"
    settings = make_settings(console_widget=False, demo=False, billing=True, sms_url=dead_sms)
    client = open_client(settings)
    try:
        owner = make_owner(client, "payer@example.com")

        async def price(session: Any) -> None:
            now = datetime.now(UTC)
            system = audit.Actor("system")
            prices = {"email": 3, "sms:*": 5}
            await plans.create_plan(
                session, name="Metered", edition="enterprise", prices=prices, now=now, actor=system
            )
            await plans.assign_plan(session, owner.account_id, "Metered", now=now, actor=system)
            await ledger.top_up(
                session, owner.account_id, 100, reference="t:1", actor="system", now=now
            )
            await session.commit()

        run(client, price)
        app = make_app(client, account_id=owner.account_id)
        email = app.start("someone@example.com", channel="email")
        assert email.status_code == 201, email.text
        sms = app.start("+8613800138000")
        assert sms.status_code == 503 and sms.json()["error"] == "delivery-failed"
        old = verification(stored(client, app.app_key).id, 7, status="approved", when=NEW_YEAR)
        add_rows(client, [old])
        use(client, owner)
        page = client.get(f"/console/apps/{app.app_key}/log")
        assert page.status_code == 200 and ">Cost<" in page.text
        # By destination (the two starts may share their second, the first cell).
        costs = dict(
            re.findall(r"<code>([^<]+)</code></td>.*?data-cost[^>]*>([^<]+)<", page.text, re.S)
        )
        assert costs == {
            email.json()["to"]: "0.03 CNY",
            "+86 138****8000": "0.00 CNY",  # credited: the code was not delivered
            old.destination_masked: "—",  # started before billing was on
        }
        set_language(client, "zh-CN")
        chinese = client.get(f"/console/apps/{app.app_key}/log")
        assert ">费用<" in chinese.text and "0.03 CNY" in chinese.text
        shown = {"CNY", "Shop", "vodafone", "china", "mobile", "payer"}  # data, as it is
        assert english_left(chinese.text) - shown == set()
    finally:
        client.__exit__(None, None, None)


NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


def cells(html: str, table: str) -> dict[str, list[str]]:
    """A table's rows by their first cell: the other cells' texts."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    found = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:
        texts = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        found[texts[0]] = texts[1:]
    return found


def test_conversion_per_country_and_day(client: TestClient) -> None:
    use(client, make_owner(client, "owner@example.com"))
    app_key, _, _ = create(client)
    app_id = stored(client, app_key).id
    today = datetime.now(UTC).date()
    old = today - timedelta(days=40)

    def usage(day: date, channel: str, country: str, sent: int, approved: int) -> VerifyUsage:
        return VerifyUsage(
            app_id=app_id,
            day=day,
            channel=channel,
            country=country,
            sent=sent,
            failed=0,
            approved=approved,
        )

    add_rows(
        client,
        [
            usage(today, "sms", "GB", 8, 6),
            usage(today, "email", "GB", 2, 2),  # channels add up
            usage(today - timedelta(days=1), "sms", "NG", 50, 1),
            usage(today - timedelta(days=2), "sms", "GB", 4, 1),
            usage(old, "sms", "GB", 1000, 0),  # outside the 30 days
        ],
    )
    page = client.get(f"/console/apps/{app_key}/conversion")
    assert page.status_code == 200
    by_country = cells(page.text, "by-country")
    assert by_country == {"NG": ["50", "1", "2.0%"], "GB": ["14", "9", "64.3%"]}
    assert list(by_country) == ["NG", "GB"]  # most sent first
    by_day = cells(page.text, "by-day")
    assert len(by_day) == 30
    assert by_day[today.isoformat()] == ["10", "8", "80.0%"]
    assert by_day[(today - timedelta(days=3)).isoformat()] == ["0", "0", "—"]
    assert 'data-metric="sent">64<' in page.text
    assert 'id="stats-data"' in page.text and '<script src="http' not in page.text
    gb = client.get(f"/console/apps/{app_key}/conversion?country=gb")
    assert cells(gb.text, "by-day")[(today - timedelta(days=1)).isoformat()] == ["0", "0", "—"]
    assert 'data-metric="rate">64.3%<' in gb.text


def test_unblock_removes_the_block(client: TestClient) -> None:
    owner = make_owner(client, "owner@example.com")
    use(client, owner)
    app_key, _, _ = create(client)
    app_id = stored(client, app_key).id
    now = datetime.now(UTC)
    add_rows(
        client,
        [
            VerifyPrefixBlock(
                app_id=app_id,
                prefix="88216",
                sent=40,
                approved=1,
                created_at=now,
                until=now + timedelta(hours=6),
            ),
            VerifyPrefixBlock(
                app_id=app_id,
                prefix="3712",
                sent=30,
                approved=0,
                created_at=now,
                until=now + timedelta(hours=6),
            ),
        ],
    )
    page = client.get(f"/console/apps/{app_key}").text
    blocks = cells(page, "prefix-blocks")
    assert set(blocks) == {"+88216", "+3712"} and blocks["+88216"][1:3] == ["40", "1"]
    ids = re.findall(r"/blocks/(\d+)/unblock", page)
    first = next(i for i in ids if f"/blocks/{i}/unblock" in page.split("+3712")[1])
    assert post(client, f"/console/apps/{app_key}/blocks/{first}/unblock", {}).status_code == 303
    assert post(client, f"/console/apps/{app_key}/blocks/{first}/unblock", {}).status_code == 404
    huge = post(client, f"/console/apps/{app_key}/blocks/{10**20}/unblock", {})
    assert huge.status_code == 400
    left = cells(client.get(f"/console/apps/{app_key}").text, "prefix-blocks")
    assert set(left) == {"+88216"}
    entries = run(
        client,
        lambda s: audit.list_entries(
            s, account_id=owner.account_id, action="app.unblocked", limit=5
        ),
    )
    assert [e.details["prefix"] for e in entries.entries] == ["3712"]


def test_the_pages_speak_chinese(client: TestClient) -> None:
    use(client, make_owner(client, "owner@example.com"))
    set_language(client, "zh-CN")
    app_key, _, sitekey = create(client)
    app_id = stored(client, app_key).id
    now = datetime.now(UTC)
    add_rows(
        client,
        [
            verification(app_id, 1, status="max-attempts", when=now),
            VerifyUsage(
                app_id=app_id, day=now.date(), channel="sms", country="GB", sent=3, approved=1
            ),
            VerifyPrefixBlock(
                app_id=app_id, prefix="3712", sent=30, approved=0, created_at=now, until=now
            ),
        ],
    )
    # What the owner typed or the service made, shown as it is.
    shown = f"{app_key} {sitekey} Shop sign login vodafone-uk {{code}} {{app}} {{minutes}}"
    names = set(re.findall(r"[A-Za-z]{3,}", shown))
    base = f"/console/apps/{app_key}"
    for path in ("/console/apps", "/console/apps/new", base, f"{base}/log", f"{base}/delete"):
        page = client.get(path)  # no Accept-Language: the account decides
        assert page.status_code == 200, path
        assert '<html lang="zh-CN">' in page.text, path
        assert english_left(page.text) - names == set(), path
    page = client.get(f"{base}/conversion")
    assert english_left(page.text) - names == set()
    bad = post(client, base, good(sitekey, countries="XX"))
    error = re.search(r'id="form-error">([^<]+)<', bad.text)
    assert bad.status_code == 400 and error and CJK.search(error.group(1)), bad.text
