"""Automation and stealth browsers against the real widget, in Debian's chromium via Playwright.

Evasion levels, each run N times through the widget on a host page:
    plain     headless Playwright as it comes
    flags     command-line flags only: AutomationControlled off, a clean UA, a desktop window
    evasions  the usual init script: navigator.webdriver hidden, plugins and languages faked,
              the UA (no "HeadlessChrome") and its client-hint brands fixed, WebGL vendor and
              renderer faked
    stealth   the stock `playwright-stealth` package from PyPI, as its use_sync() applies it
    bespoke   the flags plus one line aimed at the widget's DevTools probe (PROBE_EVASION):
              what someone who read the widget's source does
    quiet     what a reader of the next widget writes: console methods that drop Error
              arguments in every frame, a toString that calls every fake native, the UA by flag
              (QUIET_CONSOLE)
    worker-wrap  quiet, and every worker started through a blob that quiets its console first
              (WORKER_WRAP)
    blob-rewrite quiet, and those lines put in front of every script blob the page makes, so
              the worker keeps its URL (BLOB_REWRITE)
    post-forge   blob-rewrite, and the worker's answer forged to say where a clean worker's
              first error is placed, mixed with the page's number as the widget mixes it
              (POST_FORGE)
    no-worker quiet, and a Worker constructor that throws as a CSP would (NO_WORKER)

Per session, two visits: a score-mode unit says what the server concluded (siteverify's
`score_reasons`: "caught" when one of them is an automation reason), and a managed unit is
attacked as well as a bot can: a human-model drag (bench/risk/human.py) for the gesture and, when
a slide is asked, the right answer read from the server's Redis (an oracle solver, the upper
bound of any real one) dragged the same way. "token" counts the managed visits that got one.

    python -m bench.automation --n 10      # about 30 s a session on the 2-core machine

Prints the machine and a table with Wilson 95% intervals. Starts its own Redis and server.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._machine import facts
from bench.risk.train import wilson
from humangate.risk.environment import AUTOMATION_REASONS
from tests.browser._widget import (
    SLIDER,
    drag_handle,
    handle_centre,
    human_drag,
    is_answer,
    is_new_challenge,
    private_x,
)
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

LEVELS = (
    "plain",
    "flags",
    "evasions",
    "stealth",
    "bespoke",
    "quiet",
    "worker-wrap",
    "blob-rewrite",
    "post-forge",
    "no-worker",
)
# Error.prepareStackTrace made inert, so the DevTools session's console formatting runs none.
PROBE_EVASION = 'Object.defineProperty(Error, "prepareStackTrace", { get() {}, set() {} });'

# What a reader of the widget that catches PROBE_EVASION writes next, in every frame: console
# methods that drop Error arguments (so no stack is ever formatted, prepareStackTrace untouched)
# and a Function.prototype.toString that prints every replacement as native, across frames
# (one registry on the top window, so one frame's toString vouches for another frame's fakes).
QUIET_CONSOLE = r"""
(() => {
  const key = Symbol.for("natives");
  const names = top[key] || new WeakMap();
  if (!top[key]) Object.defineProperty(top, key, { value: names });
  const toString = Function.prototype.toString;
  const fake = new Proxy(toString, {
    apply(target, self, args) {
      const name = names.get(self);
      if (name !== undefined) return `function ${name}() { [native code] }`;
      return Reflect.apply(target, self, args);
    },
  });
  names.set(fake, "toString");
  Function.prototype.toString = fake;
  const isError = (a) => Object.prototype.toString.call(a) === "[object Error]";
  for (const k of ["debug", "log", "info", "warn", "error", "dir", "table", "trace"]) {
    const quiet = new Proxy(console[k], {
      apply: (target, self, args) => Reflect.apply(target, self, args.filter((a) => !isError(a))),
    });
    names.set(quiet, k);
    console[k] = quiet;
  }
})();
"""
# The same for a worker's one realm, as a string to put in front of its script.
_QUIET_WORKER = r"""{
  const names = new WeakMap();
  const fake = new Proxy(Function.prototype.toString, {
    apply: (target, self, args) =>
      names.has(self) ? "function " + names.get(self) + "() { [native code] }"
        : Reflect.apply(target, self, args),
  });
  names.set(fake, "toString");
  Function.prototype.toString = fake;
  const isError = (a) => Object.prototype.toString.call(a) === "[object Error]";
  for (const k of ["debug", "log", "info", "warn", "error", "dir", "table", "trace"]) {
    const quiet = new Proxy(console[k], {
      apply: (target, self, args) => Reflect.apply(target, self, args.filter((a) => !isError(a))),
    });
    names.set(quiet, k);
    console[k] = quiet;
  }
}"""
# ... and the same in every worker: the Worker constructor reads the script it is given and starts
# a copy of it, behind the lines that quiet the console, from a blob of its own.
WORKER_WRAP = r"""
(() => {
  const names = top[Symbol.for("natives")];
  const quiet = QUIET_WORKER;
  const Original = Worker;
  const Wrapped = new Proxy(Original, {
    construct(target, [url, options]) {
      const request = new XMLHttpRequest();
      request.open("GET", String(url), false);
      request.send();
      const copy = new Blob([`${quiet};\n${request.responseText}`]);
      return new target(URL.createObjectURL(copy), options);
    },
  });
  names.set(Wrapped, "Worker");
  self.Worker = Wrapped;
})();
"""
WORKER_WRAP = WORKER_WRAP.replace("QUIET_WORKER", json.dumps(_QUIET_WORKER))
# ... or, keeping the worker's URL, every script blob made on the page gets those lines first.
BLOB_REWRITE = r"""
(() => {
  const names = top[Symbol.for("natives")];
  const quiet = QUIET_WORKER;
  const Rewriting = new Proxy(Blob, {
    construct(target, [parts, options]) {
      const script = Array.isArray(parts) && parts.some((p) => /postMessage/.test(p));
      return new target(script ? [quiet, ";", ...parts] : parts, options);
    },
  });
  names.set(Rewriting, "Blob");
  self.Blob = Rewriting;
})();
"""
BLOB_REWRITE = BLOB_REWRITE.replace("QUIET_WORKER", json.dumps(_QUIET_WORKER))
# ... and past the widget's check of where its worker's first error is placed (a line in front
# moves it): the worker's answer says the place a clean worker gives, whatever was measured, and
# the widget's mix of that place with the page's random number, re-implemented (the number is
# read by a listener that runs before the worker's own).
_FORGED_PLACE = r"""{
  let seed = 0;
  self.addEventListener("message", (e) => { seed = e.data; });
  const mix = (seed, value) => {
    let x = seed >>> 0;
    for (const c of String(value)) x = Math.imul(x ^ c.charCodeAt(0), 16777619) >>> 0;
    return x;
  };
  const post = self.postMessage;
  self.postMessage = function (data, ...rest) {
    if (Array.isArray(data) && data.length == 7) {
      data[5] = [1, 18];
      data[6] = mix(seed, data[5]);
    }
    return post.call(this, data, ...rest);
  };
}"""
POST_FORGE = BLOB_REWRITE.replace(
    json.dumps(_QUIET_WORKER), json.dumps(_QUIET_WORKER + ";" + _FORGED_PLACE)
)
# ... or no worker at all: the constructor throws as a Content Security Policy would.
NO_WORKER = r"""
(() => {
  const names = top[Symbol.for("natives")];
  const Blocked = new Proxy(Worker, {
    construct() {
      throw new DOMException("Access denied by the document's CSP.", "SecurityError");
    },
  });
  names.set(Blocked, "Worker");
  self.Worker = Blocked;
})();
"""
# The steps past QUIET_CONSOLE, by level.
QUIET_NEXT = {
    "worker-wrap": WORKER_WRAP,
    "blob-rewrite": BLOB_REWRITE,
    "post-forge": POST_FORGE,
    "no-worker": NO_WORKER,
}

# The usual evasions, as bot tutorials give them (with the UA fixed by the context).
EVASIONS_SCRIPT = r"""
(() => {
  const N = Navigator.prototype;
  const define = (o, k, get) => Object.defineProperty(o, k, { get, configurable: true });
  define(N, "webdriver", () => false);
  define(N, "languages", () => ["en-US", "en"]);
  const plugins = ["Chrome PDF Viewer", "Chromium PDF Viewer", "Microsoft Edge PDF Viewer"]
    .map((name) => ({ name, filename: "internal-pdf-viewer", description: "" }));
  define(N, "plugins", () => plugins);
  const uad = navigator.userAgentData;
  if (uad) {
    const P = Object.getPrototypeOf(uad);
    const brands = Object.getOwnPropertyDescriptor(P, "brands").get;
    define(P, "brands", function () {
      const list = brands.call(this).filter((b) => !/Headless/.test(b.brand));
      const major = (list.find((b) => b.brand == "Chromium") || { version: "131" }).version;
      return list.concat([{ brand: "Google Chrome", version: major }]);
    });
  }
  const getParameter = WebGLRenderingContext.prototype.getParameter;
  WebGLRenderingContext.prototype.getParameter = function (p) {
    if (p === 37445) return "Intel Inc.";
    if (p === 37446) return "Intel Iris OpenGL Engine";
    return getParameter.call(this, p);
  };
})();
"""


def clean_user_agent() -> str:
    """Chromium's own Linux UA without "HeadlessChrome"."""
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    major = next(word for word in version.split() if word[:1].isdigit()).split(".")[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


def open_level(browser_type: Any, level: str) -> tuple[Any, Any]:
    """A browser and a context set up as `level` says; close the browser when done."""
    ua = clean_user_agent()
    if level == "plain":
        browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return browser, browser.new_context()
    if level == "flags":
        flags = [
            "--disable-blink-features=AutomationControlled",
            f"--user-agent={ua}",
            "--window-size=1920,1080",
            "--lang=en-US",
        ]
        browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + flags)
        return browser, browser.new_context(no_viewport=True)
    if level == "evasions":
        browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(user_agent=ua)
        context.add_init_script(EVASIONS_SCRIPT)
        return browser, context
    if level == "stealth":
        from playwright_stealth import Stealth

        # What Stealth().use_sync(sync_playwright()) does to each launch, for this launch only
        # (the hook on the whole Playwright object would reach other tests' browsers).
        launch = Stealth()._generate_hooked_method_that_returns_browser(browser_type.launch, True)
        browser = launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        return browser, browser.new_context()
    if level == "bespoke":
        flags = ["--disable-blink-features=AutomationControlled"]
        browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + flags)
        context = browser.new_context(user_agent=ua)
        context.add_init_script(PROBE_EVASION)
        return browser, context
    if level == "quiet" or level in QUIET_NEXT:
        # The UA by flag, not by the context: a DevTools override leaves workers no brands.
        flags = ["--disable-blink-features=AutomationControlled", f"--user-agent={ua}"]
        browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + flags)
        context = browser.new_context()
        context.add_init_script(QUIET_CONSOLE)
        if level in QUIET_NEXT:
            context.add_init_script(QUIET_NEXT[level])
        return browser, context
    raise ValueError(f"unknown level {level!r}")


