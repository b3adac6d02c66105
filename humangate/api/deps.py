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


ServicesDep = Annotated[Services, Depends(get_services)]
VerifierDep = Annotated[Verifier, Depends(get_verifier)]
DirectoryDep = Annotated[UnitDirectory, Depends(get_directory)]
ClientDep = Annotated[Client, Depends(get_client)]
PageHostname = Annotated[str | None, Depends(get_page_hostname)]
