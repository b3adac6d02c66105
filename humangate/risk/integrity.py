"""Automation and integrity checks on the widget's environment summary: what automation tools
leave behind (a DevTools session, their globals, patched built-ins) and facts that contradict
each other as no person's browser does (the operating system named by the User-Agent, UA client
hints, `navigator.platform` and the WebGL driver; the window against the screen; the hardware).

Pure functions of the summary (keys in humangate/risk/environment.py's table) and the header
User-Agent; each returns whether its rule fires. Only families are compared (Windows, Apple,
Linux with Android and ChromeOS), so that "request desktop site", iPadOS's desktop mode, WSL and
Asahi Linux, which mix names within one family, stay consistent.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping

from humangate.text import is_ascii_digits

WINDOW_SLACK = 32  # CSS px: maximised Windows windows overhang the screen by 8 px a side
# Names a stealth script patches to hide automation; patching them has no other use. A fresh
# frame's Error.prepareStackTrace that is an accessor or refuses a value only hides the DevTools
# probe; a worker at another URL than the one the widget made was rewritten on its way, and one
# whose first line is not where the engine places its first error ran code in front of it.
HIDING_PATCHES = frozenset(
    {"webdriver", "brands", "prepareStackTrace", "worker-url", "worker-tampered"}
)
# Facts a dedicated worker (a realm no page or frame init script reaches) reports otherwise than
# the page: its UA and platform. Extensions that spoof the page's navigator miss workers too.
WORKER_MISMATCHES = frozenset({"worker-ua", "worker-platform"})
WORKER_BRANDS = "worker-brands"  # the worker's client hints brands differ from the page's
NO_WORKER = "worker-none"  # no worker started, and the page's CSP did not forbid it
_NOT_PRIVACY_PATCHES = HIDING_PATCHES | WORKER_MISMATCHES | {WORKER_BRANDS, NO_WORKER}
_PERMISSION_STATES = {"granted", "denied", "prompt"}
_MEMORY_STEPS = {0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0}
_CHROME_MAJOR = re.compile(r"(?:Headless)?Chrom(?:e|ium)/(\d+)")
# Driver names only one family's WebGL stack prints: Direct3D on Windows; Apple's OpenGL
# ("... OpenGL Engine", vendor "Intel Inc."), Metal and Apple GPUs on macOS and iOS. Mesa is
# Linux's (WSL's d3d12 driver and Asahi's Apple GPUs included), so it vetoes both.
_GPU_FAMILIES = (
    ("windows", re.compile(r"direct3d|\bd3d(9|11)\b")),
    ("apple", re.compile(r"opengl engine|metal renderer|apple gpu|\bapple m\d|intel inc\.")),
)


def text(env: Mapping[str, object], key: str) -> str | None:
    value = env.get(key)
    return value if isinstance(value, str) else None


def number(env: Mapping[str, object], key: str) -> float | None:
    value = env.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def pair(env: Mapping[str, object], key: str) -> tuple[float, float] | None:
    value = env.get(key)
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    first, second = number({"v": value[0]}, "v"), number({"v": value[1]}, "v")
    return None if first is None or second is None else (first, second)


def codes(env: Mapping[str, object], key: str) -> set[str]:
    value = env.get(key)
    if not isinstance(value, list | tuple):
        return set()
    return {item for item in value if isinstance(item, str)}


def ua_family(ua: str) -> str | None:
    """The operating system family a User-Agent names, or None when it names none we know."""
    if re.search(r"iPhone|iPad|iPod|Macintosh|Mac OS X", ua):
        return "apple"
    if re.search(r"Android|CrOS|Linux|X11; Ubuntu", ua):
        return "linux"
    if "Windows" in ua:
        return "windows"
    return None


def platform_family(platform: str) -> str | None:
    """The family of `navigator.platform` ("Win32", "MacIntel", "iPhone", "Linux x86_64")."""
    if platform.startswith("Win"):
        return "windows"
    if platform.startswith(("Mac", "iPhone", "iPad", "iPod")):
        return "apple"
    if platform.startswith(("Linux", "Android")):
        return "linux"
    return None


def hints_family(platform: str) -> str | None:
    """The family of the UA client hints' platform ("Windows", "macOS", "Android", "Linux")."""
    name = platform.lower().replace(" ", "")
    if name == "windows":
        return "windows"
    if name in ("macos", "ios"):
        return "apple"
    if name in ("linux", "android", "chromeos", "chromiumos"):
        return "linux"
    return None


def gpu_family(renderer: str, vendor: str = "") -> str | None:
    """The family whose driver printed this WebGL renderer and vendor, when only one can."""
    driver = f"{renderer} {vendor}".lower()
    if "mesa" in driver or "asahi" in driver:
        return None
    for family, pattern in _GPU_FAMILIES:
        if pattern.search(driver):
            return family
    return None


def platform_mismatch(env: Mapping[str, object], user_agent: str) -> bool:
    """The User-Agent, `navigator.platform` and the client hints name different families."""
    ua = text(env, "ua") or user_agent
    families = {
        ua_family(ua) if ua else None,
        platform_family(text(env, "plat") or ""),
        hints_family(text(env, "uap") or ""),
    }
    families.discard(None)
    return len(families) > 1


def gpu_mismatch(env: Mapping[str, object], user_agent: str) -> bool:
    """The WebGL driver belongs to another family than the one the browser claims."""
    gpu = gpu_family(text(env, "webgl") or "", text(env, "glv") or "")
    if gpu is None:
        return False
    ua = text(env, "ua") or user_agent
    claimed = {ua_family(ua) if ua else None, platform_family(text(env, "plat") or "")}
    claimed.discard(None)
    return bool(claimed) and claimed != {gpu}


