"""The owner's unit and statistics pages over HTTP: ownership, CSRF, bad input, secrets, CSV.

Accounts are made through the account core (sign-up and confirmation, or `create_admin` and a
session), and the browser's session cookie is set on the client, so that these tests depend on
nothing but the console's own pages.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.accounts import (
    Client,
    LoggedIn,
    confirm_sign_up,
    create_admin,
    list_inbox,
    sign_up,
)
from humangate.accounts.passwords import TEST_PARAMS, PasswordHasher
from humangate.accounts.sessions import start_session
from humangate.app import create_app
from humangate.config import Settings
from humangate.db import stats as stats_db
from humangate.db import units as unit_db
from humangate.messaging import read_outbox
from humangate.risk.access import CRAWLERS
from humangate.stats import hour_of
from humangate.units import DEFAULT_POW_DIFFICULTY, UnitView
from tests.api.helpers import issue, pass_pow, siteverify
from tests.app_services import replace_services, services_of
from tests.conftest import ORIGIN

PASSWORD = "correct horse battery"
BROWSER = Client(ip="198.51.100.7", device_label="Test browser")


@dataclass(frozen=True)
class Login:
    account_id: int
    token: str


def run(client: TestClient, work: Callable[[Any], Any]) -> Any:
    """Call `work(session)` on the app's event loop with a fresh database session."""
    sessions = services_of(client).sessions

    async def call() -> Any:
        async with sessions() as session:
            return await work(session)

    return client.portal.call(call)  # type: ignore[union-attr]


def make_owner(client: TestClient, email: str) -> Login:
    """Sign up and confirm through the account core; returns the new session."""
    ctx = services_of(client).accounts
    now = datetime.now(UTC)

    async def work(session: Any) -> LoggedIn:
        sent = await sign_up(ctx, session, email, PASSWORD, client=BROWSER, now=now)
        code = sent.outgoing[0].params["code"]
        done = await confirm_sign_up(ctx, session, email, code, client=BROWSER, now=now)
        assert isinstance(done, LoggedIn), done
        return done

    done = run(client, work)
    return Login(done.account.id, done.session_token)


def make_admin(client: TestClient, email: str = "ops@example.com") -> Login:
    ctx = services_of(client).accounts
    now = datetime.now(UTC)

    async def work(session: Any) -> Login:
        admin = await create_admin(ctx, session, email, PASSWORD, now=now)
        token = await start_session(
            ctx, session, admin.id, ip=BROWSER.ip, device_label="t", previous_token=None, now=now
        )
        await session.commit()
        return Login(admin.id, token)

    return run(client, work)  # type: ignore[no-any-return]


def use(client: TestClient, login: Login | None) -> None:
    """Act as this login from now on (or as a visitor without a session)."""
    client.cookies.clear()
    if login is not None:
        client.cookies.set("hg_session", login.token)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def post(client: TestClient, path: str, data: dict[str, Any], *, csrf: bool = True) -> Any:
    token = csrf_of(client.get("/console/units").text) if csrf else None
    body = {**data, "csrf": token} if token else data
    return client.post(path, data=body, follow_redirects=False)


GOOD = {
    "name": "Shop sign-up",
    "domains": "Shop.Example.com\nexample.org",
    "mode": "managed",
    "kinds": ["slide", "click"],
    "difficulty": "1",
    "threshold": "",
}


def shown_after(client: TestClient, reply: Any) -> Any:
    """The page a form's 303 leads to (post/redirect/get)."""
    assert reply.status_code == 303, reply.text
    page = client.get(reply.headers["location"])
    assert page.status_code == 200, page.text
    return page


def create(client: TestClient, **changes: Any) -> tuple[str, str]:
    """Create a unit through the form; returns (sitekey, secret) read from the page."""
    reply = shown_after(client, post(client, "/console/units", {**GOOD, **changes}))
    sitekey = re.search(r'<code id="sitekey">([^<]+)</code>', reply.text)
    secret = re.search(r'<code id="secret">([^<]+)</code>', reply.text)
    assert sitekey and secret
    return sitekey.group(1), secret.group(1)


