"""Browser tests: the real server in a subprocess, driven through Debian's chromium by Playwright.

Fixtures (package scope, so that they end with this folder's tests: Playwright's sync API keeps
an event loop running in the main thread, which would break later pytest-asyncio tests):
    hg_server   the running server: `.url`, `.redis_url`, `.env` (for the CLI on its database)
    redis_db    a synchronous Redis client on the server's store, to read private answers
    host_site   a second HTTP server on another origin, for host pages (`host_site.page(...)`)
    unit_for    `unit_for("click")`: the site key of an interactive unit of that visual kind
    browser     headless /usr/bin/chromium; no browser is ever downloaded
    page        a fresh light-scheme page that fails the test on any uncaught page error (function)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser._host import HostSite
from tests.live import create_unit_cli, humangate_env, running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The widget tests play a person, so they hide what automation announces (navigator.webdriver,
# "HeadlessChrome"): otherwise the risk engine rightly refuses them. tests/browser/test_risk.py
# also plays bots, with those announcements left in place.
PERSON_ARGS = ["--disable-blink-features=AutomationControlled"]
# The operator's own automation: where the widget tests' browsers come from.
MONITORED = "127.0.0.1/32,::1/128"


def person_user_agent(browser) -> str:
    major = browser.version.split(".")[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


@dataclass(frozen=True)
class Server:
    url: str
    redis_url: str
    env: dict[str, str]


@pytest.fixture(scope="package")
def hg_server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Run `humangate serve` with the demo unit, its store in the test Redis."""
    # The widget tests' browsers are this operator's own automation: judged on their gestures,
    # answers and work like a person, not refused for the CDP session Playwright drives them by.
    with own_server(redis_url, tmp_path_factory, "hg", monitoring_networks=MONITORED) as live:
        yield live


# Each server of this package keeps its store in a Redis database of its own. Units are numbered
# per server, so two servers on one database would count each other's challenges and failures
# under the same unit ids (and a busy or failing network lowers the risk engine's judgement).
# Database 0 belongs to the tests outside this package.
REDIS_DATABASES = {
    "strict": 1,
    "billing-journey": 2,
    "billing-widget": 3,
    "risk": 4,
    "shims-managed": 5,
    "hg": 6,
    "console": 7,
}


def redis_database(redis_url: str, name: str) -> str:
    return f"{redis_url.rsplit('/', 1)[0]}/{REDIS_DATABASES[name]}"


@contextmanager
def own_server(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[Server]:
    """`humangate serve` on data of its own and on the Redis database named `name`."""
    own_redis = redis_database(redis_url, name)
    env = humangate_env(tmp_path_factory.mktemp(f"hg-{name}"), redis_url=own_redis, **settings)
    with running_server(env) as live:
        yield Server(url=live.url, redis_url=own_redis, env=live.env)


@pytest.fixture(scope="package")
def strict_server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`humangate serve` as any operator runs it: automation from anywhere is refused."""
    with own_server(redis_url, tmp_path_factory, "strict") as live:
        yield live


@pytest.fixture(scope="package")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.close()


@pytest.fixture(scope="package")
def unit_for(hg_server: Server):
    """Site keys of interactive units (127.0.0.1 and localhost), created with the CLI, by kind."""
    made: dict[str, str] = {}

    def sitekey(kind: str) -> str:
        if kind not in made:
            unit = create_unit_cli(
                hg_server.env,
                "--domain", "127.0.0.1", "--domain", "localhost",
                "--mode", "interactive", "--kind", kind,
            )  # fmt: skip
            made[kind] = unit["sitekey"]
        return made[kind]

    return sitekey


@pytest.fixture(scope="package")
def redis_db(hg_server: Server):
    with store_of(hg_server) as client:
        yield client


@contextmanager
def store_of(server: Server) -> Iterator[Any]:
    """Direct access to a server's hot-state store (never through HTTP), for private answers."""
    import redis

    client = redis.Redis.from_url(server.redis_url, decode_responses=True)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"{CHROMIUM} is missing: run `apt-get install -y chromium` (never a downloaded build).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS + PERSON_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        color_scheme="light",
        viewport={"width": 520, "height": 800},
        user_agent=person_user_agent(browser),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
