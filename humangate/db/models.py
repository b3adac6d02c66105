"""Tables of record. Secret keys are stored only as SHA-256 digests."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
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