def units_of(client: TestClient, account_id: int) -> list[UnitView]:
    return run(client, lambda s: unit_db.list_units(s, owner=account_id))  # type: ignore[no-any-return]


@pytest.fixture
def owner(client: TestClient) -> Login:
    login = make_owner(client, "owner@example.com")
    use(client, login)
    return login


def test_create_shows_the_secret_once(client: TestClient, owner: Login) -> None:
    sitekey, secret = create(client, threshold="0.6")
    [unit] = units_of(client, owner.account_id)
    assert unit.sitekey == sitekey
    assert unit.domains == ("shop.example.com", "example.org")
    assert unit.kinds == ("slide", "click") and unit.difficulty == 1
    assert unit.score_threshold == 0.6
    found = run(client, lambda s: unit_db.find_unit_by_secret(s, secret))
    assert found is not None and found.sitekey == sitekey

    for path in ("/console/units", f"/console/units/{sitekey}", f"/console/units/{sitekey}/edit"):
        page = client.get(path)
        assert page.status_code == 200 and secret not in page.text
    listing = client.get("/console/units").text
    assert "Shop sign-up" in listing and sitekey in listing


def test_home_offers_the_first_unit_until_there_is_one(client: TestClient, owner: Login) -> None:
    first = client.get("/console").text
    assert 'id="first-unit"' in first and 'href="/console/units/new"' in first
    create(client)
    assert 'id="first-unit"' not in client.get("/console").text


def test_reloading_the_new_secret_page_creates_nothing_and_shows_nothing(
    client: TestClient, owner: Login
) -> None:
    reply = post(client, "/console/units", GOOD)
    assert reply.status_code == 303
    shown = client.get(reply.headers["location"])
    secret = re.search(r'<code id="secret">([^<]+)</code>', shown.text)
    assert secret

    reloaded = client.get(reply.headers["location"])
    assert reloaded.status_code == 200 and 'id="secret-gone"' in reloaded.text
    assert secret.group(1) not in reloaded.text
    assert len(units_of(client, owner.account_id)) == 1


def test_another_owner_cannot_read_the_new_secret(client: TestClient, owner: Login) -> None:
    location = post(client, "/console/units", GOOD).headers["location"]
    use(client, make_owner(client, "other@example.com"))
    assert client.get(location).status_code == 404  # not their unit, and nothing taken
    use(client, owner)
    assert 'id="secret"' in client.get(location).text


def test_unit_page_has_the_snippet_and_siteverify(client: TestClient, owner: Login) -> None:
    sitekey, _ = create(client)
    page = client.get(f"/console/units/{sitekey}").text
    assert f"&lt;div class=&#34;humangate&#34; data-sitekey=&#34;{sitekey}&#34;" in page
    assert "http://testserver/humangate.js&#34; async defer&gt;" in page
    assert 'data-copy="snippet"' in page and 'aria-live="polite"' in page
    assert "http://testserver/siteverify" in page
    assert "<script>" not in page