@dataclass
class Outcome:
    """One visit: the first challenge's kind, whether a token came, siteverify's reasons."""

    first: str = ""
    token: bool = False
    reasons: list[str] = field(default_factory=list)
    message: str = ""  # what the widget told the person after a refusal

    @property
    def caught(self) -> bool:
        return not AUTOMATION_REASONS.isdisjoint(self.reasons)


def siteverify(hg_url: str, secret: str, token: str) -> dict[str, Any]:
    data = urllib.parse.urlencode({"secret": secret, "response": token}).encode()
    with urllib.request.urlopen(f"{hg_url}/siteverify", data, timeout=15) as reply:
        return dict(json.loads(reply.read()))


def widget_page(host_site: Any, hg_url: str, sitekey: str) -> str:
    widget = f"<div class=humangate data-sitekey={sitekey} data-callback=onToken></div>"
    return str(host_site.page(hg_url, widget))


def score_visit(context: Any, host_site: Any, hg_url: str, unit: dict[str, Any]) -> Outcome:
    """Let the widget solve a score-mode unit's proof of work; siteverify tells the reasons."""
    page = context.new_page()
    try:
        page.goto(widget_page(host_site, hg_url, unit["sitekey"]))
        page.wait_for_function("events.some((e) => e[0] == 'ok')", timeout=60_000)
        token = page.evaluate("events.find((e) => e[0] == 'ok')[1]")
        result = siteverify(hg_url, unit["secret"], token)
        return Outcome("pow", bool(result.get("success")), list(result.get("score_reasons", [])))
    finally:
        page.close()


