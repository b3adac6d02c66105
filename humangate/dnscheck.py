"""Forward-confirmed reverse DNS for declared crawlers, on the event loop's resolver."""

from __future__ import annotations

import asyncio
import socket

from humangate.risk.access import verify_crawler

DNS_TIMEOUT = 2.0


async def resolve_ptr(ip: str) -> str:
    loop = asyncio.get_running_loop()
    host, _ = await asyncio.wait_for(
        loop.getnameinfo((ip, 0), socket.NI_NAMEREQD), timeout=DNS_TIMEOUT
    )
    return str(host)


async def resolve_forward(host: str) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, None), timeout=DNS_TIMEOUT)
    return sorted({str(info[4][0]) for info in infos})


async def verify_crawler_dns(name: str, ip: str) -> bool:
    return await verify_crawler(name, ip, resolve_ptr, resolve_forward)
