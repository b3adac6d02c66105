"""The verification API's operations: authenticate a signed request, start, check, fetch and
cancel a verification.

A verification is a row from its start; its code exists in clear only in the message. The
order of a start is the order of cost: refusals that need no store or message first (channel,
destination, country, carrier), then the pass token (single use), then the pumping guard, and
only then a code and a message.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import verifications as rows
from humangate.db._rows import aware
from humangate.db.verify_apps import get_app, live_secrets
from humangate.errors import (
    AccessDenied,
    Expired,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamUnavailable,
)
from humangate.messaging import Channels
from humangate.netaddr import ip_prefix
from humangate.store import Store
from humangate.text import is_ascii_digits
from humangate.verify import signing
from humangate.verify.apps import AppView
from humangate.verify.carrier import CamaraVerifier, NumberClaim, NumberVerdict, NumberVerifier
from humangate.verify.delivery import compose, deliver
from humangate.verify.guard import Conversion, PumpingGuard, Target
from humangate.verify.keys import (
    code_digest,
    code_matches,
    destination_digest,
    new_code,
    new_verification_id,
)
from humangate.verify.numbers import Phone, is_three_carriers, mask_phone, parse_email, parse_phone

if TYPE_CHECKING:
    from humangate.config import Settings

log = logging.getLogger(__name__)

NONCE_LIFETIME = timedelta(seconds=2 * signing.MAX_SKEW_SECONDS + 60)
CODE_CHANNELS = ("sms", "email")
LOCALES = ("en", "zh-CN")
MAX_CODE_TEXT = 10
MAX_CACHED_APPS = 10_000
# Refuses (EditionRequired) an app whose owner's edition has no verification API.
EditionCheck = Callable[[int | None], Awaitable[None]]

TokenCheck = Callable[[AppView, str], Awaitable[bool]]
# Charges the app's owner for one item (billing on): the price charged, 0 when nothing was due;
# raises PaymentRequired when it cannot pay.
BillingCharge = Callable[[int | None, str], Awaitable[int]]
# Gives back what a charge took, once per reference: (account_id, item, *, reference) → the
# amount credited, 0 when nothing was.
BillingCredit = Callable[..., Awaitable[int]]
PrefixAlert = Callable[[AppView, str, Conversion], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """The deployment's rules for every app (HUMANGATE_VERIFY_*)."""

    resend_seconds: int = 30
    max_attempts: int = 5
    max_sends: int = 5
    conversion_min_sent: int = 10
    conversion_floor: float = 0.2
    block_hours: int = 24

    @classmethod
    def from_settings(cls, settings: Settings) -> VerifyPolicy:
        return cls(
            resend_seconds=settings.verify_resend_seconds,
            max_attempts=settings.verify_max_attempts,
            max_sends=settings.verify_max_sends,
            conversion_min_sent=settings.verify_conversion_min_sent,
            conversion_floor=settings.verify_conversion_floor,
            block_hours=settings.verify_block_hours,
        )


@dataclass(frozen=True, slots=True)
class StartRequest:
    """A start as the app's backend sends it; every field already a short clean string."""

    to: str
    channel: str
    locale: str = "en"
    humangate_token: str = ""
    idempotency_key: str = ""
    client_ip: str = ""


@dataclass(frozen=True, slots=True)
class VerificationView:
    """A verification as the API shows it: the destination masked, never the code."""

    id: str
    status: str
    channel: str
    to: str
    country: str
    carrier: str | None
    created_at: datetime
    expires_at: datetime
    attempts_left: int
    sends: int
    delivery: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "channel": self.channel,
            "to": self.to,
            "country": self.country or None,
            "carrier": self.carrier,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "attempts_left": self.attempts_left,
            "sends": self.sends,
            "delivery": self.delivery,
        }