def _gesture_travel(page: Any) -> float:
    track = page.locator(".humangate-widget .tr").bounding_box()
    handle = page.locator(SLIDER).bounding_box()
    return float(track["width"] - handle["width"] + 6)


def _told(page: Any) -> str:
    """What the widget says once it has settled after a refusal ("[state] message")."""
    settled = "['failed', 'error', 'puzzle'].includes(document.querySelector('.humangate-widget')"
    settled += ".shadowRoot.querySelector('.hg').dataset.state)"
    page.wait_for_function(settled, timeout=15_000)
    root = page.locator(".humangate-widget .hg")
    return f"[{root.get_attribute('data-state')}] {root.locator('.msg').text_content()}"


def managed_visit(context: Any, host_site: Any, hg_url: str, sitekey: str, redis: Any) -> Outcome:
    """Attack a managed unit as well as a bot can; did a token come?"""
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        with page.expect_response(is_new_challenge) as issued:
            page.goto(widget_page(host_site, hg_url, sitekey))
        challenge = issued.value.json()
        if "kind" not in challenge:  # refused outright (a limit): no token
            return Outcome(first=str(challenge.get("error", issued.value.status)))
        outcome = Outcome(first="check" if challenge.get("gesture") else challenge["kind"])
        for _step in range(2):
            page.locator(SLIDER).wait_for(state="visible")
            with page.expect_response(is_answer) as answered:
                if challenge["kind"] == "slide":
                    drag_handle(page, challenge["slide"], private_x(redis, challenge["id"]))
                else:
                    human_drag(page, handle_centre(page), _gesture_travel(page))
            reply = answered.value.json()
            if reply.get("success") and reply.get("token"):
                outcome.token = True
                break
            challenge = reply.get("next") or {}
            if challenge.get("kind") not in ("slide", "pow"):
                break
        if not outcome.token:
            outcome.message = _told(page)
        return outcome
    finally:
        page.close()


