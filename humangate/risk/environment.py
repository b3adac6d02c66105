"""Findings from the widget's environment summary, checked against the request's headers.

The widget sends a small JSON object `env` (under 2 KB) with these keys. Every key is optional:
the widget omits a key whose source is missing or throws, and never sends null. The API checks
types before calling in; a value of the wrong type here is treated as missing, never as evidence.
Nothing raw that identifies a person more than these coarse facts is sent: no canvas pixels, no
plugin or font names.

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
plugins  integer >= 0     `navigator.plugins.length` (a count, never the names)
canvas   string <= 16 hex hash of the widget's fixed canvas drawing's `toDataURL()`    widget:
                          with widget/src/sha256.js                                    8 hex
webgl    string <= 64     `UNMASKED_RENDERER_WEBGL` (else `RENDERER`), cut to 64       "" if no
                                                                                       WebGL
glv      string <= 64     `UNMASKED_VENDOR_WEBGL` (else `VENDOR`), cut to 64           "" if no
                                                                                       WebGL
chrome   boolean          `!!window.chrome`
rt       boolean          `!!(window.chrome && window.chrome.runtime)`
perm     string <= 16     `Notification.permission` ("default", "granted", "denied")   omit if
                                                                                       missing
nperm    string <= 16     `navigator.permissions.query({name: "notifications"})`'s     async;
                          `state` ("prompt", "granted", "denied")                      300 ms
outer    [int, int]       `[outerWidth, outerHeight]`                                  CSS px
inner    [int, int]       `[innerWidth, innerHeight]`                                  CSS px
plat     string <= 32     `navigator.platform` ("Win32", "MacIntel", "Linux x86_64")
uab      [string] <= 8    `navigator.userAgentData.brands` as "brand/version", each    secure
                          cut to 48                                                    contexts
uap      string <= 32     `navigator.userAgentData.platform` ("Windows", "Android")    "
uam      boolean          `navigator.userAgentData.mobile`                             "
cdp      boolean          an Error given to `console.debug` in a fresh hidden iframe    see
                          had its stack formatted (`Error.prepareStackTrace` or a      below
                          `stack` getter ran): only a DevTools protocol client
                          listening to the page does that; also true when that
                          frame's `console.debug` is not native (patched to hide it),
                          or when the same probe fires in a dedicated worker
auto     [string] <= 16   globals automation leaves on `window` or `document`: "cdc"
                          (`$cdc_*`, chromedriver), "playwright" (`__playwright*`,
                          `__pw*`), "puppeteer", "selenium", "phantom", "nightmare",
                          "domautomation"
patched  [string] <= 16   built-ins whose `Function.prototype.toString` is not the
                          browser's own `function [get ]NAME() { [native code] }`:
                          the getters "webdriver" (also an own property on
                          `navigator`), "brands", "platform", "userAgent",
                          "languages", "plugins", "hardwareConcurrency",
                          "deviceMemory" and the methods "getParameter" (WebGL),
                          "query" (Permissions);
                          "webdriver-gone" when `"webdriver" in navigator` is false;
                          "prepareStackTrace" when the fresh frame's
                          `Error.prepareStackTrace` is an accessor or refuses a value;
                          from a dedicated worker (async, in the 1 s before the
                          challenge request): "worker-url", "worker-ua",
                          "worker-platform", "worker-brands" when the worker's
                          location or navigator differs from the page's,
                          "worker-tampered" when its first error is not placed on
                          its first line (code ran in front of it) or its answer
                          does not carry the page's random number mixed with
                          that place, and "worker-none" when no worker started
                          and the page's CSP did not forbid it
======== ================ ============================================================ =========

The pairs hold integers in 0..100000 (the widget drops a pair that does not). `tzo` follows
JavaScript's sign: UTC+2 gives -120. The server-side facts are `RequestFacts`. The proof of
work's timing travels with its answer, not here (humangate/risk/pow_rate.py).

Rules fire on contradictions a person's browser does not produce (a webdriver flag, a headless
UA, a time zone offset its own zone never has, a Linux UA on a Direct3D GPU; humangate/risk/
integrity.py) and, with mild weights, on traits real people also show (software WebGL, a VPN's
foreign region, a cloud machine's cores and memory). Those in `AUTOMATION_REASONS` say the
browser is driven by a program. `cdp` also fires for a person who has DevTools open on the page,
which a developer can close. Weights and the reason each is as strong as it is live in
`weights/rules-v1.json`. No rule reads `canvas`, `rt` (real Chrome defines `chrome.runtime` on a
page only when an installed extension offers itself there) or `inner`; they serve the device id
and later rules.

`RegionTable` (humangate/risk/regions.py, re-exported here) maps IP networks to a country and
its UTC offsets from an operator-supplied CSV. No GeoIP data ships with HumanGate: without a
table, `RequestFacts.region` is None and the time-zone-versus-region rule never fires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from humangate.risk import integrity as check
from humangate.risk._rules import RuleBook, load_rules
from humangate.risk.base import Finding
from humangate.risk.integrity import device_class
from humangate.risk.integrity import number as _number
from humangate.risk.integrity import pair as _pair
from humangate.risk.integrity import text as _text
from humangate.risk.regions import Region, RegionTable

__all__ = [
    "AUTOMATION_REASONS",
    "Region",
    "RegionTable",
    "RequestFacts",
    "declares_automation",
    "device_class",
    "device_class_findings",
    "environment_findings",
    "is_chromium",
    "preferred_language",
    "primary_language",
    "zone_offsets",
]

UA_LIMIT = 300
REFERENCE_YEAR = 2025  # zone offsets come from January and July of this year, never the clock
MIN_SCREEN, MAX_SCREEN, SCREEN_SLACK = 100, 16384, 2

_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")
_HEADLESS = ("headlesschrome", "headless", "phantomjs")
_SOFTWARE_GL = ("swiftshader", "llvmpipe", "softpipe", "software rasterizer", "basic render")
_MOBILE = ("mobile", "android", "iphone", "ipad")
_LANGUAGE_ALIASES = {"nb": "no", "nn": "no", "iw": "he", "in": "id", "ji": "yi", "tl": "fil"}


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the server saw of the request itself."""

    user_agent: str = ""  # the User-Agent header
    accept_language: str = ""  # the Accept-Language header
    ip_prefix: str = "unknown"  # the /24 or /64 from humangate.netaddr.ip_prefix
    region: Region | None = None  # from an operator's RegionTable; usually None


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
    return any(hint in ua.lower() for ua in uas for hint in _HEADLESS) or check.headless_brand(env)


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
    ua = request.user_agent
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
        "devtools-protocol": env.get("cdp") is True,
        "automation-globals": bool(check.codes(env, "auto")),
        "hidden-automation": check.hiding_automation(env, ua),
        "patched-natives": check.other_patches(env),
        "worker-mismatch": check.worker_mismatch(env),
        "no-worker": check.no_worker(env),
        "platform-mismatch": check.platform_mismatch(env, ua),
        "gpu-mismatch": check.gpu_mismatch(env, ua),
        "client-hints-mismatch": check.hints_mismatch(env, ua),
        "permission-mismatch": check.permission_mismatch(env),
        "window-exceeds-screen": check.window_exceeds_screen(env),
        "implausible-memory": check.implausible_memory(env),
        "server-hardware": check.server_hardware(env),
    }
    return [book.finding(reason) for reason, fired in checks.items() if fired]


