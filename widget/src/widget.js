// One rendered widget: fetches a challenge, solves it (pow) or lets the person solve it (slide),
// and keeps the pass token in a hidden form field until it expires.

import { solvePow } from "./pow.js";
import { CSS as STYLE } from "./styles.js";

const SAY = {
  verifying: "Verifying",
  prompt: "Drag the piece to fill the gap, or use the arrow keys and press Enter",
  failed: "Verification failed, try again",
  success: "Verification succeeded",
  expired: "Verification expired",
};

const ERRORS = {
  "invalid-sitekey": "This site key is not valid.",
  "invalid-origin": "This website may not use this site key.",
  "rate-limited": "Too many attempts. Wait a moment and try again.",
  network: "Could not reach the verification server.",
};

const ICON_REFRESH =
  '<svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" ' +
  'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
  '<path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7"/></svg>';
const ICON_ARROW =
  '<svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" ' +
  'stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
  '<path d="M5 12h14M13 6l6 6-6 6"/></svg>';

const HTML =
  '<div class="hg" role="group" aria-label="Human verification">' +
  '<div class="row"><span class="ic" aria-hidden="true"></span><span class="msg" tabindex="-1">' +
  '</span><button type="button" class="rf" aria-label="New challenge" title="New challenge">' +
  ICON_REFRESH +
  '</button><span class="brand">HumanGate</span></div><div class="pz" hidden>' +
  '<div class="img" aria-hidden="true"><img class="bg" alt="" draggable="false">' +
  '<img class="pc" alt="" draggable="false"></div><div class="tr"><div class="fill"></div>' +
  '<span class="hint" aria-hidden="true">Slide to fit the piece</span>' +
  '<div class="hd" role="slider" tabindex="0" aria-label="Puzzle piece position" ' +
  'aria-valuemin="0">' +
  ICON_ARROW +
  '</div></div></div><div class="sr" aria-live="polite"></div></div>';

let sheet;

const r2 = (v) => Math.round(v * 100) / 100;
const pct = (v) => v * 100 + "%";

/** Call a callback given as a function or as the name of a global function. */
export function call(fn, arg) {
  const f = typeof fn == "function" ? fn : fn ? window[fn] : null;
  if (typeof f == "function") {
    try {
      f(arg);
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
    }
  }
}

async function post(url, body) {
  const ctl = typeof AbortController == "function" ? new AbortController() : null;
  const timer = ctl && setTimeout(() => ctl.abort(), 20000);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      signal: ctl ? ctl.signal : undefined,
    });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      // Not JSON: treated by status alone.
    }
    return { status: res.status, data: data || {} };
  } catch (e) {
    return { status: 0, data: { error: "network" } };
  } finally {
    clearTimeout(timer);
  }
}

export class Widget {
  constructor(id, container, opts, api) {
    this.id = id;
    this.container = container;
    this.o = opts;
    this.api = api;
    this.gen = 0;
    this.token = "";
    this.build();
    this.load();
  }

