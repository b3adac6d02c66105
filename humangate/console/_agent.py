"""A coarse label for the browser behind a request ("Chrome on Linux")."""

from __future__ import annotations

from humangate.console._i18n import N_


def device_label(user_agent: str) -> str:
    """A coarse description such as "Chrome on Linux"; the raw User-Agent is never stored."""
    ua = user_agent.lower()
    browsers = (("edg/", "Edge"), ("firefox/", "Firefox"), ("chrome/", "Chrome"))
    browser = next((name for mark, name in browsers if mark in ua), None)
    if browser is None and "safari/" in ua:
        browser = "Safari"
    systems = (
        ("android", "Android"),
        ("iphone", "iOS"),
        ("ipad", "iOS"),
        ("windows", "Windows"),
        ("mac os", "macOS"),
        ("linux", "Linux"),
    )
    system = next((name for mark, name in systems if mark in ua), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or N_("Unknown device")