def _brand_major(brands: set[str]) -> int | None:
    """The Chromium (else Google Chrome) major version of the client hints' brands."""
    for name in ("Chromium", "Google Chrome"):
        for brand in brands:
            head, _, version = brand.rpartition("/")
            if head == name and is_ascii_digits(version):
                return int(version)
    return None


def hints_mismatch(env: Mapping[str, object], user_agent: str) -> bool:
    """The UA client hints contradict the User-Agent: hints from a browser whose UA says
    Firefox or Safari (which have none), another Chromium version, or another device class; or
    a worker's brands differ from the page's (a DevTools UA override without its metadata leaves
    workers an empty list)."""
    if WORKER_BRANDS in codes(env, "patched"):
        return True
    brands = codes(env, "uab")
    ua = text(env, "ua") or user_agent
    if not brands or not ua:
        return False
    match = _CHROME_MAJOR.search(ua)
    if match is None:
        return "Firefox/" in ua or ("Safari/" in ua and "Version/" in ua)
    major = _brand_major(brands)
    if major is not None and major != int(match.group(1)):
        return True
    mobile = env.get("uam")
    if not isinstance(mobile, bool):
        return False
    phone_ua = "Android" in ua and "Mobile" in ua
    desktop_ua = not re.search(r"Android|Mobile|iPhone|iPad", ua)
    return (mobile and desktop_ua) or (not mobile and phone_ua)


def headless_brand(env: Mapping[str, object]) -> bool:
    """A client hints brand that headless Chrome prints ("HeadlessChrome")."""
    return any("headless" in brand.lower() for brand in codes(env, "uab"))


def hiding_automation(env: Mapping[str, object], user_agent: str) -> bool:
    """A built-in that only hiding automation patches (the webdriver flag, the client hints'
    brands), or a Chromium without `navigator.webdriver`."""
    patched = codes(env, "patched")
    ua = text(env, "ua") or user_agent
    chromium = "Chrome/" in ua or "Chromium/" in ua
    return bool(patched & HIDING_PATCHES) or ("webdriver-gone" in patched and chromium)


def other_patches(env: Mapping[str, object]) -> bool:
    """Other built-ins whose source is not native; privacy extensions patch some of them."""
    return bool(codes(env, "patched") - _NOT_PRIVACY_PATCHES - {"webdriver-gone"})


def worker_mismatch(env: Mapping[str, object]) -> bool:
    """A dedicated worker names another User-Agent or platform than the page."""
    return not WORKER_MISMATCHES.isdisjoint(codes(env, "patched"))


def no_worker(env: Mapping[str, object]) -> bool:
    """No dedicated worker started although the page's CSP allowed it."""
    return NO_WORKER in codes(env, "patched")


def permission_mismatch(env: Mapping[str, object]) -> bool:
    """The Permissions API's notification state is no state at all ("default" is
    `Notification.permission`'s word, which forged answers copy) or contradicts a grant."""
    state, permission = text(env, "nperm"), text(env, "perm")
    if state is None:
        return False
    if state not in _PERMISSION_STATES:
        return True
    return permission is not None and (permission == "granted") != (state == "granted")


def window_exceeds_screen(env: Mapping[str, object]) -> bool:
    """The browser window is larger than its screen (beyond a maximised window's overhang)."""
    outer, screen = pair(env, "outer"), pair(env, "scr")
    if outer is None or screen is None or 0 in screen:
        return False
    return outer[0] > screen[0] + WINDOW_SLACK or outer[1] > screen[1] + WINDOW_SLACK


def implausible_memory(env: Mapping[str, object]) -> bool:
    """`navigator.deviceMemory` is always one of its rounded steps; anything else is forged."""
    memory = number(env, "mem")
    return memory is not None and memory not in _MEMORY_STEPS


def server_hardware(env: Mapping[str, object]) -> bool:
    """Two logical cores or fewer with 16 GB or more: a cloud machine's shape, rare in homes."""
    cores, memory = number(env, "hc"), number(env, "mem")
    return cores is not None and memory is not None and 0 < cores <= 2 and memory >= 16


# A device class (the fixed canvas drawing's hash with the WebGL renderer and vendor) seen from
# this many distinct networks on one unit within DEVICE_CLASS_WINDOW, and making up at least
# DEVICE_CLASS_SHARE of all the networks the unit saw there, is one build run many times over:
# headless farms share one software-rendered canvas. Desktop classes are many (GPU, driver,
# system fonts and anti-aliasing), so a dozen networks with one class is rare among people, and
# the share keeps a busy unit's most common office laptop below it. Phones are left out: every
# iPhone of one model and iOS version draws the same pixels with an "Apple GPU".
DEVICE_CLASS_WINDOW = 600  # seconds
DEVICE_CLASS_NETWORKS = 12
DEVICE_CLASS_SHARE = 0.25


def device_class(env: Mapping[str, object]) -> str | None:
    """A short hash of what every copy of one browser build on one machine type draws alike, or
    None when the widget sent no canvas hash."""
    canvas = text(env, "canvas")
    if not canvas:
        return None
    parts = (canvas, text(env, "webgl") or "", text(env, "glv") or "")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def shared_device_class(class_networks: int, unit_networks: int, *, mobile: bool) -> bool:
    """Whether a desktop device class was seen from too many of the unit's networks at once."""
    if mobile or class_networks < DEVICE_CLASS_NETWORKS:
        return False
    return class_networks >= DEVICE_CLASS_SHARE * unit_networks
