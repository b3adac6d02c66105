"""Log lines: one JSON object per event (or a line of text), with the request's id, and never a
secret.

Exception messages are left out of JSON lines (a message can quote its input: a secret, a
token); the exception's class, its causes' classes and the frames say where and what. Every
line is also scrubbed: the settings' secrets, credentials in URLs, and any run of 32 or more
URL-safe characters (unit secrets, pass tokens, session ids and keys all look like that).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from humangate.config import Settings
from humangate.observability.requests import REQUEST_ID

# A record need not find its caller's file and line, nor its thread's and process's names: no
# line shows them, and finding them is most of a record's cost (the access line is per request).
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False

REDACTED = "[redacted]"
ACCESS_LOGGER = "humangate.access"
_LONG_SECRET = re.compile(r"[A-Za-z0-9_-]{32,}")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_EXTRA_FIELDS = ("method", "route", "status", "duration_ms")
_STACK_FRAMES = 12


class Scrubber:
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _URL_CREDENTIALS.sub(REDACTED + "@", text)
        return _LONG_SECRET.sub(REDACTED, text)


def settings_secrets(settings: Settings) -> tuple[str, ...]:
    """Every secret value the settings hold, and the passwords inside their URLs."""
    values = [
        settings.secret_key,
        settings.smtp_url.get_secret_value(),
        settings.sms_url.get_secret_value(),
        settings.sms_password.get_secret_value(),
        settings.sms_token.get_secret_value(),
        settings.database_url,
        settings.redis_url,
    ]
    for url in list(values):
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            values.append(password)
    return tuple(value for value in values if value)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._scrub = Scrubber(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _message(record, self._scrub),
        }
        request_id = getattr(record, "request_id", "") or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for name in _EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[1] is not None:
            entry["cause"] = _causes(record.exc_info[1])
            entry["stack"] = _frames(record.exc_info[2])
        return json.dumps(entry, ensure_ascii=False, default=str)


def _message(record: logging.LogRecord, scrub: Scrubber) -> str:
    message = record.getMessage()
    # The access line is made of the method, the route's template and the status: nothing a
    # client wrote, so nothing to scrub.
    return message if record.name == ACCESS_LOGGER else scrub(message)


class TextFormatter(logging.Formatter):
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        self._scrub = Scrubber(secrets)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return self._scrub(super().format(record))


def _causes(exc: BaseException) -> str:
    """The exception's class and those of its causes: `StorageError <- ConnectionError`."""
    names: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(names) < 5:
        names.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    return " <- ".join(names)


def _frames(tb: TracebackType | None) -> list[str]:
    frames = traceback.extract_tb(tb)[-_STACK_FRAMES:]
    return [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in frames]


def log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server and its workers (uvicorn's log_config)."""
    level = settings.log_level.upper()
    formatter = "JsonFormatter" if settings.resolved_log_format == "json" else "TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "humangate.observability.logs.RequestIdFilter"}},
        "formatters": {
            "line": {
                "()": f"humangate.observability.logs.{formatter}",
                "secrets": settings_secrets(settings),
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "line",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Alembic announces each of its plugins at INFO; the migrations it runs stay.
            "alembic.runtime.plugins": {"level": "WARNING"},
            # Our access line names the route template, never the path or its query string.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            ACCESS_LOGGER: {
                "handlers": [],
                "level": level if settings.access_log else "WARNING",
                "propagate": True,
            },
        },
    }
