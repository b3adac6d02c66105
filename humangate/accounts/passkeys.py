"""Passkeys (WebAuthn): add one while logged in, log in with one, list and remove them.

Each ceremony has two steps. `begin_*` returns the options JSON for the browser's
`navigator.credentials.create()` / `.get()` and keeps the challenge in the hot store;
`finish_*` takes that challenge back exactly once, found by the challenge the browser signed,
so every response is accepted at most once and only within `passkey_ceremony_ttl`.

Passkeys are discoverable and user-verified (the authenticator checked a PIN or a biometric),
so a passkey login proves both the device and the person: it needs no password and no step-up
code. The login options name no account and list no credential, so they say nothing about which
accounts exist. Adding a passkey needs a fresh login (`fresh_login`): a stolen, older session
cannot plant a lasting way back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from humangate.accounts import audit
from humangate.accounts._common import BLOCKED, check_now, require_account
from humangate.accounts._context import AccountContext, Client
from humangate.accounts._notices import PASSKEY_ADDED, notice_locale
from humangate.accounts._steps import blocked_outcome, finish_login
from humangate.accounts._views import contacts
from humangate.accounts._webauthn import MAX_CREDENTIAL as MAX_CREDENTIAL  # for the console
from humangate.accounts._webauthn import (
    Response,
    b64url_decode,
    b64url_encode,
    credential_key,
    keep_ceremony,
    read_response,
    take_ceremony,
)
from humangate.accounts.outcomes import AccountBlocked, LoggedIn, Outgoing
from humangate.accounts.sessions import clean_label
from humangate.db import accounts as account_db
from humangate.db import inbox as inbox_db
from humangate.db import passkeys as db
from humangate.db.accounts import aware
from humangate.db.models import Account, Passkey
from humangate.errors import InvalidInput

MAX_NAME = 60
_VERIFY_ERRORS = (WebAuthnException, ValueError, KeyError, TypeError)

RejectReason = Literal["expired", "invalid", "unknown", "duplicate", "limit", "not-fresh"]
_MESSAGES: dict[str, str] = {
    "expired": "The passkey prompt expired or was already answered. Try again.",
    "invalid": "The passkey could not be verified. Try again, or use another way to log in.",
    "unknown": "This passkey is not registered with any account here.",
    "duplicate": "This passkey is already registered.",
    "limit": "This account has as many passkeys as it may hold; remove one first.",
    "not-fresh": "For your security, log in again before adding a passkey.",
}


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who the passkeys belong to: the console's host name and the origin browsers use."""

    id: str
    origin: str
    name: str = "HumanGate"

    @classmethod
    def from_origin(cls, origin: str, name: str = "HumanGate") -> RelyingParty:
        """From an origin such as `https://console.example.com`.

        Raises:
            InvalidInput: not an http(s) URL with a host name.
        """
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"{origin!r} is not an http(s) origin.")
        return cls(id=parts.hostname, origin=f"{parts.scheme}://{parts.netloc}", name=name)


@dataclass(frozen=True, slots=True)
class PasskeyView:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backed_up: bool
    transports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PasskeyAdded:
    passkey: PasskeyView
    outgoing: tuple[Outgoing, ...] = ()


@dataclass(frozen=True, slots=True)
class PasskeyRejected:
    reason: RejectReason

    @property
    def message(self) -> str:
        return _MESSAGES[self.reason]


def passkey_view(row: Passkey) -> PasskeyView:
    return PasskeyView(
        id=row.id,
        name=row.name,
        created_at=aware(row.created_at),
        last_used_at=aware(row.last_used_at) if row.last_used_at else None,
        backed_up=row.backed_up,
        transports=tuple(row.transports),
    )


def clean_name(name: str, default: str) -> str:
    """A passkey's name: printable, at most MAX_NAME characters; empty gives `default`.

    Raises:
        InvalidInput: too long or holding control characters.
    """
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(f"A passkey name holds at most {MAX_NAME} characters.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInput("A passkey name cannot hold control characters.")
    return name or default[:MAX_NAME]


def _timeout_ms(ctx: AccountContext) -> int:
    return int(ctx.policy.passkey_ceremony_ttl.total_seconds() * 1000)


# --- adding and removing ------------------------------------------------------------------------


async def begin_registration(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    rp: RelyingParty,
    *,
    session_started: datetime,
    now: datetime,
) -> str | PasskeyRejected:
    """The options JSON for `navigator.credentials.create()`, or why a passkey cannot be added.

    Raises:
        InvalidInput: no such active account.
    """
    check_now(now)
    account = await require_account(session, account_id)
    if now - session_started > ctx.policy.fresh_login:
        return PasskeyRejected("not-fresh")
    existing = await db.list_passkeys(session, account.id)
    if len(existing) >= ctx.policy.max_passkeys:
        return PasskeyRejected("limit")
    identifier = contacts(account)[0].value
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_name=identifier,
        user_id=ctx.keys.passkey_user_handle(account.id),
        user_display_name=account.display_name or identifier,
        timeout=_timeout_ms(ctx),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=b64url_decode(row.credential_id)) for row in existing
        ],
    )
    await keep_ceremony(ctx, options.challenge, "register", account.id, now)
    return options_to_json(options)


