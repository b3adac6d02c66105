"""Tables of record. Secret keys are stored only as SHA-256 digests."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, func
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
    allow_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    deny_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    good_bots: Mapped[list[str]] = mapped_column(JSON, default=list)
    device_salt: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

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