def test_edit_rotate_disable_enable_delete(client: TestClient, owner: Login) -> None:
    sitekey, old = create(client, threshold="0.4")
    edited = post(
        client,
        f"/console/units/{sitekey}/edit",
        {**GOOD, "name": "Renamed", "mode": "interactive", "kinds": ["text"], "domains": "a.org"},
    )
    assert edited.status_code == 303
    [unit] = units_of(client, owner.account_id)
    assert (unit.name, unit.mode, unit.kinds, unit.domains) == (
        "Renamed",
        "interactive",
        ("text",),
        ("a.org",),
    )
    assert unit.score_threshold is None  # emptied on the form

    rotated = shown_after(client, post(client, f"/console/units/{sitekey}/rotate", {}))
    assert "keeps working for 24.0 hours" in rotated.text
    new = re.search(r'<code id="secret">([^<]+)</code>', rotated.text)
    assert new and new.group(1) != old
    for secret in (old, new.group(1)):  # the old one is in its grace period
        assert run(client, lambda s, k=secret: unit_db.find_unit_by_secret(s, k)) is not None

    assert post(client, f"/console/units/{sitekey}/disable", {}).status_code == 303
    assert units_of(client, owner.account_id)[0].disabled
    assert "This unit is disabled" in client.get(f"/console/units/{sitekey}").text
    assert post(client, f"/console/units/{sitekey}/enable", {}).status_code == 303
    assert not units_of(client, owner.account_id)[0].disabled

    assert client.get(f"/console/units/{sitekey}/delete").status_code == 200
    wrong = post(client, f"/console/units/{sitekey}/delete", {"confirm": "nope"})
    assert wrong.status_code == 400 and "not deleted" in wrong.text
    assert len(units_of(client, owner.account_id)) == 1
    gone = post(client, f"/console/units/{sitekey}/delete", {"confirm": sitekey})
    assert gone.status_code == 303 and gone.headers["location"] == "/console/units"
    assert units_of(client, owner.account_id) == []


BAD_INPUT = [
    ({"name": "x" * 201}, "name must be 1 to 200"),
    ({"name": "   "}, "name must be 1 to 200"),
    ({"domains": "not a domain!"}, "not a valid domain"),
    ({"domains": ""}, "At least one domain"),
    ({"kinds": ["slide", "maze"]}, "Kinds must be"),
    ({"kinds": []}, "Kinds must be"),
    ({"threshold": "1.5"}, "threshold must be"),
    ({"threshold": "-0.1"}, "threshold must be"),
    ({"threshold": "nan"}, "threshold must be"),
    ({"threshold": "abc"}, "threshold must be"),
    ({"difficulty": "9"}, "difficulty must be"),
    ({"difficulty": "two"}, "difficulty must be"),
    ({"mode": "loud"}, "mode must be"),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUT)
def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, owner: Login, change: dict[str, Any], message: str
) -> None:
    sitekey, _ = create(client)
    before = units_of(client, owner.account_id)
    created = post(client, "/console/units", {**GOOD, **change})
    assert created.status_code == 400 and message in created.text, created.text
    assert 'role="alert"' in created.text
    edited = post(client, f"/console/units/{sitekey}/edit", {**GOOD, **change})
    assert edited.status_code == 400 and message in edited.text
    assert units_of(client, owner.account_id) == before


def test_a_huge_field_is_refused(client: TestClient, owner: Login) -> None:
    reply = post(client, "/console/units", {**GOOD, "name": "x" * 5000})
    assert reply.status_code == 400 and "too long" in reply.text
    assert units_of(client, owner.account_id) == []


def test_others_units_are_not_found(client: TestClient, owner: Login) -> None:
    sitekey, _ = create(client)
    before = units_of(client, owner.account_id)
    use(client, make_owner(client, "other@example.com"))
    assert sitekey not in client.get("/console/units").text
    for path in ("", "/edit", "/delete", "/stats", "/stats.csv"):
        reply = client.get(f"/console/units/{sitekey}{path}")
        assert reply.status_code == 404, path
        assert "no such verification unit" in reply.text
    for path, data in [
        ("/edit", GOOD),
        ("/rotate", {}),
        ("/disable", {}),
        ("/enable", {}),
        ("/delete", {"confirm": sitekey}),
    ]:
        assert post(client, f"/console/units/{sitekey}{path}", data).status_code == 404, path
    assert units_of(client, owner.account_id) == before


POSTS = ["/edit", "/rotate", "/disable", "/enable", "/delete"]


def test_every_post_needs_the_csrf_token(client: TestClient, owner: Login) -> None:
    sitekey, _ = create(client)
    before = units_of(client, owner.account_id)
    paths = ["/console/units"] + [f"/console/units/{sitekey}{p}" for p in POSTS]
    for path in paths:
        data = {**GOOD, "confirm": sitekey}
        missing = post(client, path, data, csrf=False)
        assert missing.status_code == 403, path
        forged = post(client, path, {**data, "csrf": "0" * 64}, csrf=False)
        assert forged.status_code == 403, path
    assert units_of(client, owner.account_id) == before


