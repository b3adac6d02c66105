"""The development outbox: mail and SMS written to a file instead of being sent. Development only.

With no SMTP server or SMS gateway configured (and HUMANGATE_ENVIRONMENT=local), messages are
appended as JSON lines to `<data_dir>/outbox/messages.jsonl`, where a developer reads them with
`humangate outbox` and types the code into the page. Nothing leaves the machine.

The lines hold one-time codes, so the file is created with mode 600 in a folder with mode 700.
A lock per file (threads of this process) and `flock` (other worker processes) keep concurrent
writes whole; each record is a single `write` of one line. The file is never trimmed: delete
it when it grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humangate.messaging.base import Channel, EmailMessage, SmsMessage

if TYPE_CHECKING:
    from humangate.config import Settings

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the in-process lock still holds
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

OUTBOX_FOLDER = "outbox"
OUTBOX_FILE = "messages.jsonl"
DEFAULT_LIMIT = 20

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def outbox_path(data_dir: Path) -> Path:
    """The outbox file inside a data folder."""
    return data_dir / OUTBOX_FOLDER / OUTBOX_FILE


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One message as the outbox keeps it; `at` is an ISO 8601 UTC time."""

    id: str
    channel: Channel
    at: str
    to: str
    text: str
    sender: str = ""
    subject: str | None = None
    html: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboxEntry:
        """Rebuild an entry from a parsed line; raises KeyError/TypeError when it is not one."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path.resolve(), threading.Lock())


def _write_line(path: Path, line: bytes) -> None:
    with _lock_for(path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # a file copied in or made under another umask is tightened
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


class Outbox:
    """Appends entries to one outbox file; safe to share between tasks, threads and workers."""

    def __init__(self, data_dir: Path) -> None:
        self.path = outbox_path(data_dir)

    async def append(self, entry: OutboxEntry) -> None:
        line = json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n"
        # A thread, so a slow disk never stalls the event loop serving challenges.
        await asyncio.to_thread(_write_line, self.path, line.encode("utf-8"))
        log.info("%s %s written to the development outbox %s", entry.channel, entry.id, self.path)


def _new_entry(channel: Channel, **fields: Any) -> OutboxEntry:
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return OutboxEntry(id=f"outbox-{uuid.uuid4().hex}", channel=channel, at=at, **fields)


class OutboxMailer:
    """A Mailer that writes to the development outbox."""

    def __init__(self, data_dir: Path, *, from_address: str = "") -> None:
        self.outbox = Outbox(data_dir)
        self._from = from_address

    async def send(self, message: EmailMessage) -> str:
        entry = _new_entry(
            "mail",
            to=message.to,
            text=message.text,
            sender=self._from,
            subject=message.subject,
            html=message.html,
        )
        await self.outbox.append(entry)
        return entry.id


class OutboxSmsGateway:
    """An SmsGateway that writes to the development outbox."""

    def __init__(self, data_dir: Path, *, sender: str = "") -> None:
        self.outbox = Outbox(data_dir)
        self._sender = sender

    async def send(self, message: SmsMessage) -> str:
        entry = _new_entry("sms", to=message.to, text=message.text, sender=self._sender)
        await self.outbox.append(entry)
        return entry.id


def read_outbox(data_dir: Path, limit: int = DEFAULT_LIMIT) -> list[OutboxEntry]:
    """The newest `limit` entries, oldest first; lines that do not parse are skipped.

    A torn last line (a crash mid-write) or a hand edit must not hide the other messages.
    """
    path = outbox_path(data_dir)
    if limit <= 0 or not path.exists():
        return []
    newest: deque[OutboxEntry] = deque(maxlen=limit)
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                newest.append(OutboxEntry.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
    return list(newest)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_outbox_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--json` and `--limit N` to the `humangate outbox` sub-command."""
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--limit", type=_positive, default=DEFAULT_LIMIT, help="newest N messages (default 20)"
    )


def _entry_text(entry: OutboxEntry) -> str:
    head = f"{entry.at}  {entry.channel}  to {entry.to}"
    if entry.sender:
        head += f"  from {entry.sender}"
    lines = [head, f"  id: {entry.id}"]
    if entry.subject is not None:
        lines.append(f"  subject: {entry.subject}")
    lines += ["    " + line for line in entry.text.splitlines()]
    return "\n".join(lines)


def outbox_cli(args: argparse.Namespace, settings: Settings) -> int:
    """`humangate outbox [--json] [--limit N]`: print the newest messages of the outbox.

    Returns the exit code (0). The empty-outbox note goes to stderr so `--json` stays parseable.
    """
    entries = read_outbox(settings.data_dir, limit=args.limit)
    if args.json:
        print(json.dumps([asdict(entry) for entry in entries], ensure_ascii=False))
    elif entries:
        print("\n\n".join(_entry_text(entry) for entry in entries))
    if not entries:
        print(f"The outbox {outbox_path(settings.data_dir)} is empty.", file=sys.stderr)
    return 0