def device_class_findings(
    class_networks: int, unit_networks: int, *, mobile: bool, rules: RuleBook | None = None
) -> list[Finding]:
    """ "shared-device-class" when a desktop device class (`device_class`) came from
    `class_networks` distinct networks on a unit that saw `unit_networks` in the window: see
    humangate/risk/integrity.py for the thresholds. It adds friction, never a refusal."""
    if not check.shared_device_class(class_networks, unit_networks, mobile=mobile):
        return []
    return [(rules or load_rules()).finding("shared-device-class")]


# Reasons by which a browser says it is driven by a program, outright or by contradicting itself
# as no person's browser does. In managed and interactive mode no answer earns a token while one
# of them stands (humangate/loop/answer.py); score mode reports them with a low score.
AUTOMATION_REASONS = frozenset(
    {
        "automation-flag",
        "headless-browser",
        "devtools-protocol",
        "automation-globals",
        "hidden-automation",
        "platform-mismatch",
        "gpu-mismatch",
        "client-hints-mismatch",
        "permission-mismatch",
        "pow-too-fast",
    }
)


def declares_automation(reasons: Iterable[str]) -> bool:
    """Whether any of `reasons` is one by which a browser declares automation."""
    return not AUTOMATION_REASONS.isdisjoint(reasons)
