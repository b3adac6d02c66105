"""Per-unit allow and deny lists of IP networks, and declared search engine crawlers.

Access lists are what a unit's owner types into a text box or a CLI flag: one network a line.
Host bits are accepted and cleared ("203.0.113.7/24" becomes 203.0.113.0/24), because owners
paste an address with the mask they mean; the API echoes the normalised list back so the owner
sees what was stored. A bare address is a /32 or /128, IPv4-mapped IPv6 networks become IPv4
(the same address, as `humangate.netaddr` sees it), and networks broader than /8 (IPv4) or /16
(IPv6) are refused: one slip there would allow or deny a large part of the Internet.

Good bots: search engine crawlers name themselves in their User-Agent, and so do scrapers that
borrow the name. A claim is verified with forward-confirmed reverse DNS (FCrDNS): the IP's PTR
name must end in a suffix the crawler's operator publishes, and that name must resolve back to the
same IP. The DNS lookups are injected as async callables, so this module does no I/O; the caller
should bound them with a timeout and cache the answer per IP (crawler IPs are few and stable).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from humangate.risk._rules import RuleBook, load_rules
from humangate.risk.base import Finding

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Decision = Literal["allow", "deny"]
ResolvePtr = Callable[[str], Awaitable[str]]  # IP -> PTR host name; raises when there is none
ResolveForward = Callable[[str], Awaitable[Iterable[str]]]  # host name -> its IP addresses

MAX_ENTRIES = 200
MAX_LINE = 100
MIN_PREFIX = {4: 8, 6: 16}


def normalise_network(network: Network) -> Network:
    """An IPv4-mapped IPv6 network (inside ::ffff:0:0/96) as the IPv4 network it maps."""
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def parse_networks(lines: Iterable[str]) -> tuple[Network, ...]:
    """Parse an access list: one network or address a line, "#" starts a comment.

    Args:
        lines: the lines (a single string is split into lines).

    Returns:
        The networks, normalised, duplicates dropped, in their first order.

    Raises:
        ValueError: naming the first bad line and what to write instead, or saying the list is
            longer than MAX_ENTRIES.
    """
    networks: dict[Network, None] = {}
    entries = 0
    for number, raw in enumerate(_lines(lines), start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        entries += 1
        if entries > MAX_ENTRIES:
            raise ValueError(f"An access list holds at most {MAX_ENTRIES} networks.")
        networks[_parse_network(text, number)] = None
    return tuple(networks)


def _parse_network(text: str, number: int) -> Network:
    shown = text if len(text) <= MAX_LINE else text[:MAX_LINE] + "…"
    try:
        if len(text) > MAX_LINE:
            raise ValueError
        network = normalise_network(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise ValueError(
            f"Line {number}: {shown!r} is not an IP address or network; "
            "write one like 203.0.113.0/24, 203.0.113.7 or 2001:db8::/48."
        ) from None
    floor = MIN_PREFIX[network.version]
    if network.prefixlen < floor:
        raise ValueError(
            f"Line {number}: {network} is broader than /{floor}; list narrower networks."
        )
    return network


def _lines(lines: Iterable[str]) -> Iterable[str]:
    return lines.splitlines() if isinstance(lines, str) else lines


@lru_cache(maxsize=256)
def _parse_pair(allow: tuple[str, ...], deny: tuple[str, ...]) -> AccessList:
    return AccessList(parse_networks(allow), parse_networks(deny))


def _address(ip: str | Address) -> Address | Network | None:
    if not isinstance(ip, str):
        found: Address = ip
    else:
        try:
            if "/" in ip:
                return normalise_network(ipaddress.ip_network(ip.strip(), strict=False))
            found = ipaddress.ip_address(ip.strip())
        except ValueError:
            return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _holds(network: Network, target: Address | Network) -> bool:
    """Whether `network` holds the address, or all of the network, `target`."""
    if isinstance(network, ipaddress.IPv4Network):
        if isinstance(target, ipaddress.IPv4Network):
            return target.subnet_of(network)
        return isinstance(target, ipaddress.IPv4Address) and target in network
    if isinstance(target, ipaddress.IPv6Network):
        return target.subnet_of(network)
    return isinstance(target, ipaddress.IPv6Address) and target in network


def _matches(target: Address | Network, networks: tuple[Network, ...]) -> bool:
    return any(_holds(network, target) for network in networks)


@dataclass(frozen=True, slots=True)
class AccessList:
    """A unit's allow and deny networks."""

    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()

    @classmethod
    def from_strings(cls, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> AccessList:
        """Parse both lists (cached: a unit's lists are parsed once, not on every request).

        Raises:
            ValueError: as `parse_networks` does.
        """
        return _parse_pair(tuple(_lines(allow)), tuple(_lines(deny)))

    def decide(self, ip: str | Address) -> Decision | None:
        """ "deny" if any deny network holds `ip`, else "allow" if an allow network does, else None.

        Deny wins so that an owner can carve a bad /24 out of an allowed /16. `ip` is best the full
        address; a prefix such as "203.0.113.0/24" matches only networks that contain all of it.
        Unparseable input matches nothing.
        """
        target = _address(ip)
        if target is None:
            return None
        if _matches(target, self.deny):
            return "deny"
        if _matches(target, self.allow):
            return "allow"
        return None


@dataclass(frozen=True, slots=True)
class Crawler:
    """A declared crawler: its User-Agent tokens and the PTR suffixes its operator publishes."""

    name: str
    ua_tokens: tuple[str, ...]
    ptr_suffixes: tuple[str, ...]
    reference: str


# googleusercontent.com is deliberately missing for Googlebot: Google lists it for user-triggered
# fetchers, but every Google Cloud VM's PTR ends in it, so it would verify anyone's VM.
CRAWLERS: dict[str, Crawler] = {
    crawler.name: crawler
    for crawler in (
        Crawler(
            "googlebot",
            ("Googlebot",),
            ("googlebot.com", "google.com"),
            "https://developers.google.com/search/docs/crawling-indexing/verifying-googlebot",
        ),
        Crawler(
            "bingbot",
            ("bingbot",),
            ("search.msn.com",),
            "https://www.bing.com/webmasters/help/how-to-verify-bingbot-3905dc26",
        ),
        Crawler(
            "applebot",
            ("Applebot",),
            ("applebot.apple.com",),
            "https://support.apple.com/en-us/119829",
        ),
        # DuckDuckGo's documented check is its published IP list; its crawlers' PTR names end in
        # duckduckgo.com, so FCrDNS works too but may miss a new range before DNS catches up.
        Crawler(
            "duckduckbot",
            ("DuckDuckBot",),
            ("duckduckgo.com",),
            "https://duckduckgo.com/duckduckgo-help-pages/results/duckduckbot",
        ),
        Crawler(
            "yandexbot",
            ("YandexBot", "YandexMobileBot", "YandexImages"),
            ("yandex.ru", "yandex.net", "yandex.com"),
            "https://yandex.com/support/webmaster/robot-workings/check-yandex-robots.html",
        ),
        # Baidu documents the reverse lookup only; the forward check is kept because anyone who
        # controls an IP's reverse zone can publish any PTR name for it.
        Crawler(
            "baiduspider",
            ("Baiduspider",),
            ("baidu.com", "baidu.jp"),
            "https://help.baidu.com/question?prod_id=99&class=476&id=2996",
        ),
    )
}

_TOKENS = [
    (re.compile(rf"(?<![A-Za-z]){re.escape(token)}(?![A-Za-z])", re.IGNORECASE), crawler.name)
    for crawler in CRAWLERS.values()
    for token in crawler.ua_tokens
]


def declared_crawler(user_agent: str) -> str | None:
    """The catalogue name of the crawler a User-Agent claims to be, or None."""
    for pattern, name in _TOKENS:
        if pattern.search(user_agent[:1000]):
            return name
    return None


def _host(name: str) -> str:
    return name.strip().rstrip(".").lower()


async def verify_crawler(
    name: str, ip: str, resolve_ptr: ResolvePtr, resolve_forward: ResolveForward
) -> bool:
    """Whether `ip` passes forward-confirmed reverse DNS for crawler `name`.

    Any resolver failure (no PTR, NXDOMAIN, timeout, any other exception) means "not verified":
    a real crawler retries, and an unverifiable claim must not pass. Cancellation propagates.

    Raises:
        ValueError: if `name` is not in CRAWLERS (a programming or configuration error).
    """
    crawler = CRAWLERS.get(name)
    if crawler is None:
        raise ValueError(f"{name!r} is not a known crawler; known: {', '.join(CRAWLERS)}.")
    address = _address(ip)
    if address is None or not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return False
    try:
        host = _host(await resolve_ptr(str(address)))
        if len(host) > 253 or not any(host.endswith("." + s) for s in crawler.ptr_suffixes):
            return False
        forward = {_address(found) for found in await resolve_forward(host)}
    except Exception:  # every resolver failure means "not verified", whatever its type
        return False
    return address in forward


def crawler_findings(
    name: str | None, verified: bool, *, rules: RuleBook | None = None
) -> list[Finding]:
    """ "impostor-crawler" when the User-Agent claimed crawler `name` and FCrDNS failed."""
    if name is None or verified:
        return []
    return [(rules or load_rules()).finding("impostor-crawler")]