@contextmanager
def _system(workdir: Path) -> Iterator[tuple[str, Any, dict[str, str]]]:
    """Redis and the server (the API's per-network limit raised: all sessions share one IP, and
    this bench measures the verdict, not the limit); its URL, Redis and its environment."""
    import redis as redis_lib

    from bench._procs import redis_server
    from tests.live import humangate_env, running_server

    with redis_server(workdir) as redis_url:
        env = humangate_env(
            workdir / "data", redis_url=redis_url, rate_challenges_per_minute="100000"
        )
        with running_server(env) as live:
            client = redis_lib.Redis.from_url(redis_url, decode_responses=True)
            try:
                yield live.url, client, live.env
            finally:
                client.close()


def _units(env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """A fresh score-mode unit and managed unit's site key, so no level inherits another's
    device and failure counts."""
    from tests.live import create_unit_cli

    domains = ("--domain", "127.0.0.1", "--domain", "localhost")
    score = create_unit_cli(env, *domains, "--mode", "score")
    managed = create_unit_cli(env, *domains, "--mode", "managed")
    return score, str(managed["sitekey"])


def _rate(k: int, n: int) -> str:
    low, high = wilson(k, n)
    return f"{k}/{n} = {k / max(n, 1):.0%} [{low:.0%}, {high:.0%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="sessions per level")
    parser.add_argument("--levels", default=",".join(LEVELS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from tests.browser._host import HostSite

    print(json.dumps(facts()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp, _system(Path(tmp)) as system:
        hg_url, redis, env = system
        site = HostSite()
        with sync_playwright() as playwright:
            for level in args.levels.split(","):
                score_unit, managed = _units(env)
                caught = tokens = 0
                seen: dict[str, int] = {}
                started = time.perf_counter()
                for _ in range(args.n):
                    browser, context = open_level(playwright.chromium, level)
                    try:
                        scored = score_visit(context, site, hg_url, score_unit)
                        attacked = managed_visit(context, site, hg_url, managed, redis)
                    finally:
                        browser.close()
                    caught += scored.caught
                    tokens += attacked.token
                    for reason in scored.reasons:
                        seen[reason] = seen.get(reason, 0) + 1
                seconds = (time.perf_counter() - started) / args.n
                rows.append((level, caught, tokens, seen, seconds))
        site.close()
    print("\n| level | caught (automation reason) | managed: got a token | s/session | reasons |")
    print("| --- | --- | --- | --- | --- |")
    for level, caught, tokens, seen, seconds in rows:
        reasons = ", ".join(f"{r} ({c})" for r, c in sorted(seen.items()))
        line = f"| {level} | {_rate(caught, args.n)} | {_rate(tokens, args.n)} | {seconds:.0f} |"
        print(f"{line} {reasons} |")
    print(f"\n{args.n} sessions per level: python -m bench.automation --n {args.n}")


if __name__ == "__main__":
    main()