def test_visitors_are_sent_to_the_login_page(client: TestClient) -> None:
    for path in ("/console/units", "/console/units/new", "/console/stats"):
        reply = client.get(path, follow_redirects=False)
        assert reply.status_code == 303
        assert reply.headers["location"].startswith("/console/login?next=")


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_and_tables_match_the_counters(client: TestClient, owner: Login) -> None:
    sitekey, _ = create(client)
    other, _ = create(client, name="Second")
    ids = {u.sitekey: u.id for u in units_of(client, owner.account_id)}
    now = hour_of(datetime.now(UTC))
    earlier = now - timedelta(hours=3)
    counts = {
        (ids[sitekey], now, "issued", "slide"): 7,
        (ids[sitekey], now, "passed", "slide"): 5,
        (ids[sitekey], earlier, "failed", "wrong-answer"): 2,
        (ids[sitekey], earlier, "verify-failed", "timeout-or-duplicate"): 3,
        (ids[other], now, "issued", "click"): 4,
    }

    async def add(session: Any) -> None:
        await stats_db.add_counts(session, counts)

    run(client, add)

    reply = client.get(f"/console/units/{sitekey}/stats.csv")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in reply.headers["content-disposition"]
    rows = {(r["hour_utc"], r["metric"], r["key"]): int(r["count"]) for r in read_csv(reply.text)}
    expected = {
        (hour.isoformat(timespec="minutes"), metric, key): n
        for (unit_id, hour, metric, key), n in counts.items()
        if unit_id == ids[sitekey]
    }
    assert rows == expected

    whole = read_csv(client.get("/console/stats.csv?range=7d").text)
    assert sum(int(r["count"]) for r in whole) == sum(counts.values())

    page = client.get(f"/console/units/{sitekey}/stats").text
    assert '<dd data-metric="issued">7</dd>' in page
    assert '<dd data-metric="passed">5</dd>' in page
    assert '<dd data-metric="verify-failed">3</dd>' in page
    assert "timeout-or-duplicate" in page and "wrong-answer" in page
    assert 'type="application/json" id="stats-data"' in page
    account_page = client.get("/console/stats?range=30d").text
    assert '<dd data-metric="issued">11</dd>' in account_page
    daily = client.get(f"/console/units/{sitekey}/stats?range=7d&by=day").text
    assert daily.count('<tr><th scope="row"><time') == 7

    for bad in ("range=1y", "by=week"):
        reply = client.get(f"/console/units/{sitekey}/stats?{bad}")
        assert reply.status_code == 400


def test_a_real_verification_shows_in_the_statistics(client: TestClient, owner: Login) -> None:
    sitekey, secret = create(client, mode="invisible", domains="localhost")
    run(client, lambda s: unit_db.update_unit(s, sitekey, unit_db.UnitChanges(pow_difficulty=500)))
    client.headers["Origin"] = "http://localhost:8000"
    token = pass_pow(client, sitekey)
    assert siteverify(client, secret, token).json()["success"] is True
    client.portal.call(services_of(client).counters.flush)  # type: ignore[union-attr]
    page = client.get(f"/console/units/{sitekey}/stats").text
    assert '<dd data-metric="passed">1</dd>' in page
    assert '<dd data-metric="verified">1</dd>' in page


def test_pages_refused_for_their_origin_show_with_their_host(
    client: TestClient, owner: Login
) -> None:
    sitekey, _ = create(client, domains="shop.example.com")
    for origin in ("https://shop.example.net", "https://shop.example.net", None):
        headers = {"Origin": origin} if origin else {}
        reply = client.post("/api/v1/challenges", json={"sitekey": sitekey}, headers=headers)
        assert reply.status_code == 403 and reply.json()["error"] == "invalid-origin"
    client.portal.call(services_of(client).counters.flush)  # type: ignore[union-attr]
    page = client.get(f"/console/units/{sitekey}/stats").text
    assert '<dd data-metric="refused">3</dd>' in page
    table = page[page.index('<table id="by-origin">') :]
    assert "<code>shop.example.net</code></th><td>2</td>" in table
    assert "<code>(none)</code></th><td>1</td>" in table


