"""Verb-first functions over risk events; each takes an `AsyncSession`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.models import DeviceOptOut, RiskEvent, Unit
from humangate.db.units import record_threshold_model

LABELS = ("legitimate", "abusive")
CALIBRATION_WINDOW = 1000  # the most recent labels a unit's calibration looks at


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What is kept of one scored answer: no trace, no full IP, no raw environment."""

    unit_id: int
    created_at: datetime
    device_id: str
    ip_prefix: str
    kind: str
    mode: str
    outcome: str
    score: float
    reasons: tuple[str, ...]
    features: dict[str, float]
    token_digest: str | None = None


async def add_events(session: AsyncSession, records: Iterable[EventRecord]) -> int:
    """Store a batch, leaving out the devices whose visitor opted out; the count stored."""
    records = list(records)
    opted_out = await _opted_out(session, {r.device_id for r in records})
    rows = [
        {
            "unit_id": r.unit_id,
            "created_at": r.created_at,
            "device_id": r.device_id,
            "ip_prefix": r.ip_prefix,
            "kind": r.kind,
            "mode": r.mode,
            "outcome": r.outcome,
            "score": r.score,
            "reasons": list(r.reasons),
            "features": r.features,
            "token_digest": r.token_digest,
        }
        for r in records
        if (r.unit_id, r.device_id) not in opted_out
    ]
    if rows:
        # One precompiled INSERT for many rows: no ORM unit of work on the event loop.
        await session.execute(insert(RiskEvent), rows)
    await session.commit()
    return len(rows)


async def label_event(
    session: AsyncSession, unit_id: int, token_digest: str, label: str, *, now: datetime
) -> bool:
    """Label the event that minted this token for this unit; False if there is none."""
    result = await session.execute(
        update(RiskEvent)
        .where(RiskEvent.unit_id == unit_id, RiskEvent.token_digest == token_digest)
        .values(label=label, labelled_at=now)
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def labelled_scores(session: AsyncSession, unit_id: int) -> list[tuple[float, str]]:
    rows = await session.execute(
        select(RiskEvent.score, RiskEvent.label)
        .where(RiskEvent.unit_id == unit_id, RiskEvent.label.is_not(None))
        .order_by(RiskEvent.labelled_at.desc())
        .limit(CALIBRATION_WINDOW)
    )
    return [(float(score), str(label)) for score, label in rows]


async def set_calibrated_threshold(
    session: AsyncSession, unit_id: int, threshold: float | None
) -> None:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        return
    unit.calibrated_threshold = threshold
    record_threshold_model(unit, setting="calibrated")
    await session.commit()


async def device_salts(
    session: AsyncSession, *, sitekey: str = "", limit: int
) -> list[tuple[int, str]]:
    """(unit id, device salt) of the unit with `sitekey`, or of the first `limit` units."""
    query = select(Unit.id, Unit.device_salt).limit(limit)
    if sitekey:
        query = query.where(Unit.sitekey == sitekey)
    return [(unit_id, salt) for unit_id, salt in (await session.execute(query)).all()]


async def device_events(session: AsyncSession, devices: dict[int, str]) -> list[RiskEvent]:
    """The events held for each (unit id → device id) pair, newest first."""
    found: list[RiskEvent] = []
    for unit_id, device in devices.items():
        rows = await session.scalars(
            select(RiskEvent)
            .where(RiskEvent.unit_id == unit_id, RiskEvent.device_id == device)
            .order_by(RiskEvent.created_at.desc())
            .limit(500)
        )
        found.extend(rows)
    return found


async def erase_device(session: AsyncSession, devices: dict[int, str]) -> int:
    erased = 0
    for unit_id, device in devices.items():
        result = await session.execute(
            delete(RiskEvent).where(RiskEvent.unit_id == unit_id, RiskEvent.device_id == device)
        )
        erased += result.rowcount  # type: ignore[attr-defined]
    await session.commit()
    return erased


async def _opted_out(session: AsyncSession, device_ids: set[str]) -> set[tuple[int, str]]:
    if not device_ids:
        return set()
    rows = await session.execute(
        select(DeviceOptOut.unit_id, DeviceOptOut.device_id).where(
            DeviceOptOut.device_id.in_(sorted(device_ids))
        )
    )
    return {(unit_id, device) for unit_id, device in rows.all()}


async def is_opted_out(session: AsyncSession, devices: dict[int, str]) -> bool:
    """Whether every (unit id → device id) pair given has opted out."""
    found = await _opted_out(session, set(devices.values()))
    return bool(devices) and all(pair in found for pair in devices.items())


async def opt_out(session: AsyncSession, devices: dict[int, str], now: datetime) -> int:
    """Keep no more events for these devices and erase the ones held; the count erased."""
    found = await _opted_out(session, set(devices.values()))
    session.add_all(
        DeviceOptOut(unit_id=unit_id, device_id=device, created_at=now)
        for unit_id, device in devices.items()
        if (unit_id, device) not in found
    )
    try:
        await session.flush()
    except IntegrityError:  # the same opt-out, sent twice at once
        await session.rollback()
    return await erase_device(session, devices)


async def opt_in(session: AsyncSession, devices: dict[int, str]) -> int:
    """Keep events for these devices again; the count of opt-outs removed."""
    removed = 0
    for unit_id, device in devices.items():
        result = await session.execute(
            delete(DeviceOptOut).where(
                DeviceOptOut.unit_id == unit_id, DeviceOptOut.device_id == device
            )
        )
        removed += result.rowcount  # type: ignore[attr-defined]
    await session.commit()
    return removed


async def purge_events(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(RiskEvent).where(RiskEvent.created_at < before))
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def utcnow() -> datetime:
    return datetime.now(UTC)
