"""Environment rules: each fires on a made-up bot environment and on no real browser's."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from humangate.risk._rules import WEIGHTS_DIR, load_rules
from humangate.risk.environment import (
    AUTOMATION_REASONS,
    Region,
    RegionTable,
    RequestFacts,
    declares_automation,
    environment_findings,
    preferred_language,
    zone_offsets,
)


def test_the_time_zone_database_is_present() -> None:
    """tzdata is a dependency, so the time-zone rules always have zones to compare."""
    assert zone_offsets("Europe/Berlin") == frozenset({60, 120})


CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# Real browsers as their widget would report them, with the headers the same browser sends.
REAL: dict[str, tuple[dict[str, Any], RequestFacts]] = {
    "chrome-windows": (
        {
            "wd": False, "ua": CHROME_UA, "lang": "en-GB", "langs": 3, "tz": "Europe/London",
            "tzo": 0, "scr": [1920, 1080], "avail": [1920, 1032], "dpr": 1, "touch": 0, "hc": 8,
            "mem": 8, "plugins": 5, "canvas": "3f9a0c1d2e4b5a69",
            "webgl": "ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002503) Direct3D11 vs_5_0 p",
            "chrome": True, "perm": "default", "outer": [1920, 1032],
            "glv": "Google Inc. (NVIDIA)", "plat": "Win32", "uap": "Windows", "uam": False,
            "uab": ["Google Chrome/131", "Chromium/131", "Not_A Brand/24"], "nperm": "prompt",
            "inner": [1920, 945], "cdp": False, "auto": [], "patched": [], "rt": False,
        },
        RequestFacts(CHROME_UA, "en-GB,en-US;q=0.9,en;q=0.8", "81.2.69.0/24"),
    ),
    "firefox-linux": (
        {
            "wd": False, "ua": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 "
            "Firefox/133.0", "lang": "de-DE", "langs": 3, "tz": "Europe/Berlin", "tzo": -60,
            "scr": [2560, 1440], "avail": [2560, 1412], "dpr": 1, "touch": 0, "hc": 16,
            "plugins": 5, "canvas": "77c0a1b2c3d4e5f6", "webgl": "Intel(R) HD Graphics",
            "chrome": False, "perm": "default", "outer": [1280, 1412],
            "glv": "Intel", "plat": "Linux x86_64", "nperm": "prompt", "inner": [1280, 1320],
            "cdp": False, "auto": [], "patched": [],
        },
        RequestFacts(
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "de-DE,de;q=0.8,en-US;q=0.5,en;q=0.3",
            "91.64.12.0/24",
        ),
    ),
    "safari-macos": (
        {
            "wd": False, "ua": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
            "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "lang": "fr-FR", "langs": 2, "tz": "Europe/Paris", "tzo": -120, "scr": [1512, 982],
            "avail": [1512, 944], "dpr": 2, "touch": 0, "hc": 8, "plugins": 5,
            "canvas": "0123456789abcdef", "webgl": "Apple GPU", "chrome": False,
            "perm": "default", "outer": [1512, 944],
            "glv": "Apple Inc.", "plat": "MacIntel", "nperm": "prompt", "inner": [1512, 860],
        },
        RequestFacts(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "fr-FR,fr;q=0.9",
            "90.84.0.0/24",
        ),
    ),
    "safari-iphone": (
        {
            "wd": False, "ua": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) "
            "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "lang": "en-US", "langs": 1, "tz": "America/New_York", "tzo": 300,
            "scr": [390, 844], "avail": [390, 844], "dpr": 3, "touch": 5, "hc": 4, "plugins": 0,
            "canvas": "fedcba9876543210", "webgl": "Apple GPU", "chrome": False,
            "outer": [390, 664],
            "glv": "Apple Inc.", "plat": "iPhone", "inner": [390, 664], "patched": [],
        },
        RequestFacts(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "en-US,en;q=0.9",
            "2600:1700:abcd:1::/64",
        ),
    ),
    "chrome-android": (
        {
            "wd": False, "ua": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "lang": "pt-BR", "langs": 4,
            "tz": "America/Sao_Paulo", "tzo": 180, "scr": [412, 915], "avail": [412, 915],
            "dpr": 2.625, "touch": 5, "hc": 8, "mem": 4, "plugins": 0,
            "canvas": "a1a2a3a4a5a6a7a8", "webgl": "Adreno (TM) 618", "chrome": True,
            "perm": "default", "outer": [412, 839],
            "glv": "Qualcomm", "plat": "Linux armv81", "uap": "Android", "uam": True,
            "uab": ["Chromium/131", "Google Chrome/131", "Not_A Brand/24"], "nperm": "prompt",
            "inner": [412, 839], "cdp": False,
        },
        RequestFacts(
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7",
            "177.12.40.0/24",
        ),
    ),
    # resistFingerprinting: UTC, a letterboxed window reported as the screen, no GPU name.
    "firefox-resist-fingerprinting": (
        {
            "wd": False, "ua": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) "
            "Gecko/20100101 Firefox/128.0", "lang": "en-US", "langs": 2, "tz": "UTC", "tzo": 0,
            "scr": [1400, 900], "avail": [1400, 900], "dpr": 1, "touch": 0, "hc": 2,
            "plugins": 5, "canvas": "0000000000000000", "webgl": "", "chrome": False,
            "perm": "default", "outer": [1400, 900],
            "glv": "", "plat": "Win32", "nperm": "prompt", "inner": [1400, 900],
        },
        RequestFacts(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "en-US,en;q=0.5",
            "185.220.101.0/24",
        ),
    ),
}  # fmt: skip


def _chromium(ua_os: str, **env: Any) -> tuple[dict[str, Any], RequestFacts]:
    """A Chromium on another system, as its widget reports it (the Windows Chrome's facts
    otherwise)."""
    ua = CHROME_UA.replace("Windows NT 10.0; Win64; x64", ua_os)
    base = {**REAL["chrome-windows"][0], "ua": ua}
    return {**base, **env}, RequestFacts(ua, "en-GB,en;q=0.9", "81.2.69.0/24")


REAL.update(
    {
        "chrome-macos": _chromium(
            "Macintosh; Intel Mac OS X 10_15_7", plat="MacIntel", uap="macOS", dpr=2,
            scr=[1512, 982], avail=[1512, 944], outer=[1512, 944], inner=[1512, 830],
            webgl="ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)",
            glv="Google Inc. (Apple)",
        ),
        "chrome-intel-mac": _chromium(
            "Macintosh; Intel Mac OS X 10_15_7", plat="MacIntel", uap="macOS",
            webgl="ANGLE (Intel Inc., Intel(R) Iris(TM) Plus Graphics OpenGL Engine, OpenGL 4.1)",
            glv="Google Inc. (Intel Inc.)",
        ),
        "chrome-linux": _chromium(
            "X11; Linux x86_64", plat="Linux x86_64", uap="Linux", hc=8, mem=8,
            webgl="ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)",
            glv="Google Inc. (Intel)",
        ),
        # Chrome under WSL: a Linux browser drawing through Windows' Direct3D 12 by Mesa.
        "chrome-wsl": _chromium(
            "X11; Linux x86_64", plat="Linux x86_64", uap="Linux",
            webgl="ANGLE (Microsoft Corporation, D3D12 (NVIDIA GeForce RTX 3070), OpenGL 4.2 "
            "(Core Profile) Mesa 23.2.1)"[:64],
            glv="Google Inc. (Microsoft Corporation)",
        ),
        # Android's "request desktop site": a Linux desktop UA, the hints still say Android.
        "chrome-android-desktop-site": _chromium(
            "X11; Linux x86_64", plat="Linux armv81", uap="Android", uam=False, touch=5,
            plugins=5, webgl="Adreno (TM) 640", glv="Qualcomm", scr=[412, 915],
            avail=[412, 915], outer=[412, 839], inner=[980, 1995], mem=8, dpr=2.63,
        ),
        # A maximised window on Windows overhangs the screen by 8 px a side.
        "edge-windows-maximised": _chromium(
            "Windows NT 10.0; Win64; x64", outer=[1936, 1048],
            uab=["Microsoft Edge/131", "Chromium/131", "Not_A Brand/24"],
        ),
    }
)  # fmt: skip


def reasons(env: dict[str, Any] | None, request: RequestFacts) -> set[str]:
    return {finding.reason for finding in environment_findings(env, request)}


def chrome(**changes: Any) -> tuple[dict[str, Any], RequestFacts]:
    env, request = REAL["chrome-windows"]
    return {**env, **changes}, request


@pytest.mark.parametrize("browser", sorted(REAL))
def test_no_rule_fires_on_a_real_browser(browser: str) -> None:
    env, request = REAL[browser]
    assert environment_findings(env, request) == []


# One hand-made trip per rule, each a single change to the real Chrome above.
TRIPS: list[tuple[dict[str, Any], str]] = [
    ({"wd": True}, "automation-flag"),
    ({"ua": CHROME_UA.replace("Chrome/", "HeadlessChrome/")}, "headless-browser"),
    ({"ua": CHROME_UA.replace("131.0.0.0", "120.0.0.0")}, "user-agent-mismatch"),
    ({"lang": "ru-RU"}, "language-mismatch"),
    ({"langs": 0}, "no-languages"),
    ({"scr": [0, 0], "avail": [0, 0]}, "impossible-screen"),
    ({"scr": [800, 600], "avail": [1920, 1080]}, "impossible-screen"),
    ({"dpr": 0}, "impossible-screen"),
    ({"outer": [0, 0]}, "no-window"),
    ({"chrome": False}, "browser-mismatch"),
    ({"webgl": "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))"}, "software-renderer"),
    ({"webgl": "llvmpipe (LLVM 15.0.7, 256 bits)"}, "software-renderer"),
    ({"plugins": 0}, "no-plugins"),
    ({"uab": ["HeadlessChrome/131", "Chromium/131"]}, "headless-browser"),
    ({"cdp": True}, "devtools-protocol"),
    ({"auto": ["playwright"]}, "automation-globals"),
    ({"auto": ["cdc"]}, "automation-globals"),
    ({"patched": ["webdriver"]}, "hidden-automation"),
    ({"patched": ["webdriver-gone"]}, "hidden-automation"),
    ({"patched": ["platform"]}, "patched-natives"),
    ({"patched": ["getParameter"]}, "patched-natives"),
    ({"patched": ["prepareStackTrace"]}, "hidden-automation"),
    ({"patched": ["worker-url"]}, "hidden-automation"),
    ({"patched": ["worker-brands"]}, "client-hints-mismatch"),
    ({"patched": ["worker-ua"]}, "worker-mismatch"),
    ({"patched": ["worker-platform"]}, "worker-mismatch"),
    ({"patched": ["worker-none"]}, "no-worker"),
    ({"plat": "Linux x86_64"}, "platform-mismatch"),
    ({"uap": "macOS"}, "platform-mismatch"),
    ({"webgl": "Intel Iris OpenGL Engine", "glv": "Intel Inc."}, "gpu-mismatch"),
    ({"uab": ["Google Chrome/120", "Chromium/120", "Not_A Brand/24"]}, "client-hints-mismatch"),
    ({"uam": True}, "client-hints-mismatch"),
    ({"nperm": "default"}, "permission-mismatch"),
    ({"perm": "granted"}, "permission-mismatch"),
    ({"outer": [2560, 1440]}, "window-exceeds-screen"),
    ({"mem": 6}, "implausible-memory"),
    ({"hc": 2, "mem": 16}, "server-hardware"),
]


@pytest.mark.parametrize(("changes", "reason"), TRIPS)
def test_each_rule_fires_on_an_environment_made_to_trip_it(
    changes: dict[str, Any], reason: str
) -> None:
    env, request = chrome(**changes)
    assert reason in reasons(env, request)
    assert declares_automation({reason}) is (reason in AUTOMATION_REASONS)


def test_every_environment_rule_in_the_file_is_tripped_by_some_test() -> None:
    elsewhere = {"no-environment", "timezone-mismatch", "timezone-region-mismatch"}
    tripped = {reason for _, reason in TRIPS} | elsewhere
    file = json.loads((WEIGHTS_DIR / "rules-v1.json").read_text())
    assert tripped == set(file["environment"])
    # Every automation reason has a weight (environment or proof of work), strong enough that
    # score mode reports a low score.
    weights = load_rules().weights
    assert all(weights[reason] <= -3 for reason in AUTOMATION_REASONS)


def test_a_headless_header_fires_even_without_an_environment() -> None:
    request = RequestFacts(user_agent=CHROME_UA.replace("Chrome/", "HeadlessChrome/"))
    assert reasons(None, request) == {"no-environment", "headless-browser"}
    assert reasons({}, RequestFacts(user_agent=CHROME_UA)) == {"no-environment"}


def test_weights_come_from_the_rules_file() -> None:
    env, request = chrome(wd=True)
    (finding,) = environment_findings(env, request)
    assert finding.weight == load_rules().weights["automation-flag"] < 0


def test_a_firefox_or_safari_ua_on_a_browser_with_window_chrome_is_a_mismatch() -> None:
    for name in ("firefox-linux", "safari-macos"):
        env, request = REAL[name]
        assert "browser-mismatch" in reasons({**env, "chrome": True}, request)
    # iOS browsers, Android WebView and Electron never define window.chrome: no mismatch.
    env, request = REAL["safari-iphone"]
    assert "browser-mismatch" not in reasons({**env, "chrome": True}, request)
    webview = REAL["chrome-android"][0]["ua"].replace("; K)", "; K; wv)")
    env, request = REAL["chrome-android"]
    assert reasons({**env, "ua": webview, "chrome": False}, RequestFacts(webview)) == set()
    # Android browsers built on the system WebView may drop "; wv" and still lack window.chrome.
    assert "browser-mismatch" not in reasons({**env, "chrome": False}, request)


def test_mobile_and_touch_devices_are_exempt_from_no_plugins() -> None:
    env, request = chrome(plugins=0, touch=10)  # a tablet asking for the desktop site
    assert "no-plugins" not in reasons(env, request)


def test_language_compares_primary_tags_and_the_preferred_entry() -> None:
    env, request = chrome(lang="en-US")
    assert "language-mismatch" not in reasons(env, request)
    assert preferred_language("de;q=0.3, fr-CH, en;q=0.9") == "fr"
    assert preferred_language("*") is None
    env, request = chrome(lang="nb-NO")
    assert "language-mismatch" not in reasons(env, replace(request, accept_language="no,en;q=0.5"))
    assert preferred_language("") is None


def test_wrongly_typed_values_are_ignored_not_evidence() -> None:
    env, request = chrome(wd="true", scr="0x0", outer=[0], langs=True, tzo="abc", dpr=float("inf"))
    assert reasons(env, request) == set()


@pytest.mark.parametrize(
    ("tz", "tzo", "fires"),
    [
        ("Europe/Berlin", -60, False),  # winter
        ("Europe/Berlin", -120, False),  # summer
        ("Europe/Berlin", 300, True),  # New York's offset in Berlin
        ("Asia/Kolkata", -330, False),
        ("Asia/Kolkata", -300, True),
        ("Australia/Adelaide", -570, False),
        ("Australia/Adelaide", -630, False),
        ("America/New_York", 240, False),
        ("UTC", 0, False),
        ("Mars/Olympus_Mons", 0, False),  # unknown zone: no judgement
        ("../../etc/passwd", 0, False),
    ],
)
def test_timezone_offset_must_be_one_the_zone_has_during_the_year(
    tz: str, tzo: int, fires: bool
) -> None:
    env, request = chrome(tz=tz, tzo=tzo)
    assert ("timezone-mismatch" in reasons(env, request)) is fires


def test_timezone_region_rule_needs_a_region_and_allows_any_offset_of_the_zone() -> None:
    env, request = chrome(tz="Europe/Berlin", tzo=-60)
    assert "timezone-region-mismatch" not in reasons(env, request)  # no region table
    germany = RequestFacts(CHROME_UA, "en-GB", "192.0.2.0/24", Region("DE", frozenset({60})))
    assert "timezone-region-mismatch" not in reasons(env, germany)
    summer = {**env, "tzo": -120}  # the table lists only standard time: still no finding
    assert "timezone-region-mismatch" not in reasons(summer, germany)
    japan = RequestFacts(CHROME_UA, "en-GB", "192.0.2.0/24", Region("JP", frozenset({540})))
    assert "timezone-region-mismatch" in reasons(env, japan)


REGIONS = """\
cidr,country,utc_offsets_minutes
# documentation ranges
192.0.2.0/24,DE,60|120
192.0.2.128/25,jp,540
2001:db8::/32,US,-300|-240|-360
"""


def test_region_table_looks_up_the_longest_prefix() -> None:
    table = RegionTable.parse(REGIONS)
    assert len(table) == 3
    assert table.lookup("192.0.2.1") == Region("DE", frozenset({60, 120}))
    assert table.lookup("192.0.2.200") == Region("JP", frozenset({540}))
    assert table.lookup("192.0.2.0/24") == Region("DE", frozenset({60, 120}))
    assert table.lookup("::ffff:192.0.2.1") == Region("DE", frozenset({60, 120}))
    assert table.lookup("2001:db8:1::5") == Region("US", frozenset({-300, -240, -360}))
    assert table.lookup("198.51.100.1") is None
    assert table.lookup("not an ip") is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("192.0.2.0/24,DE", "expected 3 comma-separated fields"),
        ("192.0.2.0/24,DE,60,extra", "expected 3"),
        ("192.0.2.0/33,DE,60", "is not a network"),
        ("example.com,DE,60", "is not a network"),
        ("192.0.2.0/24,Germany,60", "two-letter"),
        ("192.0.2.0/24,DE,", "not whole minutes"),
        ("192.0.2.0/24,DE,1h", "not whole minutes"),
        ("192.0.2.0/24,DE,900", "outside -720..840"),
    ],
)
def test_region_table_rejects_bad_lines_naming_them(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        RegionTable.parse(f"# header comment\n{line}\n")
    assert str(error.value).startswith("Line 2:")


def test_region_table_rejects_duplicates_after_normalising() -> None:
    with pytest.raises(ValueError, match="Line 2: 192.0.2.0/24 is already on line 1"):
        RegionTable.parse("192.0.2.0/24,DE,60\n192.0.2.9/24,DE,60\n")


# What the widget reported through Playwright in Debian's chromium 156 (tests/browser/
# test_automation.py drives the same levels): the stock stealth package's facts.
STEALTH_LINUX = {
    "wd": False, "ua": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36", "plat": "Win32", "uab": ["Not:A-Brand/8", "Chromium/156"],
    "uap": "Linux", "uam": False, "webgl": "Intel Iris OpenGL Engine", "glv": "Intel Inc.",
    "perm": "default", "nperm": "default", "cdp": True, "auto": [], "hc": 2, "mem": 16,
    "patched": ["webdriver", "brands", "platform", "userAgent"], "scr": [1280, 720],
    "outer": [1280, 720], "avail": [1280, 720], "chrome": True, "plugins": 5, "langs": 2,
}  # fmt: skip


def test_the_stock_stealth_package_contradicts_itself_many_times_over() -> None:
    found = reasons(STEALTH_LINUX, RequestFacts(str(STEALTH_LINUX["ua"])))
    assert {
        "devtools-protocol", "hidden-automation", "platform-mismatch", "gpu-mismatch",
        "permission-mismatch", "patched-natives", "server-hardware",
    } <= found  # fmt: skip
    # Each of the automation reasons alone would refuse it.
    for reason in found & AUTOMATION_REASONS:
        assert declares_automation({reason})


def test_client_hints_under_a_firefox_or_safari_ua_are_a_spoofed_ua() -> None:
    for name in ("firefox-linux", "safari-macos"):
        env, request = REAL[name]
        hinted = {**env, "uab": ["Chromium/131"], "uap": env.get("uap", "Linux")}
        assert "client-hints-mismatch" in reasons(hinted, request)
    # A tablet's Chrome: no "Mobile" in its UA, and the hints say so too.
    env, request = REAL["chrome-android"]
    tablet = env["ua"].replace(" Mobile", "")
    assert "client-hints-mismatch" not in reasons({**env, "ua": tablet, "uam": False}, request)
    assert "client-hints-mismatch" in reasons({**env, "uam": False}, request)


@pytest.mark.parametrize(
    ("system", "renderer", "fires"),
    [
        ("X11; Linux x86_64", "ANGLE (NVIDIA, GeForce GTX 1050 Direct3D11 vs_5_0 ps_5_0)", True),
        ("Windows NT 10.0; Win64; x64", "ANGLE (Apple, ANGLE Metal Renderer: Apple M1)", True),
        ("X11; Linux x86_64", "ANGLE (Mesa, Apple M1 (G13G B1), OpenGL 4.6)", False),  # Asahi
        ("Macintosh; Intel Mac OS X 10_15_7", "Apple M1, or similar", False),  # Firefox's
        ("Windows NT 10.0; Win64; x64", "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))", False),
        ("X11; Linux x86_64", "Mozilla", False),  # masked
    ],
)  # fmt: skip
def test_gpu_drivers_belong_to_one_system_family(system: str, renderer: str, fires: bool) -> None:
    env, request = REAL["chrome-linux"]
    ua = CHROME_UA.replace("Windows NT 10.0; Win64; x64", system)
    plat = {"X": "Linux x86_64", "W": "Win32", "M": "MacIntel"}[system[0]]
    changed = {**env, "ua": ua, "webgl": renderer, "glv": "", "plat": plat, "uap": ""}
    assert ("gpu-mismatch" in reasons(changed, RequestFacts(ua))) is fires


def test_a_missing_webdriver_only_counts_on_chromium() -> None:
    env, request = REAL["safari-iphone"]
    assert "hidden-automation" not in reasons({**env, "patched": ["webdriver-gone"]}, request)
