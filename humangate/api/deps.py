"""Dependencies shared by the routes, as Annotated aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from humangate.directory import UnitDirectory
from humangate.loop import Verifier
from humangate.netaddr import ip_prefix
from humangate.services import Services
from humangate.units import origin_hostname


def attach_services(app: FastAPI, services: Services) -> None:
    """Make `services` what every route of `app` reaches through ServicesDep."""
    app.state.services = services


def get_services(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


def get_verifier(request: Request) -> Verifier:
    return get_services(request).verifier


def get_directory(request: Request) -> UnitDirectory:
    return get_services(request).directory


@dataclass(frozen=True, slots=True)
class Client:
    """The requester as the network shows it; only `prefix` is ever stored or counted."""

    ip: str
    prefix: str
    user_agent: str
    accept_language: str


def get_client(request: Request) -> Client:
    ip = request.client.host if request.client else ""
    headers = request.headers
    return Client(
        ip=ip,
        prefix=ip_prefix(ip),
        user_agent=headers.get("user-agent", "")[:512],
        accept_language=headers.get("accept-language", "")[:256],
    )


def get_page_hostname(request: Request) -> str | None:
    return origin_hostname(request.headers.get("origin"), request.headers.get("referer"))


# FastAPI runs a plain `def` dependency in its thread pool: a hand-off to a thread and back for
# each one of each request, a large share of a challenge request's CPU. These do no I/O, so they are
# resolved on the event loop, through coroutines that call the functions above.


async def _services(request: Request) -> Services:
    return get_services(request)


async def _verifier(request: Request) -> Verifier:
    return get_verifier(request)


async def _directory(request: Request) -> UnitDirectory:
    return get_directory(request)


async def _client(request: Request) -> Client:
    return get_client(request)


async def _page_hostname(request: Request) -> str | None:
    return get_page_hostname(request)


ServicesDep = Annotated[Services, Depends(_services)]
VerifierDep = Annotated[Verifier, Depends(_verifier)]
DirectoryDep = Annotated[UnitDirectory, Depends(_directory)]
ClientDep = Annotated[Client, Depends(_client)]
PageHostname = Annotated[str | None, Depends(_page_hostname)]
