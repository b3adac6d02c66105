// Coarse facts about the browser for the server's consistency and automation rules and the
// per-site device id (schema: humangate/risk/environment.py). Read once per page; every read may
// throw in some browser or privacy mode, and a missing fact is simply left out.

import { sha256 } from "./sha256.js";

let cached;
let settled;
let probeHidden = false;

const attempt = (f) => {
  try {
    return f();
  } catch (e) {
    return undefined;
  }
};

const hex = (bytes) => {
  const out = new Int32Array(8);
  sha256(bytes, bytes.length, out);
  return (out[0] >>> 0).toString(16).padStart(8, "0");
};

const cut = (v, n) => String(v).slice(0, n);

function canvasHash() {
  const c = document.createElement("canvas");
  c.width = 120;
  c.height = 24;
  const g = c.getContext("2d");
  g.textBaseline = "top";
  g.font = "14px Arial";
  g.fillStyle = "#f60";
  g.fillRect(60, 1, 50, 18);
  g.fillStyle = "#069";
  g.fillText("HumanGate \u{1F600}", 2, 4);
  const url = c.toDataURL();
  return hex(new TextEncoder().encode(url));
}

/** [renderer, vendor], unmasked where the browser allows it. */
function webgl() {
  const gl = document.createElement("canvas").getContext("webgl");
  if (!gl) return ["", ""];
  const ext = gl.getExtension("WEBGL_debug_renderer_info");
  return [
    cut(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER), 64),
    cut(gl.getParameter(ext ? ext.UNMASKED_VENDOR_WEBGL : gl.VENDOR), 64),
  ];
}

const nativeFn = (f, name) =>
  typeof f == "function" &&
  new RegExp("^function (get )?" + name + "\\(\\) \\{\\s*\\[native code\\]\\s*\\}$").test(
    Function.prototype.toString.call(f)
  );

/** Does DevTools' Runtime domain listen? It formats an Error given to console.debug (a CDP
 *  client such as Playwright or Puppeteer does this on every page), which runs
 *  Error.prepareStackTrace or a stack getter; a browser nobody drives never reads it. Run in a
 *  fresh frame, whose console the page's logging libraries have not wrapped; a console.debug
 *  that is not native there was patched to hide this. */
function devtools() {
  const f = document.createElement("iframe");
  f.hidden = true;
  (document.body || document.documentElement).append(f);
  try {
    const w = f.contentWindow;
    const E = w.Error;
    let hit = !nativeFn(w.console.debug, "debug");
    const format = () => {
      hit = true;
      return "";
    };
    // A fresh frame's Error has no prepareStackTrace of its own, and taking one always sticks;
    // only a script that neutralises this probe makes it an accessor or refuses the assignment.
    const own = Object.getOwnPropertyDescriptor(E, "prepareStackTrace");
    E.prepareStackTrace = format;
    probeHidden = !!(own && (own.get || own.set)) || E.prepareStackTrace !== format;
    w.console.debug(new E(""));
    const e = new E("");
    Object.defineProperty(e, "stack", {
      get() {
        hit = true;
        return "";
      },
    });
    w.console.debug(e);
    return hit;
  } finally {
    f.remove();
  }
}

/** Short names of the globals that automation tools leave on the page. */
function automationGlobals() {
  const marks = {
    cdc: /^\$?cdc_/,
    playwright: /^__(playwright|pw[A-Z_])/,
    puppeteer: /^__puppeteer/,
    selenium: /^(_selenium|__selenium|callSelenium|__webdriver|__driver|__fxdriver|_Selenium)/,
    phantom: /^(callPhantom|_phantom)$/,
    nightmare: /^__nightmare$/,
    domautomation: /^domAutomation/,
  };
  const names = Object.getOwnPropertyNames(window).concat(Object.getOwnPropertyNames(document));
  return Object.keys(marks).filter((k) => names.some((n) => marks[k].test(n)));
}