  build() {
    const host = (this.host = document.createElement("div"));
    host.className = "humangate-widget";
    const root = host.attachShadow({ mode: "open" });
    // Constructed stylesheets are not subject to a host page's CSP style-src; <style> is the fallback.
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLE);
      }
      root.adoptedStyleSheets = [sheet];
      root.innerHTML = HTML;
    } catch (e) {
      root.innerHTML = "<style>" + STYLE + "</style>" + HTML;
    }
    const $ = (s) => root.querySelector(s);
    this.el = $(".hg");
    this.el.classList.add(/^(light|dark)$/.test(this.o.theme) ? this.o.theme : "auto");
    this.msg = $(".msg");
    this.live = $(".sr");
    this.pz = $(".pz");
    this.wrap = $(".img");
    this.bg = $(".bg");
    this.pc = $(".pc");
    this.fill = $(".fill");
    this.hint = $(".hint");
    this.hd = $(".hd");
    $(".rf").addEventListener("click", () => {
      this.fails = 0;
      this.load();
    });
    this.dragOn(this.hd);
    this.dragOn(this.pc);
    this.hd.addEventListener("keydown", (e) => this.key(e));

    const input = (this.input = document.createElement("input"));
    input.type = "hidden";
    input.name = this.o.field;
    this.container.append(host, input);
  }

  destroy() {
    this.gen++;
    clearTimeout(this.tExp);
    this.host.remove();
    this.input.remove();
  }

  // ---- state and messages -------------------------------------------------------------------

  set(state, text, say) {
    const focused = this.host.shadowRoot.activeElement;
    this.state = state;
    this.el.setAttribute("data-state", state);
    this.msg.textContent = text;
    this.pz.hidden = this.kind != "slide" || /^(solving|success|error)$/.test(state);
    // Keep keyboard users in place when the control they were on disappears.
    if (focused && !focused.getClientRects().length) this.msg.focus();
    if (say) this.say(say);
  }

  say(text) {
    // Toggle a trailing no-break space so that repeating a message still counts as a change.
    this.live.textContent = this.live.textContent == text ? text + "\u00a0" : text;
  }

  setToken(token) {
    this.token = token;
    this.input.value = token;
  }

  // ---- challenge lifecycle ------------------------------------------------------------------

  /** Start over with `next` (a challenge object) or a freshly requested one. */
  async load(next, notice) {
    const gen = ++this.gen;
    clearTimeout(this.tExp);
    this.drag = null;
    this.el.classList.remove("drag");
    if (this.token) this.setToken("");
    if (next) return this.show(next, notice);
    this.set("loading", "Loading\u2026");
    const body = { sitekey: this.o.sitekey };
    if (this.o.action) body.action = String(this.o.action);
    if (this.o.cdata) body.cdata = String(this.o.cdata);
    const { status, data } = await post(this.api + "challenges", body);
    if (gen != this.gen) return;
    if (status == 200 && data.id) this.show(data, notice);
    else this.error(data);
  }

  show(ch, notice) {
    const gen = this.gen;
    this.ch = ch;
    this.kind = ch.kind;
    this.shown = performance.now();
    if (ch.kind == "pow") {
      this.set("solving", "Verifying\u2026", notice ? 0 : SAY.verifying);
      solvePow(ch.pow, () => gen == this.gen).then((number) => {
        if (gen != this.gen) return;
        if (number == null) this.error({ error: "pow-unsolvable", message: "Could not verify." });
        else this.answer({ pow: { number } });
      });
    } else if (ch.kind == "slide") {
      // Swap an unsolved puzzle for a new one shortly before the server forgets it.
      this.tExp = setTimeout(() => {
        if (this.live_() && !this.drag) this.load();
      }, Math.max(5, (ch.expires_in || 120) - 2) * 1000);
      this.puzzle(ch.slide, notice);
    } else {
      this.error({ error: "unsupported-challenge" });
    }
  }

  puzzle(s, notice) {
    this.s = s;
    this.max = Math.max(0, s.width - s.piece_width);
    this.traj = [];
    this.wrap.style.paddingTop = pct(s.height / s.width);
    this.bg.src = s.background;
    this.pc.src = s.piece;
    this.pc.style.width = this.hd.style.width = pct(s.piece_width / s.width);
    this.pc.style.top = pct(s.piece_y / s.height);
    this.hd.setAttribute("aria-valuemax", Math.round(this.max));
    this.move(0);
    if (notice) this.set("failed", notice, notice);
    else this.set("puzzle", "Drag the piece to fill the gap", SAY.prompt);
  }

  async answer(body) {
    const gen = this.gen;
    const ch = this.ch;
    this.set("checking", "Verifying\u2026");
    const { status, data } = await post(
      this.api + "challenges/" + encodeURIComponent(ch.id) + "/answer",
      body
    );
    if (gen != this.gen) return;
    if (status == 200 && data.success && data.token) return this.pass(data);
    if (status == 410 || data.success === false) {
      const pow = ch.kind == "pow";
      // A pow answer is computed, not guessed: failing twice in a row will not get better.
      if (pow && (this.fails = (this.fails || 0) + 1) > 1) {
        this.fails = 0;
        return this.error({ error: data.error || "failed", message: SAY.failed });
      }
      return this.load(status == 410 ? null : data.next, pow ? 0 : SAY.failed);
    }
    this.error(data);
  }

  pass(data) {
    const gen = this.gen;
    this.fails = 0;
    clearTimeout(this.tExp);
    this.set("success", "Success", SAY.success);
    this.setToken(data.token);
    call(this.o.callback, data.token);
    this.tExp = setTimeout(() => {
      if (gen != this.gen) return;
      this.setToken("");
      call(this.o.expired);
      if (this.kind == "pow") this.say(SAY.expired);
      this.load(null, SAY.expired);
    }, (data.expires_in || 300) * 1000);
  }

  error(data) {
    const code = data.error || "error";
    const text = ERRORS[code] || data.message || "Verification error.";
    this.set("error", text, text);
    call(this.o.error, code);
  }

  // ---- slide interaction --------------------------------------------------------------------

  live_() {
    return this.kind == "slide" && /^(puzzle|failed)$/.test(this.state);
  }

  begin() {
    if (this.state == "failed") this.set("puzzle", "Drag the piece to fill the gap");
  }

  move(v) {
    this.v = v = Math.min(this.max, Math.max(0, v));
    const left = pct(v / this.s.width);
    this.pc.style.left = this.hd.style.left = left;
    this.fill.style.width = pct((v + this.s.piece_width) / this.s.width);
    this.hint.style.opacity = v ? 0 : 1;
    this.hd.setAttribute("aria-valuenow", Math.round(v));
  }

  scale() {
    return this.wrap.getBoundingClientRect().width / this.s.width || 1;
  }

  /** Record a trajectory point: piece x and pointer y in background px, ms since shown. */
  point(ev) {
    const now = performance.now();
    let t = ev && ev.timeStamp > 0 && ev.timeStamp <= now + 50 ? ev.timeStamp : now;
    const y = ev
      ? (ev.clientY - this.wrap.getBoundingClientRect().top) / this.scale()
      : this.s.piece_y + this.s.piece_height / 2;
    const traj = this.traj;
    const last = traj[traj.length - 1];
    t = Math.max(last ? last[2] : 0, Math.round(t - this.shown));
    if (traj.length >= 2000) this.traj = traj.filter((_, i) => i % 2 == 0);
    this.traj.push([r2(this.v), r2(y), t]);
  }

  dragOn(el) {
    el.addEventListener("pointerdown", (e) => {
      if (!this.live_() || this.drag || (e.pointerType == "mouse" && e.button)) return;
      e.preventDefault();
      try {
        el.setPointerCapture(e.pointerId);
      } catch (err) {
        // Capture is a nicety; moves still arrive while the pointer stays over the element.
      }
      if (el == this.hd) el.focus({ preventScroll: true });
      this.drag = { id: e.pointerId, x: e.clientX, v: this.v };
      this.el.classList.add("drag");
      this.begin();
      this.point(e);
    });
    el.addEventListener("pointermove", (e) => {
      const d = this.drag;
      if (!d || d.id != e.pointerId) return;
      const list = (e.getCoalescedEvents && e.getCoalescedEvents()) || [];
      for (const ev of list.length ? list : [e]) {
        this.move(d.v + (ev.clientX - d.x) / this.scale());
        this.point(ev);
      }
    });
    const end = (e) => {
      const d = this.drag;
      if (!d || d.id != e.pointerId) return;
      this.drag = null;
      this.el.classList.remove("drag");
      if (e.type == "pointerup" && this.v != d.v) {
        this.point(e);
        this.submit();
      } else {
        this.move(d.v);
        this.traj = [];
      }
    };
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
  }

  key(e) {
    if (!this.live_() || this.drag) return;
    const step = e.shiftKey ? 10 : 1;
    let v = this.v;
    switch (e.key) {
      case "ArrowRight":
      case "ArrowUp":
        v += step;
        break;
      case "ArrowLeft":
      case "ArrowDown":
        v -= step;
        break;
      case "PageUp":
        v += 10;
        break;
      case "PageDown":
        v -= 10;
        break;
      case "Home":
        v = 0;
        break;
      case "End":
        v = this.max;
        break;
      case "Enter":
        e.preventDefault();
        if (this.traj.length) {
          this.point(null);
          this.submit();
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    this.begin();
    if (!this.traj.length) this.point(null);
    this.move(v);
    this.point(null);
  }

  submit() {
    this.answer({ answer: { x: r2(this.v) }, trajectory: this.traj });
  }
}
