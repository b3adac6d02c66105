"""Shared fixtures: an app on the embedded default, and real services started on demand."""

from __future__ import annotations

pytest_plugins = ["tests._services"]
