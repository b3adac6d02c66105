"""The new-sign-in notice over HTTP: a login from a new browser puts it in the inbox and sends
it through the development outbox; sign-up and a known browser send none."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from humangate.config import Settings
from humangate.console import account, auth, inbox, sessions, web
from humangate.messaging import read_outbox
from tests.console.test_web_http import (
    EMAIL,
    PASSWORD,
    Clock,
    csrf_of,
    last_code,
    post,
    sign_up,
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SUBJECT = "New sign-in to your HumanGate account"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (web, auth, account, inbox, sessions):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


def notices(settings: Settings) -> list[str]:
    return [
        e.text
        for e in read_outbox(settings.data_dir, 1000)
        if e.to == EMAIL and e.subject == SUBJECT
    ]


def test_a_new_browser_is_reported_by_mail_and_in_the_inbox(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    assert notices(settings) == []  # every device is new at sign-up: no notice then

    clock.advance(2)
    other = TestClient(client.app, headers={"User-Agent": FIREFOX})
    reply = post(other, "/console/login/code", {"identifier": EMAIL})
    code = last_code(settings, EMAIL)
    data = {"csrf": csrf_of(reply.text), "identifier": EMAIL, "code": code}
    done = other.post("/console/login/code/confirm", data=data, follow_redirects=False)
    assert done.status_code == 303

    (text,) = notices(settings)
    assert "New sign-in to your HumanGate account: Firefox on Linux, network" in text
    assert "change your password and end other sessions" in text
    assert code not in text
    inbox = other.get("/console/inbox")
    assert inbox.status_code == 200 and SUBJECT in inbox.text and "Firefox on Linux" in inbox.text

    # The same browser again, now by password: known, so no second notice.
    clock.advance(2)
    again = post(other, "/console/login", {"identifier": EMAIL, "password": PASSWORD})
    assert again.status_code == 303
    assert len(notices(settings)) == 1