def test_rotation_and_disabling_notify_the_owner(
    client: TestClient, settings: Settings, owner: Login
) -> None:
    sitekey, _ = create(client, name="Checkout")
    post(client, f"/console/units/{sitekey}/rotate", {})
    post(client, f"/console/units/{sitekey}/disable", {})
    post(client, f"/console/units/{sitekey}/disable", {})  # already disabled: no second note
    inbox = run(client, lambda s: list_inbox(s, owner.account_id))
    notes = [n for n in inbox if n.kind == "security"]
    assert len(notes) == 2 and all("Checkout" in n.subject for n in notes)
    mail = [e for e in read_outbox(settings.data_dir, 100) if e.to == "owner@example.com"]
    assert sum("Checkout" in e.subject for e in mail) == 2


def test_names_are_escaped(client: TestClient, owner: Login) -> None:
    sitekey, _ = create(client, name='<img src=x onerror="alert(1)">')
    for path in ("/console/units", f"/console/units/{sitekey}", f"/console/units/{sitekey}/stats"):
        page = client.get(path).text
        assert "<img src=x" not in page and "&lt;img src=x" in page, path


RISK = {
    "pow_difficulty": "2000",
    "allow_networks": "203.0.113.7/24  # the office\n\n2001:db8::/48\n203.0.113.0/24",
    "deny_networks": "192.0.2.9",
    "good_bots": ["googlebot", "bingbot", "googlebot"],
}


def test_risk_settings_are_saved_shown_and_edited(client: TestClient, owner: Login) -> None:
    sitekey, _ = create(client, **RISK)
    [unit] = units_of(client, owner.account_id)
    assert unit.pow_difficulty == 2000
    # Normalised as the CLI stores them: host bits cleared, repeats and comments dropped.
    assert unit.allow_networks == ("203.0.113.0/24", "2001:db8::/48")
    assert unit.deny_networks == ("192.0.2.9/32",)
    assert unit.good_bots == ("bingbot", "googlebot")

    page = client.get(f"/console/units/{sitekey}").text
    assert "<dt>Proof-of-work difficulty</dt><dd>2000</dd>" in page
    assert "<li><code>203.0.113.0/24</code></li><li><code>2001:db8::/48</code></li>" in page
    assert "<li><code>192.0.2.9/32</code></li>" in page
    assert '<dd id="good-bots">bingbot, Googlebot</dd>' in page

    form = client.get(f"/console/units/{sitekey}/edit").text
    assert (
        'name="pow_difficulty" type="text" inputmode="numeric" maxlength="20" value="2000"' in form
    )
    assert ">203.0.113.0/24\n2001:db8::/48</textarea>" in form
    assert 'value="googlebot" checked' in form and 'value="bingbot" checked' in form
    assert 'value="applebot">' in form

    cleared = {**GOOD, "pow_difficulty": "", "allow_networks": "", "deny_networks": ""}
    assert post(client, f"/console/units/{sitekey}/edit", cleared).status_code == 303
    [unit] = units_of(client, owner.account_id)
    assert unit.pow_difficulty == DEFAULT_POW_DIFFICULTY
    assert (unit.allow_networks, unit.deny_networks, unit.good_bots) == ((), (), ())
    page = client.get(f"/console/units/{sitekey}").text
    assert "<dt>Allow list</dt><dd>none</dd>" in page
    assert '<dd id="good-bots">none</dd>' in page


def test_the_new_unit_form_offers_the_defaults(client: TestClient, owner: Login) -> None:
    form = client.get("/console/units/new").text
    assert f'value="{DEFAULT_POW_DIFFICULTY}"' in form
    for name, crawler in CRAWLERS.items():
        assert f'<input type="checkbox" id="bot-{name}" name="good_bots" value="{name}">' in form
        assert f'<label for="bot-{name}">{crawler.ua_tokens[0]}</label>' in form


