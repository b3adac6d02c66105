"""The demo unit created on first start, so a newcomer sees a working widget at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import units as unit_db
from humangate.units import parse_unit_input
from humangate.units.service import create_unit

DEMO_DOMAINS = ["localhost", "127.0.0.1"]


@dataclass(frozen=True, slots=True)
class DemoUnit:
    """The demo unit's keys; only present while the demo is enabled."""

    sitekey: str
    secret: str


async def ensure_demo_unit(sessions: async_sessionmaker[AsyncSession], data_dir: Path) -> DemoUnit:
    """Return the demo unit's keys, creating the unit (and data/demo.json, mode 600) if needed."""
    path = data_dir / "demo.json"
    keys = json.loads(path.read_text()) if path.exists() else None
    async with sessions() as session:
        if keys is not None:
            unit = await unit_db.find_unit_by_secret(session, keys["secret"])
            if unit is not None and unit.sitekey == keys["sitekey"]:
                return DemoUnit(sitekey=keys["sitekey"], secret=keys["secret"])
        settings = parse_unit_input(name="Demo", domains=DEMO_DOMAINS, mode="interactive")
        created = await create_unit(session, settings)
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sitekey": created.unit.sitekey, "secret": created.secret}))
    path.chmod(0o600)
    return DemoUnit(sitekey=created.unit.sitekey, secret=created.secret)
