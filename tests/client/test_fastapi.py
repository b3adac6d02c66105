"""humangate.client.fastapi in a real FastAPI app verifying tokens with a real HumanGate server."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time,
# and their dependency types are local to make_site.
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI

from humangate.client import AsyncClient, Verification
from humangate.client.fastapi import require_humangate
from tests.client._sockets import closed_port_url
from tests.client.conftest import Site


def make_site(client: AsyncClient) -> FastAPI:
    app = FastAPI()
    Human = Annotated[Verification, Depends(require_humangate(client))]
    LoginHuman = Annotated[Verification, Depends(require_humangate(client, action="login"))]

    @app.post("/comment")
    async def comment(human: Human) -> dict[str, object]:
        return {"saved": True, "host": human.hostname, "unreachable": human.unreachable}

    @app.post("/login")
    async def login(human: LoginHuman) -> dict[str, bool]:
        return {"logged_in": human.success}

    return app


def browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://site")


async def test_a_verified_post_passes_once_as_form_or_json(site: Site) -> None:
    async with AsyncClient(site.url, site.secret) as client, browser(make_site(client)) as b:
        token = site.token()
        first = await b.post("/comment", data={"humangate-response": token})
        replay = await b.post("/comment", data={"humangate-response": token})
        as_json = await b.post("/comment", json={"humangate-response": site.token()})
        missing = await b.post("/comment", data={})
        forged = await b.post("/comment", json={"humangate-response": "forged"})
    assert first.status_code == 200
    assert first.json() == {"saved": True, "host": "localhost", "unreachable": False}
    assert as_json.status_code == 200
    assert replay.status_code == 403 and replay.json() == {"detail": "human-check-failed"}
    assert missing.status_code == 403 and forged.status_code == 403


async def test_the_dependency_checks_the_action(site: Site) -> None:
    async with AsyncClient(site.url, site.secret) as client, browser(make_site(client)) as b:
        wrong = await b.post("/login", data={"humangate-response": site.token(action="signup")})
        right = await b.post("/login", data={"humangate-response": site.token(action="login")})
    assert wrong.status_code == 403 and right.json() == {"logged_in": True}


async def test_an_unreachable_service_refuses_unless_the_site_chose_open() -> None:
    down = closed_port_url()
    posted = {"humangate-response": "a-token"}
    async with AsyncClient(down, "s", retries=0) as client, browser(make_site(client)) as b:
        assert (await b.post("/comment", data=posted)).status_code == 403
    async with (
        AsyncClient(down, "s", retries=0, on_unreachable="open") as client,
        browser(make_site(client)) as b,
    ):
        opened = await b.post("/comment", data=posted)
        assert (await b.post("/comment", data={})).status_code == 403
    assert opened.json() == {"saved": True, "host": None, "unreachable": True}