async def finish_registration(
    ctx: AccountContext,
    session: AsyncSession,
    account_id: int,
    credential: str,
    *,
    name: str,
    rp: RelyingParty,
    client: Client,
    now: datetime,
) -> PasskeyAdded | PasskeyRejected:
    """Verify the browser's new credential and keep it; commits.

    Raises:
        InvalidInput: a malformed response or name; nothing is changed.
    """
    check_now(now)
    response = read_response(credential)
    label = clean_name(name, clean_label(client.device_label))
    state = await take_ceremony(ctx, response.challenge, "register", now)
    if state is None or state["account"] != account_id:
        return PasskeyRejected("expired")
    account = await require_account(session, account_id)
    row = await _new_passkey(ctx, session, account, response, rp, label, now)
    if isinstance(row, PasskeyRejected):
        return row
    try:
        await db.add_passkey(session, row)
    except IntegrityError:  # the same credential, registered concurrently
        await session.rollback()
        return PasskeyRejected("duplicate")
    notice = await _announce(session, account, label, client, now)
    view = passkey_view(row)
    await session.commit()
    return PasskeyAdded(view, (notice,))


async def _new_passkey(
    ctx: AccountContext,
    session: AsyncSession,
    account: Account,
    response: Response,
    rp: RelyingParty,
    label: str,
    now: datetime,
) -> Passkey | PasskeyRejected:
    """Verify a new credential: the row to keep, or why it cannot be kept."""
    try:
        verified = verify_registration_response(
            credential=response.raw,
            expected_challenge=response.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except _VERIFY_ERRORS:
        return PasskeyRejected("invalid")
    key = credential_key(verified.credential_id)
    if await db.find_passkey(session, key) is not None:
        return PasskeyRejected("duplicate")
    if await db.count_passkeys(session, account.id) >= ctx.policy.max_passkeys:
        return PasskeyRejected("limit")
    return Passkey(
        account_id=account.id,
        credential_key=key,
        credential_id=b64url_encode(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=response.transports(),
        name=label,
        backed_up=verified.credential_backed_up,
        created_at=now,
    )


async def _announce(
    session: AsyncSession, account: Account, label: str, client: Client, now: datetime
) -> Outgoing:
    """Audit a new passkey and put a security notice in the inbox (the caller commits); return
    the same notice as a message to the account's first identifier."""
    await audit.record_by_account(
        session, "passkey.registered", account.id, ip=client.ip, now=now, details={"name": label}
    )
    title, body = PASSKEY_ADDED[notice_locale(account.language)]
    await inbox_db.add_notification(
        session, account.id, kind="security", subject=title, body=body.format(name=label), now=now
    )
    to = contacts(account)[0]
    return Outgoing(to.channel, to.value, "passkey-added", {"name": label}, account.language)


async def list_passkeys(session: AsyncSession, account_id: int) -> tuple[PasskeyView, ...]:
    return tuple(passkey_view(row) for row in await db.list_passkeys(session, account_id))


async def remove_passkey(
    session: AsyncSession, account_id: int, passkey_id: int, *, client: Client, now: datetime
) -> bool:
    """Remove one of the account's passkeys; False if it holds no such passkey. Commits."""
    check_now(now)
    row = await db.delete_passkey(session, account_id, passkey_id)
    if row is None:
        return False
    await audit.record_by_account(
        session, "passkey.removed", account_id, ip=client.ip, now=now, details={"name": row.name}
    )
    await session.commit()
    return True


# --- logging in ---------------------------------------------------------------------------------


async def begin_login(ctx: AccountContext, rp: RelyingParty, *, now: datetime) -> str:
    """The options JSON for `navigator.credentials.get()`: any of this site's passkeys."""
    check_now(now)
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=_timeout_ms(ctx),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    await keep_ceremony(ctx, options.challenge, "login", None, now)
    return options_to_json(options)


async def log_in_with_passkey(
    ctx: AccountContext,
    session: AsyncSession,
    credential: str,
    *,
    rp: RelyingParty,
    client: Client,
    now: datetime,
) -> LoggedIn | PasskeyRejected | AccountBlocked:
    """Log in with the browser's answer to `begin_login`; every outcome commits.

    A failed check is audited but locks nothing: nobody can forge an assertion, so counting
    failures would only let others lock an owner out.

    Raises:
        InvalidInput: a malformed response; nothing is changed.
    """
    check_now(now)
    response = read_response(credential)
    if await take_ceremony(ctx, response.challenge, "login", now) is None:
        return PasskeyRejected("expired")
    row = await db.find_passkey(session, credential_key(response.credential_id))
    account = await account_db.get_account(session, row.account_id) if row else None
    if row is None or account is None or account.status == "pending":
        return await _failed(session, None, "unknown", client, now)
    try:
        verified = verify_authentication_response(
            credential=response.raw,
            expected_challenge=response.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count,
            require_user_verification=True,
        )
    except _VERIFY_ERRORS:
        return await _failed(session, account.id, "invalid", client, now)
    if account.status in BLOCKED:
        return await blocked_outcome(session, account, client, now)
    db.record_use(row, verified.new_sign_count, now)
    return await finish_login(ctx, session, account, client, method="passkey", now=now)


async def _failed(
    session: AsyncSession,
    account_id: int | None,
    reason: Literal["unknown", "invalid"],
    client: Client,
    now: datetime,
) -> PasskeyRejected:
    details = {"method": "passkey", "reason": reason}
    await audit.record_by_account(
        session, "login.failed", account_id, ip=client.ip, now=now, details=details
    )
    await session.commit()
    return PasskeyRejected(reason)