/** Short names of built-ins whose source is not the browser's own (patched by a script). */
function patched() {
  const getter = (o, name) => {
    const d = o && Object.getOwnPropertyDescriptor(o, name);
    return !d || nativeFn(d.get, name);
  };
  const n = navigator;
  const N = Navigator.prototype;
  const uad = n.userAgentData;
  const checks = {
    webdriver: () => getter(N, "webdriver") && !Object.getOwnPropertyDescriptor(n, "webdriver"),
    brands: () => !uad || getter(Object.getPrototypeOf(uad), "brands"),
    platform: () => getter(N, "platform"),
    userAgent: () => getter(N, "userAgent"),
    languages: () => getter(N, "languages"),
    plugins: () => getter(N, "plugins"),
    hardwareConcurrency: () => getter(N, "hardwareConcurrency"),
    deviceMemory: () => getter(N, "deviceMemory"),
    getParameter: () => nativeFn(WebGLRenderingContext.prototype.getParameter, "getParameter"),
    query: () => nativeFn(Permissions.prototype.query, "query"),
  };
  // A check that throws (an interface this browser lacks) says nothing.
  const out = Object.keys(checks).filter((k) => attempt(checks[k]) === false);
  if (!("webdriver" in n)) out.push("webdriver-gone");
  if (probeHidden) out.push("prepareStackTrace");
  return out;
}

/** UA client hints' low-entropy values: brands as "name/major", platform, mobile. */
function hints() {
  const u = navigator.userAgentData;
  if (!u) return {};
  return {
    uab: u.brands.slice(0, 8).map((b) => cut(b.brand + "/" + b.version, 48)),
    uap: cut(u.platform, 32),
    uam: u.mobile === true,
  };
}

export function environment() {
  if (cached) return cached;
  const n = navigator;
  const s = screen;
  const gl = attempt(webgl) || [];
  const facts = {
    wd: attempt(() => n.webdriver === true),
    ua: attempt(() => cut(n.userAgent, 300)),
    lang: attempt(() => cut(n.language, 35)),
    langs: attempt(() => Math.min(100, n.languages.length)),
    tz: attempt(() => cut(Intl.DateTimeFormat().resolvedOptions().timeZone, 64)),
    tzo: attempt(() => new Date().getTimezoneOffset()),
    scr: attempt(() => [s.width, s.height]),
    avail: attempt(() => [s.availWidth, s.availHeight]),
    dpr: attempt(() => Math.round(devicePixelRatio * 100) / 100),
    touch: attempt(() => n.maxTouchPoints),
    hc: attempt(() => n.hardwareConcurrency),
    mem: attempt(() => n.deviceMemory),
    plugins: attempt(() => n.plugins.length),
    canvas: attempt(canvasHash),
    webgl: gl[0],
    glv: gl[1],
    chrome: attempt(() => !!window.chrome),
    rt: attempt(() => !!(window.chrome && window.chrome.runtime)),
    perm: attempt(() => cut(Notification.permission, 16)),
    outer: attempt(() => [outerWidth, outerHeight]),
    inner: attempt(() => [innerWidth, innerHeight]),
    plat: attempt(() => cut(n.platform, 32)),
    cdp: attempt(devtools),
    auto: attempt(automationGlobals),
    patched: attempt(patched),
    ...attempt(hints),
  };
  const ok = (v) => v != null && !(typeof v == "number" && !isFinite(v));
  cached = {};
  for (const k in facts) if (ok(facts[k])) cached[k] = facts[k];
  for (const k of ["scr", "avail", "outer", "inner"])
    if (cached[k] && !cached[k].every((v) => Number.isInteger(v) && v >= 0 && v <= 1e5))
      delete cached[k];
  return cached;
}

/** FNV-1a of a value's text, from a seed: the page's check of the worker's answer. */
const mix = (seed, value) => {
  let x = seed >>> 0;
  for (const c of String(value)) x = Math.imul(x ^ c.charCodeAt(0), 16777619) >>> 0;
  return x;
};
const brandList = (u) => (u ? u.brands.map((b) => b.brand + "/" + b.version).join() : "");

// Run in a dedicated worker, a realm that no page or frame init script reaches: the DevTools
// probe again (a driver's Runtime domain listens to workers too; nothing but this script runs
// there, so a console.debug that is not native was patched to hide it), and what stealth
// scripts patch on the page only.
// First, where the engine places an error thrown on the script's first line: nothing may run in
// front of the widget's code, so any other line or a far column (or a stack formatter set before
// it) means lines were put before it. The answer waits for the page's random number and carries
// it mixed with that place, so a line in front cannot just say the place of a clean worker.
const WORKER = `let p=0;try{null.f()}catch(e){const s=String(e.stack),u=location.href,i=s.indexOf(u);
if(i>=0&&Error.prepareStackTrace===void 0)p=(s.slice(i+u.length).match(/^:(\\d+):(\\d+)/)||[0,0,0]).slice(1).map(Number)}
let h=0;const f=()=>(h=1,"");Error.prepareStackTrace=f;h|=Error.prepareStackTrace!==f;
h|=!/^function debug\\(\\) \\{\\s*\\[native code\\]\\s*\\}$/.test(console.debug);
console.debug(new Error(""));const n=navigator;
onmessage=({data:k})=>postMessage([h,location.href,n.userAgent,n.platform,(${brandList})(n.userAgentData),p,(${mix})(k,p)])`;

