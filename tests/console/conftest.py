"""A console app on the embedded default, its widget off (tests/console/test_web_http.py keeps
one test through the real widget), with a fast password hasher."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from humangate.accounts.passwords import TEST_PARAMS, PasswordHasher
from humangate.app import create_app
from humangate.config import Settings
from tests.app_services import replace_services, services_of


def open_client(settings: Settings, base_url: str = "http://testserver") -> TestClient:
    """A started client; the caller ends it with `client.__exit__(None, None, None)`."""
    client = TestClient(create_app(settings), base_url=base_url)
    client.__enter__()
    accounts = services_of(client).accounts
    replace_services(
        client, accounts=dataclasses.replace(accounts, hasher=PasswordHasher(TEST_PARAMS))
    )
    return client


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(console_widget=False, demo=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    client = open_client(settings)
    yield client
    client.__exit__(None, None, None)
