"""Passkeys: adding one after a fresh login, logging in with it, and every way it must fail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from humangate.accounts import (
    AccountBlocked,
    Client,
    LoggedIn,
    cancel_account,
    create_admin,
    export_account,
    list_entries,
    list_inbox,
    suspend_account,
)
from humangate.accounts import passkeys as pk
from humangate.db import passkeys as passkey_db
from tests.accounts._authenticator import SoftAuthenticator, b64url, unb64url
from tests.accounts.conftest import BROWSER, PASSWORD, T0, Harness

ORIGIN = "https://console.example.com"
RP = pk.RelyingParty.from_origin(ORIGIN)
ELSEWHERE = Client(ip="198.51.100.20", device_label="Safari on iOS")


async def register(
    accounts: Harness, logged: LoggedIn, authenticator: SoftAuthenticator, name: str = ""
) -> pk.PasskeyAdded | pk.PasskeyRejected:
    account_id = logged.account.id
    options = await accounts.run(pk.begin_registration, account_id, RP, session_started=T0, now=T0)
    assert isinstance(options, str), options
    return await accounts.run(
        pk.finish_registration,
        account_id,
        authenticator.create(options),
        name=name,
        rp=RP,
        client=BROWSER,
        now=T0,
    )


async def log_in(
    accounts: Harness,
    authenticator: SoftAuthenticator,
    client: Client = ELSEWHERE,
    **answer: object,
) -> LoggedIn | pk.PasskeyRejected | AccountBlocked:
    options = await pk.begin_login(accounts.ctx, RP, now=T0)
    credential = authenticator.get(options, **answer)  # type: ignore[arg-type]
    return await accounts.run(pk.log_in_with_passkey, credential, rp=RP, client=client, now=T0)


async def test_add_a_passkey_then_log_in_from_a_new_device_without_step_up(
    accounts: Harness,
) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    added = await register(accounts, logged, authenticator, name="  Work laptop ")
    assert isinstance(added, pk.PasskeyAdded)
    assert added.passkey.name == "Work laptop" and added.passkey.transports == ("internal",)
    (notice,) = added.outgoing
    assert (notice.template, notice.to, notice.params) == (
        "passkey-added",
        "owner@example.com",
        {"name": "Work laptop"},
    )
    (note,) = await accounts.db(list_inbox, logged.account.id)
    assert note.subject == "A passkey was added to your HumanGate account"
    assert '"Work laptop"' in note.body

    # Another network, no device cookie: a password would need a step-up code, a passkey not.
    done = await log_in(accounts, authenticator)
    assert isinstance(done, LoggedIn) and done.account.id == logged.account.id

    (row,) = await accounts.db(passkey_db.list_passkeys, logged.account.id)
    assert row.sign_count == 1 and row.last_used_at is not None
    logins = await accounts.db(list_entries, account_id=logged.account.id, action="login.succeeded")
    assert logins.entries[0].details == {"method": "passkey"}
    added_entries = await accounts.db(
        list_entries, account_id=logged.account.id, action="passkey.registered"
    )
    assert [e.details for e in added_entries.entries] == [{"name": "Work laptop"}]


async def test_the_options_name_no_account_and_the_user_handle_is_opaque(
    accounts: Harness,
) -> None:
    logged = await accounts.signed_up()
    login_options = json.loads(await pk.begin_login(accounts.ctx, RP, now=T0))
    assert login_options["allowCredentials"] == [] and login_options["rpId"] == RP.id
    assert login_options["userVerification"] == "required"
    options = await accounts.run(
        pk.begin_registration, logged.account.id, RP, session_started=T0, now=T0
    )
    created = json.loads(options)  # type: ignore[arg-type]
    handle = unb64url(created["user"]["id"])
    assert len(handle) == 32 and str(logged.account.id).encode() not in handle
    assert created["authenticatorSelection"]["residentKey"] == "required"
    assert created["authenticatorSelection"]["userVerification"] == "required"


async def test_adding_a_passkey_needs_a_fresh_login(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    stale = T0 - accounts.ctx.policy.fresh_login - timedelta(seconds=1)
    refused = await accounts.run(
        pk.begin_registration, logged.account.id, RP, session_started=stale, now=T0
    )
    assert refused == pk.PasskeyRejected("not-fresh")


async def test_a_registration_answer_counts_once_and_only_for_its_account(
    accounts: Harness,
) -> None:
    owner = await accounts.signed_up()
    other = await accounts.signed_up("other@example.com")
    authenticator = SoftAuthenticator(ORIGIN)
    options = await accounts.run(
        pk.begin_registration, owner.account.id, RP, session_started=T0, now=T0
    )
    answer = authenticator.create(options)  # type: ignore[arg-type]

    def finish(account_id: int) -> object:
        return accounts.run(
            pk.finish_registration, account_id, answer, name="", rp=RP, client=BROWSER, now=T0
        )

    assert await finish(other.account.id) == pk.PasskeyRejected("expired")  # type: ignore[comparison-overlap]
    # The mismatched attempt used the ceremony up: the owner must start again.
    assert await finish(owner.account.id) == pk.PasskeyRejected("expired")  # type: ignore[comparison-overlap]
    assert await accounts.db(passkey_db.list_passkeys, owner.account.id) == []


async def test_a_ceremony_expires(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    options = await accounts.run(
        pk.begin_registration, logged.account.id, RP, session_started=T0, now=T0
    )
    late = T0 + accounts.ctx.policy.passkey_ceremony_ttl
    refused = await accounts.run(
        pk.finish_registration,
        logged.account.id,
        authenticator.create(options),  # type: ignore[arg-type]
        name="",
        rp=RP,
        client=BROWSER,
        now=late,
    )
    assert refused == pk.PasskeyRejected("expired")


@pytest.mark.parametrize(
    ("authenticator", "why"),
    [
        (SoftAuthenticator("https://evil.example.net"), "another origin"),
        (SoftAuthenticator(ORIGIN, user_verified=False), "no user verification"),
    ],
)
async def test_registration_refused(
    accounts: Harness, authenticator: SoftAuthenticator, why: str
) -> None:
    logged = await accounts.signed_up()
    assert await register(accounts, logged, authenticator) == pk.PasskeyRejected("invalid"), why
    assert await accounts.db(passkey_db.list_passkeys, logged.account.id) == []


async def test_a_login_answer_is_accepted_once(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    await register(accounts, logged, authenticator)
    options = await pk.begin_login(accounts.ctx, RP, now=T0)
    answer = authenticator.get(options)

    def finish() -> object:
        return accounts.run(pk.log_in_with_passkey, answer, rp=RP, client=ELSEWHERE, now=T0)

    assert isinstance(await finish(), LoggedIn)
    assert await finish() == pk.PasskeyRejected("expired")


async def test_registration_options_cannot_be_used_to_log_in(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    await register(accounts, logged, authenticator)
    options = json.loads(
        await accounts.run(  # type: ignore[arg-type]
            pk.begin_registration, logged.account.id, RP, session_started=T0, now=T0
        )
    )
    as_login = json.dumps({"challenge": options["challenge"], "rpId": RP.id})
    answer = authenticator.get(as_login)
    refused = await accounts.run(pk.log_in_with_passkey, answer, rp=RP, client=BROWSER, now=T0)
    assert refused == pk.PasskeyRejected("expired")


async def test_login_refusals_are_audited(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    await register(accounts, logged, authenticator)

    stranger = SoftAuthenticator(ORIGIN)
    stranger.create(
        json.dumps({"rp": {"id": RP.id}, "user": {"id": b64url(b"x")}, "challenge": "AA"})
    )
    assert await log_in(accounts, stranger) == pk.PasskeyRejected("unknown")
    assert await log_in(accounts, authenticator, origin="https://evil.example.net") == (
        pk.PasskeyRejected("invalid")
    )
    # A cloned authenticator repeats a signature count the server has already seen.
    assert isinstance(await log_in(accounts, authenticator), LoggedIn)
    assert await log_in(accounts, authenticator, count_up=False) == pk.PasskeyRejected("invalid")

    failed = await accounts.db(list_entries, action="login.failed")
    reasons = [(e.account_id, e.details["reason"]) for e in reversed(failed.entries)]
    assert reasons == [(None, "unknown"), (logged.account.id, "invalid")] + [
        (logged.account.id, "invalid")
    ]


async def test_user_verification_is_required_to_log_in(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    await register(accounts, logged, authenticator)
    authenticator.user_verified = False
    assert await log_in(accounts, authenticator) == pk.PasskeyRejected("invalid")


async def test_a_suspended_account_cannot_log_in_with_its_passkey(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    await register(accounts, logged, authenticator)
    admin = await accounts.run(create_admin, "ops@example.com", PASSWORD, now=T0)
    await accounts.run(
        suspend_account,
        logged.account.id,
        admin_id=admin.id,
        reason="Unpaid invoice",
        client=BROWSER,
        now=T0,
    )
    blocked = await log_in(accounts, authenticator)
    assert isinstance(blocked, AccountBlocked) and blocked.reason == "Unpaid invoice"


async def test_the_passkey_limit(accounts: Harness) -> None:
    limited = accounts.with_policy(max_passkeys=1)
    logged = await limited.signed_up()
    assert isinstance(await register(limited, logged, SoftAuthenticator(ORIGIN)), pk.PasskeyAdded)
    refused = await limited.run(
        pk.begin_registration, logged.account.id, RP, session_started=T0, now=T0
    )
    assert refused == pk.PasskeyRejected("limit")


async def test_registered_passkeys_are_excluded_from_the_next_registration(
    accounts: Harness,
) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    await register(accounts, logged, authenticator)
    options = await accounts.run(
        pk.begin_registration, logged.account.id, RP, session_started=T0, now=T0
    )
    excluded = json.loads(options)["excludeCredentials"]  # type: ignore[arg-type]
    assert [item["id"] for item in excluded] == [b64url(authenticator.credentials[0].id)]


async def test_remove_a_passkey_only_from_its_own_account(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    other = await accounts.signed_up("other@example.com")
    authenticator = SoftAuthenticator(ORIGIN)
    added = await register(accounts, owner, authenticator, name="Phone")
    assert isinstance(added, pk.PasskeyAdded)
    passkey_id = added.passkey.id
    assert not await accounts.db(
        pk.remove_passkey, other.account.id, passkey_id, client=BROWSER, now=T0
    )
    assert await accounts.db(
        pk.remove_passkey, owner.account.id, passkey_id, client=BROWSER, now=T0
    )
    assert await accounts.db(pk.list_passkeys, owner.account.id) == ()
    assert await log_in(accounts, authenticator) == pk.PasskeyRejected("unknown")
    removed = await accounts.db(list_entries, account_id=owner.account.id, action="passkey.removed")
    assert [e.details for e in removed.entries] == [{"name": "Phone"}]


async def test_export_lists_passkeys_and_cancellation_erases_them(accounts: Harness) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    await register(accounts, logged, authenticator, name="Key")
    exported = await accounts.run(export_account, logged.account.id, client=BROWSER, now=T0)
    (item,) = exported["passkeys"]  # type: ignore[misc]
    assert item["name"] == "Key" and item["credential_id"] == b64url(
        authenticator.credentials[0].id
    )
    admin = await accounts.run(create_admin, "ops@example.com", PASSWORD, now=T0)
    await accounts.run(cancel_account, logged.account.id, admin_id=admin.id, reason="asked", now=T0)
    assert await accounts.db(passkey_db.list_passkeys, logged.account.id) == []
    assert await log_in(accounts, authenticator) == pk.PasskeyRejected("unknown")


MALFORMED = [
    "",
    "{",
    "[]",
    "null",
    json.dumps({"type": "public-key"}),
    json.dumps({"type": "public-key", "rawId": "AA", "response": {}}),
    json.dumps({"type": "public-key", "rawId": "AA", "response": {"clientDataJSON": "!!"}}),
    json.dumps({"type": "public-key", "rawId": "AA", "response": {"clientDataJSON": b64url(b"[")}}),
    json.dumps(
        {
            "type": "public-key",
            "rawId": "",
            "response": {"clientDataJSON": b64url(b'{"challenge":"AA"}')},
        }
    ),
    json.dumps(
        {
            "type": "other",
            "rawId": "AA",
            "response": {"clientDataJSON": b64url(b'{"challenge":"AA"}')},
        }
    ),
    json.dumps(
        {
            "type": "public-key",
            "rawId": "AA",
            "response": {"clientDataJSON": b64url(b'{"challenge":7}')},
        }
    ),
    "x" * (pk.MAX_CREDENTIAL + 1),
]


@pytest.mark.parametrize("credential", MALFORMED)
async def test_malformed_answers_raise_and_change_nothing(
    accounts: Harness, credential: str
) -> None:
    logged = await accounts.signed_up()
    before = await accounts.snapshot()
    with pytest.raises(ValueError, match="passkey response"):
        await accounts.run(pk.log_in_with_passkey, credential, rp=RP, client=BROWSER, now=T0)
    with pytest.raises(ValueError, match="passkey response"):
        await accounts.run(
            pk.finish_registration,
            logged.account.id,
            credential,
            name="",
            rp=RP,
            client=BROWSER,
            now=T0,
        )
    assert await accounts.snapshot() == before


@pytest.mark.parametrize("name", ["x" * (pk.MAX_NAME + 1), "bad\nname"])
async def test_bad_names_are_refused_before_the_ceremony_is_used(
    accounts: Harness, name: str
) -> None:
    logged = await accounts.signed_up()
    authenticator = SoftAuthenticator(ORIGIN)
    options = await accounts.run(
        pk.begin_registration, logged.account.id, RP, session_started=T0, now=T0
    )
    answer = authenticator.create(options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="passkey name"):
        await accounts.run(
            pk.finish_registration,
            logged.account.id,
            answer,
            name=name,
            rp=RP,
            client=BROWSER,
            now=T0,
        )
    again = await accounts.run(
        pk.finish_registration, logged.account.id, answer, name="ok", rp=RP, client=BROWSER, now=T0
    )
    assert isinstance(again, pk.PasskeyAdded)


def test_relying_party_from_origin() -> None:
    assert pk.RelyingParty.from_origin("http://localhost:8000/console") == pk.RelyingParty(
        id="localhost", origin="http://localhost:8000"
    )
    for bad in ("", "ftp://example.com", "https://", "console.example.com"):
        with pytest.raises(ValueError):
            pk.RelyingParty.from_origin(bad)