/** Compare a worker's view with the page's: `env.cdp` when the probe fires there, and in
 *  `env.patched` "worker-*" for each fact the page reports otherwise, or "worker-none" when no
 *  worker starts although the page's CSP allows it. */
function workerCheck(env) {
  return new Promise((resolve) => {
    const note = (code) => {
      (env.patched = env.patched || []).push("worker-" + code);
      resolve();
    };
    let csp = false;
    document.addEventListener("securitypolicyviolation", (e) => {
      csp = csp || (e.isTrusted && /^blob/.test(e.blockedURI));
    });
    // A CSP that forbids blob workers is the page's choice, not the browser's: nothing noted.
    const fail = () => setTimeout(() => (csp ? resolve() : note("none")), 50);
    try {
      const url = URL.createObjectURL(new Blob([WORKER]));
      const w = new Worker(url);
      const n = navigator;
      const page = [url, n.userAgent, n.platform, brandList(n.userAgentData)];
      const seed = (Math.random() * 2 ** 32) >>> 0;
      w.onerror = fail;
      w.postMessage(seed);
      w.onmessage = ({ data }) => {
        w.terminate();
        URL.revokeObjectURL(url);
        if (data[0]) env.cdp = true;
        ["url", "ua", "platform", "brands"].forEach((k, i) => data[i + 1] !== page[i] && note(k));
        const at = data[5];
        const clean = Array.isArray(at) && at[0] === 1 && at[1] <= 40;
        if (!clean || data[6] !== mix(seed, at)) note("tampered");
        resolve();
      };
    } catch (e) {
      fail();
    }
  });
}

/** The environment once the asynchronous facts (the notification permission's state, the
 *  worker's view) are in, or after 1 s without them. */
export function environmentReady() {
  if (!settled) {
    const env = environment();
    const wait = (promise) => promise.catch(() => {});
    const permission = attempt(() =>
      navigator.permissions.query({ name: "notifications" }).then((p) => {
        env.nperm = cut(p.state, 16);
      })
    );
    settled = Promise.race([
      Promise.all([wait(Promise.resolve(permission)), wait(workerCheck(env))]),
      new Promise((resolve) => setTimeout(resolve, 1000)),
    ]).then(() => env);
  }
  return settled;
}
/** A random value kept in the site's own storage, so a device is recognised on this site only. */
export function firstParty() {
  return (
    attempt(() => {
      const key = "humangate.fp";
      let v = localStorage.getItem(key);
      if (!v || !/^[A-Za-z0-9_-]{16,64}$/.test(v)) {
        const b = crypto.getRandomValues(new Uint8Array(12));
        v = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
        localStorage.setItem(key, v);
      }
      return v;
    }) || ""
  );
}

/** Records a pointer trace: [x, y, ms] relative to where the gesture began, at most 600 points. */
export class Trace {
  constructor(shown, ev) {
    this.shown = shown;
    this.x = ev.clientX;
    this.y = ev.clientY;
    this.pointer = /^(mouse|touch|pen)$/.test(ev.pointerType) ? ev.pointerType : "mouse";
    this.points = [];
    this.add(ev);
  }

  add(ev) {
    const now = performance.now();
    const at = ev.timeStamp > 0 && ev.timeStamp <= now + 50 ? ev.timeStamp : now;
    const last = this.points[this.points.length - 1];
    const t = Math.max(last ? last[2] : 0, Math.round((at - this.shown) * 10) / 10);
    if (this.points.length >= 600) this.points = this.points.filter((_, i) => i % 2 == 0);
    const r = (v) => Math.round(v * 100) / 100;
    this.points.push([r(ev.clientX - this.x), r(ev.clientY - this.y), t]);
  }

  /** Every raw sample of a move, coalesced ones included. */
  move(ev) {
    const list = (ev.getCoalescedEvents && ev.getCoalescedEvents()) || [];
    for (const e of list.length ? list : [ev]) this.add(e);
  }

  signals() {
    return { pointer: this.pointer, trace: this.points };
  }
}
