"""A unit's thresholds apply only on the scale of the behaviour model they were set against."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import events as event_db
from humangate.db import units as unit_db
from humangate.db.models import Unit
from humangate.risk.fingerprint import model_fingerprint
from humangate.units import UnitChanges, UnitView

DEFAULT = 0.5
Sessions = async_sessionmaker[AsyncSession]


async def _create(sessions: Sessions, threshold: float | None = None) -> UnitView:
    async with sessions() as session:
        created = await unit_db.create_unit(
            session,
            name="Shop",
            domains=["example.com"],
            mode="score",
            pow_difficulty=1000,
            score_threshold=threshold,
        )
    return created.unit


async def _reread(sessions: Sessions, unit: UnitView) -> UnitView:
    async with sessions() as session:
        found = await unit_db.get_unit_by_sitekey(session, unit.sitekey)
    assert found is not None
    return found


async def _calibrate(sessions: Sessions, unit: UnitView, threshold: float) -> None:
    async with sessions() as session:
        await event_db.set_calibrated_threshold(session, unit.id, threshold)


async def _as_if_set_on_an_earlier_model(sessions: Sessions, unit: UnitView) -> None:
    async with sessions() as session:
        await session.execute(
            update(Unit).where(Unit.id == unit.id).values(threshold_model="earlier-model")
        )
        await session.commit()


async def test_a_threshold_set_now_applies(sessions: Sessions) -> None:
    unit = await _reread(sessions, await _create(sessions, 0.7))
    assert unit.threshold(DEFAULT, model=model_fingerprint()) == 0.7
    assert not unit.threshold_outdated(model_fingerprint())


async def test_a_threshold_from_an_earlier_model_gives_way_to_the_default(
    sessions: Sessions,
) -> None:
    created = await _create(sessions, 0.9)
    await _as_if_set_on_an_earlier_model(sessions, created)
    unit = await _reread(sessions, created)
    assert unit.threshold(DEFAULT, model=model_fingerprint()) == DEFAULT
    assert unit.threshold_outdated(model_fingerprint())


async def test_setting_a_threshold_again_drops_a_calibration_from_the_earlier_model(
    sessions: Sessions,
) -> None:
    created = await _create(sessions)
    await _calibrate(sessions, created, 0.3)
    await _as_if_set_on_an_earlier_model(sessions, created)
    async with sessions() as session:
        await unit_db.update_unit(session, created.sitekey, UnitChanges(score_threshold=0.6))
    unit = await _reread(sessions, created)
    assert unit.calibrated_threshold is None
    assert unit.threshold(DEFAULT, model=model_fingerprint()) == 0.6
    assert not unit.threshold_outdated(model_fingerprint())


async def test_a_new_calibration_drops_an_owner_threshold_from_the_earlier_model(
    sessions: Sessions,
) -> None:
    created = await _create(sessions, 0.9)
    await _as_if_set_on_an_earlier_model(sessions, created)
    await _calibrate(sessions, created, 0.4)
    unit = await _reread(sessions, created)
    assert unit.score_threshold is None
    assert unit.threshold(DEFAULT, model=model_fingerprint()) == 0.4


async def test_a_calibration_on_the_same_model_keeps_the_owner_threshold(
    sessions: Sessions,
) -> None:
    created = await _create(sessions, 0.9)
    await _calibrate(sessions, created, 0.4)
    unit = await _reread(sessions, created)
    assert unit.score_threshold == 0.9
    assert unit.threshold(DEFAULT, model=model_fingerprint()) == 0.4
