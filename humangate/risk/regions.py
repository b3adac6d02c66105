"""An operator's table of IP networks to a country and its UTC offsets, for the time zone
versus region rule of humangate/risk/environment.py. No GeoIP data ships with HumanGate."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from humangate.risk.access import normalise_network


@dataclass(frozen=True, slots=True)
class Region:
    """An IP's country (ISO 3166-1 alpha-2) and every UTC offset used there during the year."""

    country: str
    utc_offsets: frozenset[int]  # minutes east of UTC (UTC+2 is 120), DST offsets included


class RegionTable:
    """Longest-prefix lookup from IP networks to `Region`s, parsed from an operator's CSV.

    One entry a line: `cidr,country,utc_offsets_minutes`, offsets east of UTC separated by "|",
    every offset used during the year (e.g. `192.0.2.0/24,DE,60|120`). Blank lines, lines
    starting with "#" and a header line starting with "cidr" are skipped. No GeoIP data ships with
    HumanGate; the operator supplies the file and the API reads it. Host bits are accepted and
    cleared, and IPv4-mapped IPv6 networks become IPv4, as in access lists.
    """

    def __init__(self, entries: Mapping[ipaddress.IPv4Network | ipaddress.IPv6Network, Region]):
        self._by_length: dict[tuple[int, int], dict[int, Region]] = {}
        for network, region in entries.items():
            key = (network.version, network.prefixlen)
            self._by_length.setdefault(key, {})[int(network.network_address)] = region
        # Longest prefixes first, so the first hit is the most specific.
        self._lengths = sorted(self._by_length, key=lambda k: -k[1])

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_length.values())

    @classmethod
    def parse(cls, text: str) -> RegionTable:
        """Parse the CSV text.

        Raises:
            ValueError: naming the first bad line (its number, and what is wrong).
        """
        entries: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, Region] = {}
        seen: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#") or line.lower().startswith("cidr"):
                continue
            network, region = _parse_region_line(line, number)
            if network in seen:
                raise ValueError(f"Line {number}: {network} is already on line {seen[network]}.")
            seen[network] = number
            entries[network] = region
        return cls(entries)

    def lookup(self, address: str) -> Region | None:
        """The region of an IP address, or of a prefix such as "203.0.113.0/24"; None if unknown."""
        try:
            ip = ipaddress.ip_network(address.strip(), strict=False).network_address
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        value = int(ip)
        for version, length in self._lengths:
            if version != ip.version:
                continue
            host_bits = (32 if version == 4 else 128) - length
            region = self._by_length[(version, length)].get(value >> host_bits << host_bits)
            if region is not None:
                return region
        return None


def _parse_region_line(
    line: str, number: int
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Region]:
    fields = [field.strip() for field in line.split(",")]
    if len(fields) != 3:
        raise ValueError(
            f"Line {number}: expected 3 comma-separated fields "
            f"(cidr,country,utc_offsets_minutes), got {len(fields)}."
        )
    cidr, country, offsets = fields
    try:
        network = normalise_network(ipaddress.ip_network(cidr, strict=False))
    except ValueError as error:
        raise ValueError(f"Line {number}: {cidr!r} is not a network ({error}).") from None
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        raise ValueError(f"Line {number}: country {country!r} is not a two-letter ISO code.")
    parsed = set()
    for offset in offsets.split("|"):
        if not re.fullmatch(r"[+-]?\d{1,4}", offset.strip()):
            raise ValueError(f"Line {number}: UTC offset {offset!r} is not whole minutes.")
        minutes = int(offset)
        if not -720 <= minutes <= 840:
            raise ValueError(f"Line {number}: UTC offset {minutes} is outside -720..840 minutes.")
        parsed.add(minutes)
    return network, Region(country.upper(), frozenset(parsed))