@dataclass(frozen=True, slots=True)
class SignedCall:
    """A request whose signature proved its app: the app, and the session whose transaction
    holds the request's nonce. An operation given the session writes in that transaction, so
    the nonce is kept with its writes in one commit."""

    app: AppView
    session: AsyncSession


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The answer to one code: `valid` only for the check that approved the verification."""

    verification: VerificationView
    status: str
    valid: bool


@dataclass(frozen=True, slots=True)
class _Billed:
    """What `_bill` charged: the item and its price."""

    item: str
    price: int


@dataclass(frozen=True, slots=True)
class _Destination:
    normalised: str
    masked: str
    country: str
    prefix: str
    carrier: str | None


def _iso(moment: datetime) -> str:
    return aware(moment).isoformat().replace("+00:00", "Z")


def check_destination(app: AppView, channel: str, to: str) -> _Destination:
    """The destination normalised and checked against the app's rules.

    Raises:
        InvalidInput: not a number or address (`invalid-destination`), or a number that cannot
            receive SMS (`number-cannot-receive-sms`).
        AccessDenied: `channel-not-allowed`, `country-not-allowed`, `carrier-not-allowed`.
    """
    if channel not in CODE_CHANNELS:
        raise InvalidInput("The channel must be sms or email.", code="invalid-channel")
    if channel not in app.channels:
        raise AccessDenied("This app may not send by that channel.", code="channel-not-allowed")
    if channel == "email":
        email = parse_email(to)
        return _Destination(email.address, email.masked, "", "", None)
    phone = parse_phone(to)
    if not phone.can_receive_sms:
        raise InvalidInput(
            "That number cannot receive text messages.", code="number-cannot-receive-sms"
        )
    return _Destination(
        phone.e164,
        mask_phone(phone.e164),
        phone.region,
        phone.prefix,
        check_number_rules(app, phone),
    )


def check_number_rules(app: AppView, phone: Phone) -> str | None:
    """The country and carrier rules of the app; returns the number's carrier name, if known.

    Raises:
        AccessDenied: `country-not-allowed` or `carrier-not-allowed`.
    """
    if phone.region not in app.countries:
        raise AccessDenied(
            "This app may not send to numbers of that country.", code="country-not-allowed"
        )
    if app.three_carriers_only and not is_three_carriers(phone, app.allow_virtual):
        raise AccessDenied(
            "This app accepts the numbers of China Mobile, China Unicom and China Telecom only.",
            code="carrier-not-allowed",
        )
    carrier = phone.cn_carrier
    if carrier is None:
        return None
    return f"{carrier.operator}/virtual" if carrier.virtual else str(carrier.operator)


class VerifyService:
    """Start, check, fetch and cancel verifications; one per serving node."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Store,
        key: bytes,
        channels: Channels,
        policy: VerifyPolicy,
        check_token: TokenCheck,
        alert: PrefixAlert | None = None,
        carriers: Mapping[str, NumberVerifier] | None = None,
        cache_seconds: float = 0,
        clock: Callable[[], float] = time.time,
        charge: BillingCharge | None = None,
        credit: BillingCredit | None = None,
        edition_check: EditionCheck | None = None,
    ) -> None:
        self._sessions = sessions
        self._charge = charge
        self._credit = credit
        self._edition_check = edition_check
        self._key = key
        self._channels = channels
        self._policy = policy
        self._check_token = check_token
        self._alert = alert
        self._clock = clock
        self.carriers: Mapping[str, NumberVerifier] = dict(carriers or {})
        self._cache_seconds = cache_seconds
        self._signers: dict[str, tuple[float, AppView | None, tuple[str, ...]]] = {}
        self.guard = PumpingGuard(store, clock=clock)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # --- authentication -------------------------------------------------------------------

    async def authenticate(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> AppView:
        """The app that signed this request; its nonce is kept (committed) before this returns.

        Raises:
            Unauthenticated: `missing-signature`, `malformed-signature`, `unknown-app`,
                `stale-timestamp`, `bad-signature` or `nonce-reused`.
            AccessDenied: `app-disabled`; `edition-required` when billing is on and the
                app's owner is on a standard plan.
        """
        async with self.signed(method, target, headers, body) as call:
            return call.app

    @asynccontextmanager
    async def signed(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> AsyncIterator[SignedCall]:
        """The app that signed this request, with a session whose open transaction holds the
        request's nonce; committed when the block ends.

        The nonce is claimed before the block runs, so a replay is refused before anything is
        read, counted or sent. When the block raises, its writes are rolled back and the nonce
        alone is kept: a request refused for any reason cannot be sent again.

        Raises:
            Unauthenticated: `missing-signature`, `malformed-signature`, `unknown-app`,
                `stale-timestamp`, `bad-signature` or `nonce-reused`.
            AccessDenied: `app-disabled`; `edition-required` when billing is on and the
                app's owner is on a standard plan.
        """
        app, nonce, now = await self._signer_of(method, target, headers, body)
        expires_at = now + NONCE_LIFETIME
        try:
            # Before the nonce's transaction: the edition check may write in a session of its
            # own, which on SQLite would wait for this transaction's write lock.
            await self._check_app(app)
        except Exception:
            await self._burn_nonce(app, nonce, expires_at)
            raise
        async with self._sessions() as session:
            await self._claim_nonce(session, app, nonce, expires_at)
            # The block's writes come after a savepoint: a block that raises loses them, never
            # the nonce. Rolled back and written again, the nonce would be absent a moment,
            # and an identical request waiting on it would go through as if it were new.
            block = await session.begin_nested()
            try:
                yield SignedCall(app, session)
            except BaseException:
                if block.is_active:
                    await block.rollback()
                else:  # the block committed, and the nonce with it, before it raised
                    await session.rollback()
                await session.commit()
                raise
            await session.commit()

    async def _signer_of(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[AppView, str, datetime]:
        """The app whose secret signed the request, its nonce, and the moment it was checked."""
        signed = signing.read_signature(headers)
        now = self._now()
        if not signing.timestamp_fresh(signed.timestamp, now.timestamp()):
            raise Unauthenticated(
                "The request's timestamp is more than 300 seconds away from the server's clock.",
                code="stale-timestamp",
            )
        app, opened = await self._signer(signed.app_key, now)
        if app is None:
            raise _unknown_app()
        if not any(
            signing.signature_matches(secret, signed, method, target, body) for secret in opened
        ):
            raise Unauthenticated("The signature does not match.", code="bad-signature")
        return app, signed.nonce, now

    async def _check_app(self, app: AppView) -> None:
        if app.disabled:
            raise AccessDenied("This app is disabled.", code="app-disabled")
        if self._edition_check is not None:
            await self._edition_check(app.account_id)

    async def _burn_nonce(self, app: AppView, nonce: str, expires_at: datetime) -> None:
        """Keep the nonce of a request refused before its transaction; a replay is refused as
        one, as it would have been had the nonce been claimed first."""
        async with self._sessions() as session:
            await self._claim_nonce(session, app, nonce, expires_at)
            await session.commit()

    async def _claim_nonce(
        self, session: AsyncSession, app: AppView, nonce: str, expires_at: datetime
    ) -> None:
        """Write the request's nonce in the session's transaction.

        Raises:
            Unauthenticated: `nonce-reused`; `unknown-app` when the app was deleted after this
                node cached its key (the nonce's row must name an app that exists).
        """
        try:
            fresh = await rows.claim_nonce(session, app.id, nonce, expires_at=expires_at)
        except IntegrityError:
            self._signers.pop(app.app_key, None)
            raise _unknown_app() from None
        if not fresh:
            raise _nonce_reused()

    async def _signer(self, app_key: str, now: datetime) -> tuple[AppView | None, Sequence[str]]:
        """The app with `app_key` and its current secrets, read at most once per
        `cache_seconds` per node (a change reaches every node within that time)."""
        cached = self._signers.get(app_key)
        if cached is not None and cached[0] > now.timestamp():
            return cached[1], cached[2]
        async with self._sessions() as session:
            app = await get_app(session, app_key)
            opened = (
                ()
                if app is None
                else await live_secrets(session, app, server_key=self._key, now=now)
            )
        if self._cache_seconds > 0:
            if len(self._signers) >= MAX_CACHED_APPS:  # unknown keys must not grow it forever
                self._signers.clear()
            self._signers[app_key] = (now.timestamp() + self._cache_seconds, app, tuple(opened))
        return app, opened

    @asynccontextmanager
    async def _open(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        """`session` (a signed request's, which its owner closes), or a session of its own."""
        if session is not None:
            yield session
            return
        async with self._sessions() as own:
            yield own

    # --- start ------------------------------------------------------------------------------

    async def start(
        self, app: AppView, request: StartRequest, *, session: AsyncSession | None = None
    ) -> tuple[VerificationView, bool]:
        """Send a code to the destination; returns the verification and whether it is new.

        A start with an `idempotency_key` the app used before answers that verification and
        sends nothing. A start for a destination with a live code sends a new code to it after
        the resend cool-down (same id, new code). `session`: a signed request's (`signed`),
        whose nonce is committed before anything is spent, counted or charged.

        Raises:
            InvalidInput, AccessDenied: the request breaks a rule (nothing is counted or sent).
            RateLimited: a limit of the guard, `resend-too-soon` or `max-sends`.
            PaymentRequired: billing is on and the owner's balance cannot pay the message.
            UpstreamUnavailable: `delivery-failed`, after one retry.
            Unauthenticated: `unknown-app`, the app was deleted while its start ran (nothing
                is sent, and a charge is given back).
        """
        if request.locale not in LOCALES:
            raise InvalidInput("The locale must be en or zh-CN.", code="invalid-locale")
        destination = check_destination(app, request.channel, request.to)
        digest = destination_digest(self._key, app.id, destination.normalised)
        now = self._now()
        async with self._open(session) as session:
            if request.idempotency_key:
                earlier = await rows.find_by_idempotency_key(
                    session, app.id, request.idempotency_key
                )
                if earlier is not None:
                    return self._repeated(earlier, digest, request.channel, now), False
            live = await rows.find_live(session, app.id, digest, now=now)
            if live is not None:
                self._check_resend(live, now)
            # The pass token spent, the guard's counts and a charge are not rolled back: the
            # signed request's nonce is kept before any of them.
            await session.commit()
            if app.require_token:
                await self._require_token(app, request.humangate_token)
            if destination.prefix:
                await self._check_prefix(session, app, destination.prefix, now)
            await self.guard.admit(
                app,
                Target(digest, destination.prefix, _network(request.client_ip)),
            )
            billed = await self._bill(app, request.channel, destination.country)
            code = new_code(app.code_length)
            expires_at = now + timedelta(seconds=app.code_ttl)
            # Billing on: the cost is known, even when nothing was charged.
            price = None if self._charge is None else billed.price if billed else 0
            verification_id = new_verification_id() if live is None else live.id
            digest_of_code = code_digest(self._key, verification_id, code)
            # Per send, not per verification: every resend is charged, so every one that fails
            # before its message is given back (the token: two resends read at once share a
            # number, and each was charged).
            send = 1 if live is None else live.sends + 1
            unsent = f"unsent:{verification_id}:{send}:{secrets.token_hex(8)}"
            try:
                if live is None:
                    await rows.add_verification(
                        session,
                        {
                            "id": verification_id,
                            "app_id": app.id,
                            "channel": request.channel,
                            "destination_digest": digest,
                            "destination_masked": destination.masked,
                            "country": destination.country,
                            "prefix": destination.prefix,
                            "carrier": destination.carrier,
                            "locale": request.locale,
                            "status": "pending",
                            "code_digest": digest_of_code,
                            "attempts": 0,
                            "sends": 1,
                            "delivery": "queued",
                            "network": _network(request.client_ip) or None,
                            "idempotency_key": request.idempotency_key or None,
                            "created_at": now,
                            "expires_at": expires_at,
                            "last_sent_at": now,
                            "cost": price,
                        },
                    )
                    sends = 1
                else:
                    resent = await rows.resend(
                        session,
                        verification_id,
                        code_digest=digest_of_code,
                        locale=request.locale,
                        now=now,
                        expires_at=expires_at,
                        price=price,
                    )
                    sends = resent.sends if resent else 0
                await session.commit()
            except IntegrityError:
                # A concurrent start with the same idempotency key inserted its row first (the
                # key is unique per app): answer that verification, as a later repeat would.
                await session.rollback()
                earlier = None
                if request.idempotency_key:
                    earlier = await rows.find_by_idempotency_key(
                        session, app.id, request.idempotency_key
                    )
                await self._refund(app, billed, unsent)  # nothing is sent
                if earlier is None:
                    if await self._deleted(session, app):  # the row's app is gone
                        raise _unknown_app() from None
                    raise
                return self._repeated(earlier, digest, request.channel, now), False
            except Exception:
                await self._refund(app, billed, unsent)
                raise
            if sends == 0:  # the verification was deleted meanwhile (its app was): none to send
                await self._refund(app, billed, unsent)
                raise await self._vanished(session, app)
            delivered, _ = await deliver(
                self._channels,
                request.channel,
                destination.normalised,
                compose(
                    app_name=app.name,
                    templates=app.templates,
                    locale=request.locale,
                    code=code,
                    ttl_seconds=app.code_ttl,
                ),
            )
            if delivered == "failed":
                reference = f"undelivered:{verification_id}:{sends}"
                credited = await self._refund(app, billed, reference)
                final = await rows.set_delivery(
                    session,
                    verification_id,
                    delivered,
                    failed_at=self._now(),
                    credited=credited,
                )
            else:
                final = await rows.set_delivery(session, verification_id, delivered)
            if final is None:  # deleted meanwhile (its app was): its usage has no app to count
                raise await self._vanished(session, app)
            await rows.add_usage(
                session,
                app.id,
                day=now.date(),
                channel=request.channel,
                country=destination.country,
                sent=int(delivered != "failed"),
                failed=int(delivered == "failed"),
            )
            await session.commit()
            view = self._view(final, now)
        if delivered == "failed":
            raise UpstreamUnavailable(
                "The code could not be delivered; try again later.", code="delivery-failed"
            )
        await self.guard.count_sent(app, destination.prefix)
        return view, live is None

    async def _deleted(self, session: AsyncSession, app: AppView) -> bool:
        """Whether the app was deleted after its request was authenticated; this node then
        forgets its key, as `_claim_nonce` does."""
        if await get_app(session, app.app_key) is not None:
            return False
        self._signers.pop(app.app_key, None)
        return True

    async def _vanished(self, session: AsyncSession, app: AppView) -> Unauthenticated | NotFound:
        """The refusal for a start whose verification was deleted under it: `unknown-app` when
        its app was deleted, else no such verification."""
        if await self._deleted(session, app):
            return _unknown_app()
        return NotFound("There is no such verification.")

    def _repeated(
        self, earlier: Row[Any], digest: str, channel: str, now: datetime
    ) -> VerificationView:
        """The verification an idempotency key already started, if this start asks the same.

        Raises:
            InvalidInput: the key was used for another destination (`idempotency-key-reused`).
        """
        if earlier.destination_digest != digest or earlier.channel != channel:
            raise InvalidInput(
                "That idempotency key was used for another destination.",
                code="idempotency-key-reused",
            )
        return self._view(earlier, now)

    def _check_resend(self, live: Row[Any], now: datetime) -> None:
        wait = (aware(live.last_sent_at) - now).total_seconds() + self._policy.resend_seconds
        if wait > 0:
            raise RateLimited(
                "A code was just sent to this destination; wait before asking again.",
                code="resend-too-soon",
                retry_after=max(1, int(wait + 0.999)),
            )
        if live.sends >= self._policy.max_sends:
            raise RateLimited(
                "Enough codes were sent to this destination; use one of them.",
                code="max-sends",
                retry_after=max(1, int((aware(live.expires_at) - now).total_seconds())),
            )

    async def _require_token(self, app: AppView, token: str) -> None:
        if not token:
            raise AccessDenied(
                "This app needs a HumanGate pass token with every start.", code="token-required"
            )
        if not app.sitekey or not await self._check_token(app, token):
            raise AccessDenied("The pass token is not valid.", code="invalid-token")

    async def _check_prefix(
        self, session: AsyncSession, app: AppView, prefix: str, now: datetime
    ) -> None:
        """Refuse a blocked prefix; block one whose settled codes went unused."""
        blocked = await rows.is_blocked(session, app.id, prefix, now=now)
        if not blocked:
            conversion = await self.guard.conversion(app, prefix)
            policy = self._policy
            if conversion.collapsed(
                min_sent=policy.conversion_min_sent, floor=policy.conversion_floor
            ):
                until = now + timedelta(hours=policy.block_hours)
                new = await rows.block_prefix(
                    session,
                    app.id,
                    prefix,
                    sent=conversion.sent,
                    approved=conversion.approved,
                    now=now,
                    until=until,
                )
                blocked = True
                if new and self._alert is not None:
                    try:
                        await self._alert(app, prefix, conversion)
                    except Exception:  # an alert that fails must not let the prefix through
                        log.exception(
                            "The owner of app %s was not told of a blocked prefix", app.id
                        )
        if blocked:
            raise AccessDenied(
                "Codes to this number range are paused for this app.", code="prefix-blocked"
            )

    # --- carrier number verification ---------------------------------------------------------

    def _carrier(self, app: AppView, method: str) -> NumberVerifier:
        if "carrier" not in app.channels:
            raise AccessDenied(
                "This app may not verify numbers with carriers.", code="channel-not-allowed"
            )
        verifier = self.carriers.get(method)
        if verifier is None:
            raise AccessDenied(
                "This server has no carrier gateway of that kind configured.",
                code="method-not-configured",
            )
        return verifier

    def authorization_url(
        self, app: AppView, *, state: str, nonce: str, redirect_uri: str, phone_number: str
    ) -> str:
        """Where the device goes first on the CAMARA path (the operator's OIDC authorize).

        Raises:
            AccessDenied: the app has no carrier channel, or CAMARA is not configured.
            InvalidInput: a bad phone number.
        """
        verifier = self._carrier(app, "camara")
        if not isinstance(verifier, CamaraVerifier):
            raise AccessDenied("CAMARA is not configured.", code="method-not-configured")
        hint = None
        if phone_number:
            phone = parse_phone(phone_number)
            check_number_rules(app, phone)
            hint = f"tel:{phone.e164}"
        return verifier.authorization_url(state, nonce, redirect_uri, login_hint=hint)

    async def verify_number(
        self,
        app: AppView,
        *,
        phone_number: str,
        method: str,
        evidence: str,
        redirect_uri: str | None = None,
        client_ip: str = "",
    ) -> NumberVerdict:
        """Ask the carrier whether the device's SIM has `phone_number`; every call is counted
        per app and country (billing), and the destination, network and app limits apply.

        Raises:
            AccessDenied: the app's rules (carrier channel, country, carrier), or the method is
                not configured.
            InvalidInput: a bad number or evidence.
            RateLimited: a limit of the guard.
            PaymentRequired: billing is on and the owner's balance cannot pay the check.
            UpstreamUnavailable: `operator-unavailable`.
        """
        verifier = self._carrier(app, method)
        phone = parse_phone(phone_number)
        check_number_rules(app, phone)
        claim = NumberClaim(phone.e164, evidence, redirect_uri)
        digest = destination_digest(self._key, app.id, phone.e164)
        await self.guard.admit(app, Target(digest, "", _network(client_ip)))
        billed = await self._bill(app, "carrier", method)
        try:
            verdict = await verifier.verify(claim)
        except UpstreamUnavailable:
            await self._refund(app, billed, f"unanswered:{secrets.token_hex(16)}")
            raise
        now = self._now()
        async with self._sessions() as session:
            await rows.add_usage(
                session,
                app.id,
                day=now.date(),
                channel="carrier",
                country=phone.region,
                sent=1,
                approved=int(verdict.verified),
            )
            await session.commit()
        return verdict

    async def _refund(self, app: AppView, billed: _Billed | None, reference: str) -> int:
        """Credit back what `_bill` charged for something not delivered, once per reference;
        the amount credited (0 when nothing was)."""
        if billed is None or self._credit is None:
            return 0
        return await self._credit(app.account_id, billed.item, reference=reference)

    async def _bill(self, app: AppView, channel: str, detail: str) -> _Billed | None:
        """Charge the owner before anything is sent: `email`, `sms:<country>` or
        `carrier:<method>`; what was charged, or None when nothing was due. PaymentRequired
        (402) when the balance cannot pay."""
        if self._charge is None:
            return None
        item = "email" if channel == "email" else f"{channel}:{detail or '*'}"
        price = await self._charge(app.account_id, item)
        return _Billed(item, price) if price > 0 else None

    # --- check, fetch, cancel -----------------------------------------------------------------

    async def check(
        self,
        app: AppView,
        verification_id: str,
        code: str,
        *,
        session: AsyncSession | None = None,
    ) -> CheckOutcome:
        """Compare `code` with the verification's.

        The answer's status: `approved` (valid), `denied` (a wrong code, also one a resend
        replaced while this check ran; the verification stays pending while attempts are
        left), `max-attempts`, `expired` (also for a code already used), `canceled`. The
        attempt, the approval and its usage are one commit (with the nonce of a signed
        request's `session`).

        Raises:
            InvalidInput: the code is not 4 to 10 digits (`invalid-code`; no attempt is counted).
            NotFound: no such verification of this app.
        """
        if not (is_ascii_digits(code) and 4 <= len(code) <= MAX_CODE_TEXT):
            raise InvalidInput("The code must be 4 to 10 digits.", code="invalid-code")
        now = self._now()
        async with self._open(session) as session:
            verification = await self._get(session, app, verification_id)
            if verification.status != "pending" or aware(verification.expires_at) <= now:
                return await self._closed(session, app, verification, now)
            max_attempts = self._policy.max_attempts
            approved = None
            if code_matches(self._key, verification.id, code, verification.code_digest):
                approved = await rows.approve(
                    session,
                    verification.id,
                    code_digest=verification.code_digest,
                    max_attempts=max_attempts,
                    now=now,
                )
            # Not approved though the code matched: another check got there first (counting
            # finds the verification closed), or a resend replaced the code since it was read
            # (the code is wrong for the new one, and counted as such).
            if approved is not None:
                await rows.add_usage(
                    session,
                    app.id,
                    day=aware(approved.created_at).date(),
                    channel=approved.channel,
                    country=approved.country,
                    approved=1,
                )
                await session.commit()
                await self.guard.count_approved(app, approved.prefix)
                return CheckOutcome(self._view(approved, now), "approved", True)
            counted = await rows.count_attempt(
                session, verification.id, max_attempts=max_attempts, now=now
            )
            if counted is None:  # another check got there first
                again = await self._get(session, app, verification_id)
                return await self._closed(session, app, again, now)
            if counted.attempts >= max_attempts:
                spent = await rows.finish(session, verification.id, "max-attempts", now=now)
                await session.commit()
                return CheckOutcome(self._view(spent or counted, now), "max-attempts", False)
            await session.commit()
            return CheckOutcome(self._view(counted, now), "denied", False)

    async def _closed(
        self, session: AsyncSession, app: AppView, verification: Row[Any], now: datetime
    ) -> CheckOutcome:
        """The answer for a verification no code can approve any more."""
        # Still pending and unexpired when a concurrent check took the last attempt and has not
        # finished yet: that check decides the status, so this one must not expire it.
        if verification.status == "pending" and aware(verification.expires_at) <= now:
            expired = await rows.finish(session, verification.id, "expired", now=now)
            await session.commit()
            verification = expired or await self._get(session, app, verification.id)
        status = verification.status
        answer = status if status in ("canceled", "max-attempts") else "expired"
        return CheckOutcome(self._view(verification, now), answer, False)

    async def fetch(
        self, app: AppView, verification_id: str, *, session: AsyncSession | None = None
    ) -> VerificationView:
        """The verification as it stands (one past its expiry reads `expired`).

        Raises:
            NotFound: no such verification of this app.
        """
        now = self._now()
        async with self._open(session) as session:
            return self._view(await self._get(session, app, verification_id), now)

    async def cancel(
        self, app: AppView, verification_id: str, *, session: AsyncSession | None = None
    ) -> VerificationView:
        """Cancel a pending verification; its code stops working at once.

        Raises:
            NotFound: no such verification of this app.
            Expired: it is no longer pending (`not-pending`); nothing changes.
        """
        now = self._now()
        async with self._open(session) as session:
            verification = await self._get(session, app, verification_id)
            live = verification.status == "pending" and aware(verification.expires_at) > now
            canceled = (
                await rows.finish(session, verification.id, "canceled", now=now) if live else None
            )
            if canceled is None:
                raise Expired("The verification is no longer pending.", code="not-pending")
            await session.commit()
            return self._view(canceled, now)

    async def _get(self, session: AsyncSession, app: AppView, verification_id: str) -> Row[Any]:
        found = None
        if verification_id.isascii() and len(verification_id) <= 40:
            found = await rows.read_verification(session, app.id, verification_id)
        if found is None:
            raise NotFound("There is no such verification.")
        return found

    def _view(self, verification: Row[Any], now: datetime) -> VerificationView:
        expires_at = aware(verification.expires_at)
        status = verification.status
        if status == "pending" and expires_at <= now:
            status = "expired"
        return VerificationView(
            id=verification.id,
            status=status,
            channel=verification.channel,
            to=verification.destination_masked,
            country=verification.country,
            carrier=verification.carrier,
            created_at=aware(verification.created_at),
            expires_at=expires_at,
            attempts_left=max(0, self._policy.max_attempts - verification.attempts)
            if status == "pending"
            else 0,
            sends=verification.sends,
            delivery=verification.delivery,
        )


def _nonce_reused() -> Unauthenticated:
    return Unauthenticated("That nonce was already used.", code="nonce-reused")


def _unknown_app() -> Unauthenticated:
    return Unauthenticated("No app has that key.", code="unknown-app")


def _network(client_ip: str) -> str:
    network = ip_prefix(client_ip)
    return "" if network == "unknown" else network
