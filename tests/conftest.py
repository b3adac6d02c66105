"""Shared fixtures: an app on the embedded default, and real services started on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings

pytest_plugins = ["tests._services"]

ORIGIN = "http://localhost:8000"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "secret_key": "test-" + "k" * 40,
            "unit_cache_seconds": 0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers={"Origin": ORIGIN}) as test_client:
        yield test_client