BAD_RISK = [
    ({"allow_networks": "203.0.113.0/24\nnot-a-network"}, "The allow list: Line 2: "),
    ({"deny_networks": "10.0.0.0/4"}, "The deny list: Line 1: 0.0.0.0/4 is broader than /8"),
    ({"deny_networks": "300.1.2.3"}, "is not an IP address or network"),
    (
        {"allow_networks": "\n".join(f"10.0.{i // 256}.{i % 256}" for i in range(201))},
        "An access list holds at most 200 networks.",
    ),
    ({"allow_networks": "1" * 40_401}, "too long"),
    ({"good_bots": ["googlebot", "evilbot"]}, "&#39;evilbot&#39; is not a known crawler"),
    ({"pow_difficulty": "0"}, "proof-of-work difficulty must be between 1 and 10000000"),
    ({"pow_difficulty": "10000001"}, "proof-of-work difficulty must be between 1 and 10000000"),
    ({"pow_difficulty": "-5"}, "proof-of-work difficulty must be between 1 and 10000000"),
    ({"pow_difficulty": "lots"}, "proof-of-work difficulty must be a whole number from 1 to"),
    ({"pow_difficulty": "1.5"}, "proof-of-work difficulty must be a whole number from 1 to"),
]


@pytest.mark.parametrize(("change", "message"), BAD_RISK)
def test_bad_risk_settings_are_refused_and_change_nothing(
    client: TestClient, owner: Login, change: dict[str, Any], message: str
) -> None:
    sitekey, _ = create(client, **RISK)
    before = units_of(client, owner.account_id)
    created = post(client, "/console/units", {**GOOD, **RISK, **change})
    assert created.status_code == 400 and message in created.text, created.text
    edited = post(client, f"/console/units/{sitekey}/edit", {**GOOD, **RISK, **change})
    assert edited.status_code == 400 and message in edited.text, edited.text
    assert units_of(client, owner.account_id) == before


VISITOR_IP = "198.51.100.23"


@pytest.fixture
def visitor(settings: Settings) -> Iterator[TestClient]:
    """The console and the widget API for a browser at VISITOR_IP."""
    app = create_app(settings)
    with TestClient(app, client=(VISITOR_IP, 50000), headers={"Origin": ORIGIN}) as browser:
        accounts = services_of(browser).accounts
        replace_services(
            browser, accounts=dataclasses.replace(accounts, hasher=PasswordHasher(TEST_PARAMS))
        )
        yield browser


def test_the_verification_loop_uses_the_risk_settings(visitor: TestClient) -> None:
    use(visitor, make_owner(visitor, "owner@example.com"))
    sitekey, secret = create(visitor, mode="invisible", domains="localhost", pow_difficulty="1234")
    challenge = issue(visitor, sitekey)
    assert challenge["kind"] == "pow" and challenge["pow"]["maxnumber"] == 1234
    token = pass_pow(visitor, sitekey)
    assert siteverify(visitor, secret, token).json()["success"] is True

    form = {**GOOD, "mode": "invisible", "domains": "localhost", "pow_difficulty": "1234"}
    denied = {**form, "deny_networks": "198.51.100.0/24"}
    assert post(visitor, f"/console/units/{sitekey}/edit", denied).status_code == 303
    refused = visitor.post("/api/v1/challenges", json={"sitekey": sitekey})
    assert refused.status_code == 403 and refused.json()["error"] == "access-denied"

    # Allow-listed, the visitor skips scoring: siteverify reports why.
    allowed = {**form, "allow_networks": VISITOR_IP}
    assert post(visitor, f"/console/units/{sitekey}/edit", allowed).status_code == 303
    verdict = siteverify(visitor, secret, pass_pow(visitor, sitekey)).json()
    assert verdict["success"] is True and verdict["score_reasons"] == ["allow-listed"]
