"""IP truncation: nothing stored or counted keeps a full address."""

from __future__ import annotations

import ipaddress


def ip_prefix(address: str | None) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of an address, or "unknown"."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))
