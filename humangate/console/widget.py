"""The console's own verification unit: its forms are protected by a HumanGate widget.

At start-up `ensure_console_unit` makes sure the console's invisible proof-of-work unit exists for
the console's host names. Its site key and secret are derived from the server key (an HMAC with a
fixed label), so every node that shares the database and the server key finds the same unit: no
file is shared and nothing new is stored. Nodes that start together may both insert it; the loser
of that race reads the winner's row. `check_widget` verifies a form's token before a handler acts.

Earlier versions kept a random unit's keys in `<data_dir>/console.json`, one unit per data folder.
A node that still has that file deletes the unit it names (once its secret proves it is that
console unit) and removes the file, so the old per-node units do not linger.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData

from humangate.api.deps import get_services
from humangate.api.siteverify import verify_fields
from humangate.db import units as unit_db
from humangate.db.unit_secrets import restore_secret
from humangate.units import DEFAULT_POW_DIFFICULTY, MAX_DOMAINS, UnitView

log = logging.getLogger(__name__)

FIELD = "humangate-response"
ACTION = "console"
NAME = "Console"
LABEL = b"humangate/console-unit/"


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


def console_keys(server_key: bytes) -> ConsoleUnit:
    """The console unit's site key and secret, the same on every node with this server key.

    Each is an HMAC of the server key with its own label, so the public site key says nothing
    about the secret, and only holders of the server key can compute the secret.
    """

    def derive(part: bytes) -> str:
        digest = hmac.new(server_key, LABEL + part, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    return ConsoleUnit(sitekey="hgc" + derive(b"sitekey")[:24], secret="hgs_" + derive(b"secret"))


async def ensure_console_unit(
    sessions: async_sessionmaker[AsyncSession],
    data_dir: Path,
    *,
    public_url: str,
    server_key: bytes,
) -> ConsoleUnit:
    """Return the console unit's keys, creating the unit if needed and adding this node's hosts.

    Domains are only ever added: nodes behind different public URLs each add their own host, and
    none removes another's.
    """
    if not public_url:
        log.info("HUMANGATE_PUBLIC_URL is empty: the console's widget works on localhost only.")
    keys = console_keys(server_key)
    domains = console_domains(public_url)
    async with sessions() as session:
        unit = await unit_db.get_unit_by_sitekey(session, keys.sitekey)
        if unit is None:
            unit = await _insert(session, keys, domains)
        elif not set(domains) <= set(unit.domains):
            merged = domains + [d for d in unit.domains if d not in domains]
            changes = unit_db.UnitChanges(domains=merged[:MAX_DOMAINS])
            await unit_db.update_unit(session, keys.sitekey, changes)
        await _restore_secret(session, unit, keys)
        await _retire_file(session, data_dir, keys)
    return keys


async def _insert(session: AsyncSession, keys: ConsoleUnit, domains: list[str]) -> UnitView:
    """Create the unit; if another node created it first, read that one."""
    try:
        created = await unit_db.create_unit(
            session,
            name=NAME,
            domains=domains,
            mode="invisible",
            pow_difficulty=DEFAULT_POW_DIFFICULTY,
            sitekey=keys.sitekey,
            secret=keys.secret,
        )
    except IntegrityError:
        await session.rollback()
        found = await unit_db.get_unit_by_sitekey(session, keys.sitekey)
        if found is None:  # the conflict was not this site key: a real fault
            raise
        return found
    return created.unit


async def _restore_secret(session: AsyncSession, unit: UnitView, keys: ConsoleUnit) -> None:
    """Make the derived secret current again if it was rotated (`humangate unit rotate-secret`);
    the console's forms would otherwise fail once its grace period ended."""
    digest = unit_db.digest_secret(keys.secret)
    if await restore_secret(session, unit.id, digest, now=datetime.now(UTC)):
        log.warning("The console unit's secret had been rotated out; it is current again.")


async def _retire_file(session: AsyncSession, data_dir: Path, keys: ConsoleUnit) -> None:
    """Delete the per-node unit an earlier version recorded in console.json, and the file."""
    path = data_dir / "console.json"
    try:
        old = json.loads(path.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        log.warning("Ignoring an unreadable %s: %s", path, exc)
        return
    sitekey, secret = old.get("sitekey"), old.get("secret")
    if isinstance(secret, str) and sitekey != keys.sitekey:
        unit = await unit_db.find_unit_by_secret(session, secret)
        if unit is not None and unit.sitekey == sitekey and unit.name == NAME:
            await unit_db.delete_unit(session, unit.sitekey)
            log.info("Deleted this node's former console unit %s.", unit.sitekey)
    path.unlink(missing_ok=True)
    (data_dir / "console.lock").unlink(missing_ok=True)


async def check_widget(request: Request, form: FormData) -> bool:
    """True if the form carries a valid, unspent widget token (or the widget is off)."""
    services = get_services(request)
    unit = services.console_unit
    if unit is None:
        return True
    token = form.get(FIELD)
    if not isinstance(token, str) or not token or len(token) > 4096:
        return False
    result, _ = await verify_fields(
        {"secret": unit.secret, "response": token},
        directory=services.directory,
        verifier=services.verifier,
        test_keys=False,
    )
    return result.success
