"""The console's own verification unit: its forms are protected by a HumanGate widget.

At start-up `ensure_console_unit` creates (once) an invisible proof-of-work unit for the
console's host names and keeps its keys in `<data_dir>/console.json` (mode 600), like the demo
unit. `check_widget` verifies the form's token server-side before a handler acts.
"""

from __future__ import annotations

import fcntl
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData

from humangate.api.siteverify import verify_fields
from humangate.db import units as unit_db
from humangate.units import DEFAULT_POW_DIFFICULTY

log = logging.getLogger(__name__)

FIELD = "humangate-response"
ACTION = "console"


@dataclass(frozen=True, slots=True, repr=False)
class ConsoleUnit:
    """The console unit's keys."""

    sitekey: str
    secret: str

    def __repr__(self) -> str:
        return f"ConsoleUnit(sitekey={self.sitekey!r})"


def console_domains(public_url: str) -> list[str]:
    """localhost, 127.0.0.1 and the public URL's host."""
    domains = ["localhost", "127.0.0.1"]
    host = urlsplit(public_url).hostname if public_url else None
    if host and host not in domains:
        domains.append(host)
    return domains


async def ensure_console_unit(
    sessions: async_sessionmaker[AsyncSession], data_dir: Path, *, public_url: str
) -> ConsoleUnit:
    """Return the console unit's keys, creating the unit if needed and updating its domains.

    Worker processes starting together take a file lock, so that they all use one unit.
    """
    if not public_url:
        log.info("HUMANGATE_PUBLIC_URL is empty: the console's widget works on localhost only.")
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "console.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held for a moment at start-up only
        try:
            return await _ensure(sessions, data_dir, public_url)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def _ensure(
    sessions: async_sessionmaker[AsyncSession], data_dir: Path, public_url: str
) -> ConsoleUnit:
    path = data_dir / "console.json"
    keys = json.loads(path.read_text()) if path.exists() else None
    domains = console_domains(public_url)
    async with sessions() as session:
        if keys is not None:
            unit = await unit_db.find_unit_by_secret(session, keys["secret"])
            if unit is not None and unit.sitekey == keys["sitekey"]:
                if sorted(unit.domains) != sorted(domains):
                    changes = unit_db.UnitChanges(domains=domains)
                    await unit_db.update_unit(session, unit.sitekey, changes)
                return ConsoleUnit(sitekey=keys["sitekey"], secret=keys["secret"])
        created = await unit_db.create_unit(
            session,
            name="Console",
            domains=domains,
            mode="invisible",
            pow_difficulty=DEFAULT_POW_DIFFICULTY,
        )
    path.write_text(json.dumps({"sitekey": created.unit.sitekey, "secret": created.secret}))
    path.chmod(0o600)
    return ConsoleUnit(sitekey=created.unit.sitekey, secret=created.secret)


async def check_widget(request: Request, form: FormData) -> bool:
    """True if the form carries a valid, unspent widget token (or the widget is off)."""
    state = request.app.state
    unit: ConsoleUnit | None = state.console_unit
    if unit is None:
        return True
    token = form.get(FIELD)
    if not isinstance(token, str) or not token or len(token) > 4096:
        return False
    result = await verify_fields(
        {"secret": unit.secret, "response": token},
        directory=state.directory,
        verifier=state.verifier,
        test_keys=False,
    )
    return bool(result.get("success"))
