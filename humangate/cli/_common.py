"""What every command shares: the handler's type, opening the services, printing a result."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.config import Settings
from humangate.store import MemoryStore

if TYPE_CHECKING:
    from humangate.services import CoreServices

T = TypeVar("T")
# A command: its parsed arguments and the settings in, the exit status out.
Command: TypeAlias = Callable[[argparse.Namespace, Settings], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def run_with_services(settings: Settings, work: Callable[[CoreServices], Awaitable[T]]) -> T:
    """Open the services (migrating when the settings ask), run `work`, close them.

    A command keeps no hot state between runs, so its store is a MemoryStore. The services
    load here, only for commands that need them; the loop and the web framework never do.
    """
    from humangate.services import open_core_services

    async def run() -> T:
        async with open_core_services(settings, store=MemoryStore()) as services:
            return await work(services)

    return asyncio.run(run())


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`run_with_services` for work done in one database session."""

    async def in_session(services: CoreServices) -> T:
        async with services.sessions() as session:
            return await work(session)

    return run_with_services(settings, in_session)


def print_result(data: dict[str, Any] | list[Any], as_json: bool, text: str) -> None:
    """Print `data` as JSON when asked, else `text` for a person."""
    print(json.dumps(data) if as_json else text)


def print_report(
    data: dict[str, Any],
    as_json: bool,
    text: str,
    *,
    delivered: bool,
    undelivered: str = "some messages were not delivered; the log says why.",
) -> int:
    """`print_result` for work that sends messages: exit status 1 if some were not delivered."""
    print_result(data, as_json, text)
    return 0 if delivered else fail(undelivered)


def fail(message: str, status: int = 1) -> int:
    """Say what went wrong on stderr, as `error: …`; returns the exit status."""
    print(f"error: {message}", file=sys.stderr)
    return status
