"""Access lists and declared crawlers verified by forward-confirmed reverse DNS."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable

import pytest

from humangate.risk.access import (
    CRAWLERS,
    MAX_ENTRIES,
    AccessList,
    crawler_findings,
    declared_crawler,
    parse_networks,
    verify_crawler,
)


def test_parse_accepts_ipv4_ipv6_bare_addresses_and_comments_and_normalises() -> None:
    networks = parse_networks(
        [
            "# office",
            "203.0.113.7/24   # host bits are cleared",
            "198.51.100.9",
            "",
            "2001:DB8:0:0:1::/64",
            "::ffff:192.0.2.0/120",
            "203.0.113.0/24",  # duplicate after normalising
        ]
    )
    assert [str(n) for n in networks] == [
        "203.0.113.0/24",
        "198.51.100.9/32",
        "2001:db8::/64",
        "192.0.2.0/24",
    ]


def test_parse_splits_a_single_string_into_lines() -> None:
    assert parse_networks("192.0.2.0/24\n2001:db8::/48") == (
        ipaddress.ip_network("192.0.2.0/24"),
        ipaddress.ip_network("2001:db8::/48"),
    )


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["192.0.2.0/24", "example.com"], "Line 2: 'example.com' is not an IP address or network"),
        (["192.0.2.0/33"], "Line 1: '192.0.2.0/33' is not"),
        (["192.0.2.0/24, 198.51.100.0/24"], "Line 1: .* is not an IP address"),
        (["x" * 500], "Line 1: 'x{100}…' is not"),
        (["0.0.0.0/0"], r"Line 1: 0.0.0.0/0 is broader than /8; list narrower networks"),
        (["10.0.0.0/7"], "broader than /8"),
        (["::/0"], "broader than /16"),
    ],
)
def test_bad_lines_are_refused_with_the_line_number_and_an_example(
    lines: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_networks(lines)


def test_an_access_list_holds_at_most_max_entries() -> None:
    lines = [f"10.{i // 256}.{i % 256}.0/24" for i in range(MAX_ENTRIES)]
    assert len(parse_networks(lines)) == MAX_ENTRIES
    with pytest.raises(ValueError, match=f"at most {MAX_ENTRIES} networks"):
        parse_networks([*lines, "192.0.2.0/24"])


def test_deny_wins_over_allow_for_ipv4_and_ipv6() -> None:
    access = AccessList.from_strings(
        ["10.0.0.0/8", "2001:db8::/32"], ["10.1.0.0/16", "2001:db8:bad::/48"]
    )
    assert access.decide("10.1.2.3") == "deny"
    assert access.decide("10.2.2.3") == "allow"
    assert access.decide("2001:db8:bad::1") == "deny"
    assert access.decide("2001:db8:1::1") == "allow"
    assert access.decide("192.0.2.1") is None
    assert access.decide("::ffff:10.1.0.1") == "deny"  # the IPv4 address behind a mapped one
    assert access.decide(ipaddress.ip_address("10.9.9.9")) == "allow"
    assert access.decide("garbage") is None


def test_a_prefix_matches_only_lists_that_hold_all_of_it() -> None:
    access = AccessList.from_strings(["10.0.0.0/8"], ["10.1.2.128/25"])
    assert access.decide("10.1.2.0/24") == "allow"  # the deny /25 is only half of it
    assert access.decide("10.1.2.128/26") == "deny"


def test_an_empty_access_list_decides_nothing() -> None:
    assert AccessList().decide("192.0.2.1") is None


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "googlebot"),
        (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; "
            "Googlebot/2.1; +http://www.google.com/bot.html)",
            "googlebot",
        ),
        ("Googlebot-Image/1.0", "googlebot"),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
            "applebot",
        ),  # fmt: skip
        ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", "duckduckbot"),
        ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "yandexbot"),
        (
            "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            "baiduspider",
        ),  # fmt: skip
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36", None),
        ("NotGooglebotter", None),
        ("", None),
    ],
)
def test_declared_crawler_reads_the_user_agent_token(user_agent: str, name: str | None) -> None:
    assert declared_crawler(user_agent) == name


def test_the_catalogue_has_the_major_crawlers_each_with_suffixes() -> None:
    expected = {"googlebot", "bingbot", "applebot", "duckduckbot", "yandexbot", "baiduspider"}
    assert expected <= set(CRAWLERS)
    for crawler in CRAWLERS.values():
        assert crawler.ua_tokens and crawler.ptr_suffixes and crawler.reference
    # Any Google Cloud VM's PTR ends in googleusercontent.com: it must not verify as Googlebot.
    assert "googleusercontent.com" not in CRAWLERS["googlebot"].ptr_suffixes


def fake_dns(
    ptr: dict[str, str], forward: dict[str, list[str]], error: BaseException | None = None
):
    async def resolve_ptr(ip: str) -> str:
        if error is not None:
            raise error
        return ptr[ip]  # KeyError plays "no PTR record"

    async def resolve_forward(host: str) -> Iterable[str]:
        return forward[host]

    return resolve_ptr, resolve_forward


GOOGLE_IP = "66.249.66.1"
GOOGLE_HOST = "crawl-66-249-66-1.googlebot.com."


def verify(name: str, ip: str, dns: tuple) -> bool:
    return asyncio.run(verify_crawler(name, ip, *dns))


def test_fcrdns_verifies_a_real_crawler() -> None:
    dns = fake_dns({GOOGLE_IP: GOOGLE_HOST}, {GOOGLE_HOST.rstrip("."): [GOOGLE_IP]})
    assert verify("googlebot", GOOGLE_IP, dns)
    six = "2001:4860:4801:10::1"
    host = "crawl-2001-4860-4801-10--1.googlebot.com"
    dns = fake_dns({six: host.upper()}, {host: ["2001:4860:4801:0010:0000::1"]})
    assert verify("googlebot", six, dns)  # case and address spelling do not matter


@pytest.mark.parametrize(
    "host",
    [
        "crawl.googlebot.com.evil.example",  # suffix in the middle
        "evilgooglebot.com",  # not a subdomain
        "googlebot.com",  # the bare domain is no crawler host
        "vm.bc.googleusercontent.com",
        "66.249.66.1",  # no PTR: getnameinfo echoes the address
    ],
)
def test_a_ptr_outside_the_published_suffixes_is_not_verified(host: str) -> None:
    dns = fake_dns({GOOGLE_IP: host}, {host: [GOOGLE_IP]})
    assert not verify("googlebot", GOOGLE_IP, dns)


def test_a_forward_lookup_that_does_not_return_the_ip_is_not_verified() -> None:
    # The attacker controls the PTR of their own IP, not the forward zone of googlebot.com.
    dns = fake_dns({"192.0.2.7": GOOGLE_HOST}, {GOOGLE_HOST.rstrip("."): [GOOGLE_IP]})
    assert not verify("googlebot", "192.0.2.7", dns)


def test_a_bing_host_does_not_verify_googlebot() -> None:
    host = "msnbot-157-55-39-1.search.msn.com"
    dns = fake_dns({"157.55.39.1": host}, {host: ["157.55.39.1"]})
    assert verify("bingbot", "157.55.39.1", dns)
    assert not verify("googlebot", "157.55.39.1", dns)


@pytest.mark.parametrize(
    "error", [TimeoutError(), OSError("NXDOMAIN"), LookupError("no PTR"), RuntimeError("bug")]
)
def test_resolver_errors_and_timeouts_mean_not_verified(error: Exception) -> None:
    assert not verify("googlebot", GOOGLE_IP, fake_dns({}, {}, error))


def test_missing_records_and_bad_input_mean_not_verified() -> None:
    assert not verify("googlebot", GOOGLE_IP, fake_dns({}, {}))  # no PTR
    assert not verify("googlebot", GOOGLE_IP, fake_dns({GOOGLE_IP: GOOGLE_HOST}, {}))
    assert not verify("googlebot", "not-an-ip", fake_dns({}, {}))


def test_a_slow_resolver_bounded_by_the_caller_is_not_verified() -> None:
    async def slow_ptr(ip: str) -> str:
        await asyncio.sleep(10)
        return GOOGLE_HOST

    async def bounded_ptr(ip: str) -> str:
        return await asyncio.wait_for(slow_ptr(ip), timeout=0.01)

    async def forward(host: str) -> list[str]:
        return [GOOGLE_IP]

    assert not asyncio.run(verify_crawler("googlebot", GOOGLE_IP, bounded_ptr, forward))


def test_cancellation_is_not_swallowed() -> None:
    dns = fake_dns({}, {}, asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        verify("googlebot", GOOGLE_IP, dns)


def test_an_unknown_crawler_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a known crawler"):
        verify("examplebot", GOOGLE_IP, fake_dns({}, {}))


def test_an_unverified_claim_is_an_impostor_finding() -> None:
    (finding,) = crawler_findings("googlebot", verified=False)
    assert finding.reason == "impostor-crawler" and finding.weight < 0
    assert crawler_findings("googlebot", verified=True) == []
    assert crawler_findings(None, verified=False) == []
