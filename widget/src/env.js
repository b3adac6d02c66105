// Coarse facts about the browser for the server's consistency rules and the per-site device id
// (schema: humangate/risk/environment.py). Read once per page; every read may throw in some
// browser or privacy mode, and a missing fact is simply left out.

import { sha256 } from "./sha256.js";

let cached;

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

function webgl() {
  const gl = document.createElement("canvas").getContext("webgl");
  if (!gl) return "";
  const ext = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)).slice(0, 64);
}

export function environment() {
  if (cached) return cached;
  const n = navigator;
  const s = screen;
  const facts = {
    wd: attempt(() => n.webdriver === true),
    ua: attempt(() => String(n.userAgent).slice(0, 300)),
    lang: attempt(() => String(n.language).slice(0, 35)),
    langs: attempt(() => Math.min(100, n.languages.length)),
    tz: attempt(() => String(Intl.DateTimeFormat().resolvedOptions().timeZone).slice(0, 64)),
    tzo: attempt(() => new Date().getTimezoneOffset()),
    scr: attempt(() => [s.width, s.height]),
    avail: attempt(() => [s.availWidth, s.availHeight]),
    dpr: attempt(() => Math.round(devicePixelRatio * 100) / 100),
    touch: attempt(() => n.maxTouchPoints),
    hc: attempt(() => n.hardwareConcurrency),
    mem: attempt(() => n.deviceMemory),
    plugins: attempt(() => n.plugins.length),
    canvas: attempt(canvasHash),
    webgl: attempt(webgl),
    chrome: attempt(() => !!window.chrome),
    perm: attempt(() => String(Notification.permission).slice(0, 16)),
    outer: attempt(() => [outerWidth, outerHeight]),
  };
  const ok = (v) => v != null && !(typeof v == "number" && !isFinite(v));
  cached = {};
  for (const k in facts) if (ok(facts[k])) cached[k] = facts[k];
  for (const k of ["scr", "avail", "outer"])
    if (cached[k] && !cached[k].every((v) => Number.isInteger(v) && v >= 0 && v <= 1e5))
      delete cached[k];
  return cached;
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
