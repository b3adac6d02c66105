"""Findings from the widget's coarse environment summary, checked against the request's headers.

The widget sends a small JSON object `env` (under 1 KB) with these keys. Every key is optional:
the widget omits a key whose source is missing or throws, and never sends null. The API checks
types before calling in; a value of the wrong type here is treated as missing, never as evidence.

======== ================ ============================================================ =========
key      JSON type        source in the browser                                        notes
======== ================ ============================================================ =========
wd       boolean          `navigator.webdriver === true`
ua       string <= 300    `navigator.userAgent`, cut to 300 characters
lang     string <= 35     `navigator.language`
langs    integer >= 0     `navigator.languages.length` (at most 100)
tz       string <= 64     `Intl.DateTimeFormat().resolvedOptions().timeZone`           IANA name
tzo      integer          `new Date().getTimezoneOffset()`                             minutes,
                                                                                       UTC-local
scr      [int, int]       `[screen.width, screen.height]`                              CSS px
avail    [int, int]       `[screen.availWidth, screen.availHeight]`                    CSS px
dpr      number           `devicePixelRatio`, rounded to 2 decimals
touch    integer >= 0     `navigator.maxTouchPoints`
hc       integer >= 0     `navigator.hardwareConcurrency`
mem      number           `navigator.deviceMemory`                                     omit if
                                                                                       undefined
plugins  integer >= 0     `navigator.plugins.length`
canvas   string <= 16 hex hash of the widget's fixed canvas drawing's `toDataURL()`    widget:
                          with widget/src/sha256.js                                    8 hex
webgl    string <= 64     `UNMASKED_RENDERER_WEBGL` (else `RENDERER`), cut to 64       "" if no
                                                                                       WebGL
chrome   boolean          `!!window.chrome`
perm     string <= 16     `Notification.permission` ("default", "granted", "denied")   omit if
                                                                                       missing
outer    [int, int]       `[outerWidth, outerHeight]`                                  CSS px
======== ================ ============================================================ =========

The pairs hold integers in 0..100000 (the widget drops a pair that does not). `tzo` follows
JavaScript's sign: UTC+2 gives -120. The server-side facts are `RequestFacts`.

Rules fire on contradictions a person's browser does not produce (a webdriver flag, a headless
UA, a time zone offset its own zone never has) and, with mild weights, on traits real people also
show (software WebGL, a VPN's foreign region). Weights and the reason each is as strong as it is
live in `weights/rules-v1.json`. No rule reads `canvas`, `hc`, `mem` or `perm`; they serve
the device id and later rules.

`RegionTable` maps IP networks to a country and its UTC offsets from an operator-supplied CSV.
No GeoIP data ships with HumanGate: without a table, `RequestFacts.region` is None and the
time-zone-versus-region rule never fires.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from humangate.risk._rules import RuleBook, load_rules
from humangate.risk.access import normalise_network
from humangate.risk.base import Finding

UA_LIMIT = 300
REFERENCE_YEAR = 2025  # zone offsets come from January and July of this year, never the clock
MIN_SCREEN, MAX_SCREEN, SCREEN_SLACK = 100, 16384, 2

_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_HEADLESS = ("headlesschrome", "headless", "phantomjs")
_SOFTWARE_GL = ("swiftshader", "llvmpipe", "softpipe", "software rasterizer", "basic render")
_MOBILE = ("mobile", "android", "iphone", "ipad")
_LANGUAGE_ALIASES = {"nb": "no", "nn": "no", "iw": "he", "in": "id", "ji": "yi", "tl": "fil"}


@dataclass(frozen=True, slots=True)
class Region:
    """An IP's country (ISO 3166-1 alpha-2) and every UTC offset used there during the year."""

    country: str
    utc_offsets: frozenset[int]  # minutes east of UTC (UTC+2 is 120), DST offsets included


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the server saw of the request itself."""

    user_agent: str = ""  # the User-Agent header
    accept_language: str = ""  # the Accept-Language header
    ip_prefix: str = "unknown"  # the /24 or /64 from humangate.netaddr.ip_prefix
    region: Region | None = None  # from an operator's RegionTable; usually None


def _text(env: Mapping[str, object], key: str) -> str | None:
    value = env.get(key)
    return value if isinstance(value, str) else None


def _number(env: Mapping[str, object], key: str) -> float | None:
    value = env.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _pair(env: Mapping[str, object], key: str) -> tuple[float, float] | None:
    value = env.get(key)
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    first, second = _number({"v": value[0]}, "v"), _number({"v": value[1]}, "v")
    return None if first is None or second is None else (first, second)


@lru_cache(maxsize=1024)
def zone_offsets(name: str) -> frozenset[int] | None:
    """Minutes east of UTC of an IANA zone in mid-January and mid-July of REFERENCE_YEAR.

    None for a name the system's tz database does not know (a judgement needs both sides).
    """
    if not _ZONE_NAME.fullmatch(name):
        return None
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    offsets = set()
    for month in (1, 7):
        offset = datetime(REFERENCE_YEAR, month, 15, 12, tzinfo=UTC).astimezone(zone).utcoffset()
        if offset is not None:
            offsets.add(round(offset.total_seconds() / 60))
    return frozenset(offsets)


def primary_language(tag: str) -> str:
    """The primary subtag of a BCP 47 tag, lower-cased: "en" for "en-GB".

    Legacy and macro-language codes that browsers mix within one profile map to one value
    (Chrome may say "no" in one list and "nb" in the other), so they are no mismatch.
    """
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return _LANGUAGE_ALIASES.get(primary, primary)


def preferred_language(accept_language: str) -> str | None:
    """The primary subtag of the highest-q language of an Accept-Language header (first wins
    ties), or None when the header names none."""
    best: tuple[float, str] | None = None
    for part in accept_language.split(",")[:32]:
        tag, _, params = part.partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                continue
        if best is None or quality > best[0]:
            best = (quality, primary_language(tag))
    return best[1] if best else None


def is_chromium(ua: str) -> bool:
    """A Chromium-based browser that defines window.chrome (not Android WebView or Electron)."""
    return ("Chrome/" in ua or "Chromium/" in ua) and "; wv)" not in ua and "Electron/" not in ua


def _must_have_chrome_object(ua: str) -> bool:
    """Desktop Chromium. Android is left out: in-app browsers and regional forks built on the
    system WebView (some without the "; wv" token) lack window.chrome while saying Chrome/."""
    return is_chromium(ua) and "Android" not in ua


def _never_chrome_object(ua: str) -> bool:
    """Firefox (Gecko) or desktop Safari, which never define window.chrome."""
    if "Chrome/" in ua or "Chromium/" in ua:
        return False
    desktop_safari = "Macintosh" in ua and "Version/" in ua and "Safari/" in ua
    return "Firefox/" in ua or desktop_safari


def _headless(env: Mapping[str, object], request: RequestFacts) -> bool:
    uas = (request.user_agent, _text(env, "ua") or "")
    return any(hint in ua.lower() for ua in uas for hint in _HEADLESS)


def _ua_mismatch(env: Mapping[str, object], request: RequestFacts) -> bool:
    ua = _text(env, "ua")
    if not ua or not request.user_agent:
        return False
    return ua.strip()[:UA_LIMIT] != request.user_agent.strip()[:UA_LIMIT]


def _language_mismatch(env: Mapping[str, object], request: RequestFacts) -> bool:
    lang = _text(env, "lang")
    header = preferred_language(request.accept_language)
    return bool(lang and header and primary_language(lang) != header)


def _timezone_mismatch(env: Mapping[str, object]) -> bool:
    tz, tzo = _text(env, "tz"), _number(env, "tzo")
    offsets = zone_offsets(tz) if tz else None
    return offsets is not None and tzo is not None and round(-tzo) not in offsets


def _region_mismatch(env: Mapping[str, object], request: RequestFacts) -> bool:
    if request.region is None or not request.region.utc_offsets:
        return False
    tz, tzo = _text(env, "tz"), _number(env, "tzo")
    # Lenient on purpose: any offset the browser's zone has during the year may match, so a
    # table that lists only standard time does not flag everyone during summer time.
    browser = set(zone_offsets(tz) or ()) if tz else set()
    if tzo is not None:
        browser.add(round(-tzo))
    return bool(browser) and not browser & request.region.utc_offsets


def _impossible_screen(env: Mapping[str, object]) -> bool:
    screen, avail, dpr = _pair(env, "scr"), _pair(env, "avail"), _number(env, "dpr")
    if dpr is not None and not 0 < dpr <= 20:
        return True
    if screen is None:
        return False
    if min(screen) < MIN_SCREEN or max(screen) > MAX_SCREEN:
        return True
    if avail is None:
        return False
    return avail[0] > screen[0] + SCREEN_SLACK or avail[1] > screen[1] + SCREEN_SLACK


def _browser_mismatch(env: Mapping[str, object], request: RequestFacts) -> bool:
    chrome = env.get("chrome")
    ua = _text(env, "ua") or request.user_agent
    if not isinstance(chrome, bool) or not ua:
        return False
    return (_must_have_chrome_object(ua) and not chrome) or (_never_chrome_object(ua) and chrome)


def _no_plugins(env: Mapping[str, object], request: RequestFacts) -> bool:
    ua = _text(env, "ua") or request.user_agent
    plugins, touch = _number(env, "plugins"), _number(env, "touch")
    desktop = not any(word in ua.lower() for word in _MOBILE) and not touch
    return plugins == 0 and is_chromium(ua) and desktop


def environment_findings(
    env: Mapping[str, object] | None,
    request: RequestFacts,
    *,
    rules: RuleBook | None = None,
) -> list[Finding]:
    """Findings from the widget's environment summary and the request's headers.

    Args:
        env: the summary described in this module's docstring; None or empty when the client
            sent none (which is itself a finding, "no-environment").
        request: the server's view of the request.
        rules: the weights; the packaged default version when None.

    Returns:
        At most one finding per reason, in a fixed order.
    """
    book = rules or load_rules()
    env = env or {}
    webgl = (_text(env, "webgl") or "").lower()
    langs = _number(env, "langs")
    checks = {
        "no-environment": not env,
        "automation-flag": env.get("wd") is True,
        "headless-browser": _headless(env, request),
        "user-agent-mismatch": _ua_mismatch(env, request),
        "language-mismatch": _language_mismatch(env, request),
        "no-languages": langs == 0,
        "timezone-mismatch": _timezone_mismatch(env),
        "timezone-region-mismatch": _region_mismatch(env, request),
        "impossible-screen": _impossible_screen(env),
        "no-window": _pair(env, "outer") == (0.0, 0.0),
        "browser-mismatch": _browser_mismatch(env, request),
        "software-renderer": any(name in webgl for name in _SOFTWARE_GL),
        "no-plugins": _no_plugins(env, request),
    }
    return [book.finding(reason) for reason, fired in checks.items() if fired]


# Reasons by which a browser says it is driven by a program, outright or by contradicting itself
# as no person's browser does. In managed and interactive mode no answer earns a token while one
# of them stands (humangate/loop/answer.py); score mode reports them with a low score.
AUTOMATION_REASONS = frozenset({"automation-flag", "headless-browser"})


def declares_automation(reasons: Iterable[str]) -> bool:
    return not AUTOMATION_REASONS.isdisjoint(reasons)


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
