"""One exception tree for faults. Expected outcomes (a wrong answer, a spent token) are values."""

from __future__ import annotations


class HumanGateError(Exception):
    """Base class of every error HumanGate raises."""


class ConfigError(HumanGateError):
    """The configuration is invalid or insecure."""


class StorageError(HumanGateError):
    """The hot-state store or the database failed."""
