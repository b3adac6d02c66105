"""Tables of record. Secret keys are stored only as SHA-256 digests."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """A verification unit: one site key, its allowed domains, mode and difficulty."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sitekey: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    domains: Mapped[list[str]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(20))
    pow_difficulty: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["slide"])
    difficulty: Mapped[int] = mapped_column(Integer, default=2)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    score_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    calibrated_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The behaviour model both thresholds were set against (humangate.risk.fingerprint).
    threshold_model: Mapped[str | None] = mapped_column(String(32), nullable=True)
    allow_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    deny_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    good_bots: Mapped[list[str]] = mapped_column(JSON, default=list)
    device_salt: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # The widget leaves the HumanGate name out (the enterprise edition's, when billing is on).
    hide_mark: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The owning console account; None for units made by the CLI or the demo.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True, index=True
    )

    secrets: Mapped[list[UnitSecret]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", lazy="selectin"
    )


class UnitSecret(Base):
    """A secret key digest; a rotated-out secret keeps working until `expires_at`."""

    __tablename__ = "unit_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    unit: Mapped[Unit] = relationship(back_populates="secrets")


class RiskEvent(Base):
    """One scored answer: features, score and reasons with a truncated IP; never a raw trace."""

    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    device_id: Mapped[str] = mapped_column(String(32))
    ip_prefix: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(24))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    features: Mapped[dict[str, float]] = mapped_column(JSON)
    token_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    label: Mapped[str | None] = mapped_column(String(16), nullable=True)
    labelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeviceOptOut(Base):
    """A visitor asked, on /privacy/device, that no risk event be kept for this device id on
    this unit. Erased with the unit."""

    __tablename__ = "device_opt_outs"
    __table_args__ = (UniqueConstraint("unit_id", "device_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Account(Base):
    """A console account: an owner of units, or an operator's admin.

    `email_key` is the lower-cased address accounts are matched on; `email` is what mail goes to.
    `disabled_unit_ids` lists the units a suspension disabled, so a restore re-enables only those.
    """

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    email_key: Mapped[str | None] = mapped_column(String(254), nullable=True, unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(35), default="en")
    role: Mapped[str] = mapped_column(String(16), default="owner")
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    disabled_unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_active_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    inactivity_warned_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # False: the owner turned login by one-time code off (a password or a passkey is needed).
    code_login: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The operator's terms version this owner last accepted (HUMANGATE_TERMS_VERSION), and when.
    terms_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    terms_accepted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class AccountSession(Base):
    """A console login. Only the SHA-256 digest of the 256-bit session token is stored."""

    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip_prefix: Mapped[str] = mapped_column(String(64))
    device_label: Mapped[str] = mapped_column(String(100))


class KnownDevice(Base):
    """A device cookie (as a keyed digest) seen logging in to an account from a network."""

    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("account_id", "device_digest", "network"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    device_digest: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AccountCode(Base):
    """A one-time code, kept as an HMAC with the server key; dies when used, expired or after
    too many wrong entries."""

    __tablename__ = "account_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(254))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """An append-only record of a security-relevant action. `account_id` is the account the
    action concerns; it is no foreign key, so the entry recording a cancellation outlives it."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class Notification(Base):
    """A message in an account's console inbox."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IdentifierHold(Base):
    """A cancelled account's e-mail or phone (as a keyed digest), blocked until `held_until`."""

    __tablename__ = "identifier_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier_digest: Mapped[str] = mapped_column(String(64), unique=True)
    held_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Passkey(Base):
    """A WebAuthn credential (a passkey) an account logs in with.

    `credential_key` is the SHA-256 of the raw credential id, the fixed-width column look-ups use;
    `credential_id` (base64url) is what browsers are given back. The public key is not secret.
    """

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    credential_key: Mapped[str] = mapped_column(String(64), unique=True)
    credential_id: Mapped[str] = mapped_column(Text)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(60))
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class VerifyApp(Base):
    """An app of the verification API: its public key, its rules and its caps.

    `sitekey` names the unit whose pass tokens a start must carry when `require_token` is on.
    """

    __tablename__ = "verify_apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    app_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(JSON)
    countries: Mapped[list[str]] = mapped_column(JSON)
    three_carriers_only: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_virtual: Mapped[bool] = mapped_column(Boolean, default=True)
    code_length: Mapped[int] = mapped_column(Integer)
    code_ttl: Mapped[int] = mapped_column(Integer)
    templates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    require_token: Mapped[bool] = mapped_column(Boolean, default=True)
    sitekey: Mapped[str | None] = mapped_column(String(64), nullable=True)
    daily_cap: Mapped[int] = mapped_column(Integer)
    destination_daily_cap: Mapped[int] = mapped_column(Integer)
    prefix_hourly_cap: Mapped[int] = mapped_column(Integer)
    network_hourly_cap: Mapped[int] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VerifyAppSecret(Base):
    """An app secret sealed with a key derived from the server key (AES-GCM, the app key as
    associated data): the server can sign with it, a database dump alone cannot. A rotated-out
    secret keeps working until `expires_at`."""

    __tablename__ = "verify_app_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(
        ForeignKey("verify_apps.id", ondelete="CASCADE"), index=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Verification(Base):
    """One verification of a phone number or e-mail address. The destination is kept as a
    keyed digest and a masked form, the code as a keyed digest; never either in clear."""

    __tablename__ = "verifications"
    __table_args__ = (
        UniqueConstraint("app_id", "idempotency_key"),
        Index("ix_verifications_app_destination", "app_id", "destination_digest"),
        Index("ix_verifications_app_created", "app_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("verify_apps.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    destination_digest: Mapped[str] = mapped_column(String(64))
    destination_masked: Mapped[str] = mapped_column(String(80))
    country: Mapped[str] = mapped_column(String(2))
    prefix: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str | None] = mapped_column(String(24), nullable=True)
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    code_digest: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=1)
    delivery: Mapped[str] = mapped_column(String(16))
    network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Minor units of the billing currency its sends were charged, less the credit notes for the
    # codes not delivered; None when billing was off (nothing was ever priced).
    cost: Mapped[int | None] = mapped_column(Integer, nullable=True)


class VerifyNonce(Base):
    """A signed request's nonce, refused a second time until it expires (after the skew)."""

    __tablename__ = "verify_nonces"

    app_id: Mapped[int] = mapped_column(
        ForeignKey("verify_apps.id", ondelete="CASCADE"), primary_key=True
    )
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class VerifyUsage(Base):
    """Messages sent, failed and codes approved per app, day, channel and country: what the
    console charts and billing counts."""

    __tablename__ = "verify_usage"
    __table_args__ = (UniqueConstraint("app_id", "day", "channel", "country"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("verify_apps.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(2))
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    approved: Mapped[int] = mapped_column(Integer, default=0)


class VerifyPrefixBlock(Base):
    """A number prefix an app's conversion monitor blocked: codes sent there were not used."""

    __tablename__ = "verify_prefix_blocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(
        ForeignKey("verify_apps.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16))
    sent: Mapped[int] = mapped_column(Integer)
    approved: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BillingPlan(Base):
    """An operator's plan: its edition, prices per metered item (minor units) and credit."""

    __tablename__ = "billing_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    edition: Mapped[str] = mapped_column(String(16))
    prices: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    credit_limit: Mapped[int] = mapped_column(BigInteger, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BillingAccount(Base):
    """An owner's plan, and the money reserved into hot-store allowances not yet settled."""

    __tablename__ = "billing_accounts"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    plan_id: Mapped[int] = mapped_column(ForeignKey("billing_plans.id"))
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    notified_below: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerTransaction(Base):
    """One money movement of an owner; its postings sum to zero. `reference` makes it happen
    once: a payment's event id, a usage batch's id."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(String(500), default="")
    unit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item: Mapped[str | None] = mapped_column(String(24), nullable=True)
    quantity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    postings: Mapped[list[LedgerPosting]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan", lazy="selectin"
    )


class LedgerPosting(Base):
    """One side of a transaction: an amount (signed, minor units) in one book of one owner."""

    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account_book", "account_id", "book"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    book: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")


class Voucher(Base):
    """Prepaid credit an operator issues: a code an owner redeems, or a grant to an owner.
    Spent before cash, earliest expiry first; its remainder is voided at expiry."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    batch: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Statement(Base):
    """A month's statement of an owner, numbered across the deployment."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("account_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    opening: Mapped[int] = mapped_column(BigInteger)
    closing: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentEvent(Base):
    """A payment provider's event, kept so that a webhook delivered twice credits once."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerArchive(Base):
    """A ledger transaction of a cancelled account, kept apart from it (no foreign key) for
    HUMANGATE_BILLING_KEEP_LEDGER_DAYS where the law asks it, then purged."""

    __tablename__ = "ledger_archive"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    former_account_id: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(String(500), default="")
    unit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item: Mapped[str | None] = mapped_column(String(24), nullable=True)
    quantity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # [{"book": ..., "amount": ...}], as the transaction's postings were.
    postings: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    cancelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    keep_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
