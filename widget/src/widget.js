// One rendered widget: fetches a challenge, solves it (pow) or lets the person solve it (slide,
// rotate, click, text, audio), and keeps the pass token in a hidden form field until it expires.

import { Clicks } from "./click.js";
import { environment, environmentReady, firstParty } from "./env.js";
import { Gesture } from "./gesture.js";
import { pickLang, strings } from "./i18n.js";
import { solvePow } from "./pow.js";
import { Slider } from "./slider.js";
import { adoptStyle } from "./styles.js";
import { Typing } from "./typing.js";
import { ICONS, r2 } from "./util.js";

// The kinds a person solves ("check" is managed mode's slide-to-verify gesture).
const KINDS = /^(check|slide|rotate|click|text|audio)$/;

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
    this.lang = pickLang(opts.lang || navigator.language);
    this.t = strings(this.lang);
    this.build();
    this.load();
  }

  build() {
    const t = this.t;
    const button = (cls, key) =>
      `<button type="button" class="b ${cls}" aria-label="${t(key)}" title="${t(key)}">` +
      ICONS[key] +
      "</button>";
    const html =
      `<div class="hg" role="group" aria-label="${t("group")}">` +
      '<div class="row"><span class="ic" aria-hidden="true"></span>' +
      '<span class="msg" tabindex="-1"></span></div>' +
      '<div class="pz" hidden></div><div class="bar" hidden>' +
      button("rf", "refresh") +
      button("au", "audio") +
      '<span class="sp"></span>' +
      button("un", "undo") +
      `<button type="button" class="ok">${t("verify")}</button></div>` +
      // Last in tab order: the challenge comes first for keyboard users.
      `<a class="brand" target="_blank" rel="noopener" title="${t("privacy")}">HumanGate</a>` +
      '<div class="sr" aria-live="polite"></div></div>';
    const host = (this.host = document.createElement("div"));
    host.className = "humangate-widget";
    const root = (this.root = host.attachShadow({ mode: "open" }));
    root.innerHTML = html;
    adoptStyle(root, this.o.nonce);
    const $ = (s) => root.querySelector(s);
    this.el = $(".hg");
    this.el.classList.add(/^(light|dark)$/.test(this.o.theme) ? this.o.theme : "auto");
    this.el.lang = this.lang == "zh" ? "zh-CN" : "en";
    this.msg = $(".msg");
    this.live = $(".sr");
    this.pz = $(".pz");
    this.bar = $(".bar");
    this.au = $(".au");
    this.un = $(".un");
    this.ok = $(".ok");
    const privacy = new URL("../../privacy/device", this.api);
    privacy.searchParams.set("sitekey", this.o.sitekey);
    privacy.hash = "fp=" + firstParty();
    this.brand = $(".brand");
    this.brand.href = privacy.href;
    $(".rf").addEventListener("click", () => {
      this.fails = 0;
      this.load();
    });
    this.au.addEventListener("click", () => {
      if (!this.live_()) return;
      this.aud = this.kind != "audio";
      if (this.aud) this.toAudio(this.ch, 1);
      else this.load();
    });
    this.un.addEventListener("click", () => this.undo());
    this.ok.addEventListener("click", () => this.submit());

    const input = (this.input = document.createElement("input"));
    input.type = "hidden";
    input.name = this.o.field;
    this.container.append(host, input);
  }

  destroy() {
    this.gen++;
    clearTimeout(this.tExp);
    this.mute();
    this.host.remove();
    this.input.remove();
  }

  // ---- state and messages -------------------------------------------------------------------

  set(state, text, say) {
    const focused = this.root.activeElement;
    const kind = this.kind;
    const shown = KINDS.test(kind) && !/^(solving|success|error)$/.test(state);
    this.state = state;
    this.el.setAttribute("data-state", state);
    this.msg.textContent = text;
    this.pz.hidden = !shown;
    this.bar.hidden = (!shown || kind == "check") && state != "error";
    this.au.hidden = !shown;
    this.un.hidden = kind != "click" || !shown;
    this.ok.hidden = !/^(click|text|audio)$/.test(kind) || !shown;
    // Keep keyboard users in place when the control they were on disappears.
    if (focused && !focused.getClientRects().length) {
      (shown && this.main ? this.main : this.msg).focus();
    }
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

  error(data, text) {
    const code = data.error || "error";
    text = text || this.t(code) || (this.lang == "en" && data.message) || this.t("error");
    this.set("error", text, text);
    call(this.o.error, code);
  }

  // ---- challenge lifecycle ------------------------------------------------------------------

  body() {
    // `lang` picks the script of click challenges and the voice of audio ones.
    const body = {
      sitekey: this.o.sitekey,
      lang: this.lang,
      signals: { env: environment(), fp: firstParty() },
    };
    if (this.o.action) body.action = String(this.o.action);
    if (this.o.cdata) body.cdata = String(this.o.cdata);
    return body;
  }

  /** Stop what the current challenge is doing; returns the new generation. */
  stop() {
    clearTimeout(this.tExp);
    this.drag = null;
    this.tr = null;
    this.el.classList.remove("drag");
    this.mute();
    if (this.token) this.setToken("");
    return ++this.gen;
  }

  /** Start over with `next` (a challenge object) or a freshly requested one. */
  async load(next, notice) {
    const gen = this.stop();
    if (next) return this.show(next, notice);
    this.set("loading", this.t("loading"));
    await environmentReady();
    if (gen != this.gen) return;
    const { status, data } = await post(this.api + "challenges", this.body());
    if (gen != this.gen) return;
    if (status == 200 && data.id) {
      // The enterprise edition may leave the HumanGate name out; the privacy link stays.
      if (data.mark === false) this.brand.textContent = this.t("privacyShort");
      this.show(data, notice);
    } else this.error(data);
  }

  /** Trade the visual challenge `ch` for an audio one in the widget's language. */
  async toAudio(ch, focus, notice) {
    const gen = this.stop();
    this.set("loading", this.t("loading"));
    for (let tries = 0; ; tries++) {
      const url = this.api + "challenges/" + encodeURIComponent(ch.id) + "/audio";
      const { status, data } = await post(url, { language: this.lang });
      if (gen != this.gen) return;
      if (status == 200 && data.id) return this.show(data, notice, focus);
      // 410: the visual challenge expired or was used; trade a fresh one, once.
      if (status != 410 || tries) {
        this.aud = 0;
        return this.error(data);
      }
      const fresh = await post(this.api + "challenges", this.body());
      if (gen != this.gen) return;
      if (!(fresh.status == 200 && fresh.data.id)) return this.error(fresh.data);
      if (!KINDS.test(fresh.data.kind)) return this.show(fresh.data);
      ch = fresh.data;
    }
  }

  show(ch, notice, focus) {
    const gen = this.gen;
    this.ch = ch;
    this.kind = ch.kind;
    this.shown = performance.now();
    if (ch.kind == "pow" && ch.gesture) {
      this.kind = "check";
      this.powp = solvePow(ch.pow, () => gen == this.gen);
      this.tExp = setTimeout(() => {
        if (this.live_() && !this.drag) this.load();
      }, Math.max(5, (ch.expires_in || 120) - 2) * 1000);
      this.stage({}, notice, focus);
    } else if (ch.kind == "pow") {
      this.set("solving", this.t("verifying"), notice ? 0 : this.t("verifying"));
      solvePow(ch.pow, () => gen == this.gen).then((pow) => {
        if (gen != this.gen) return;
        if (pow == null) this.error({ error: "pow-unsolvable" });
        else this.answer({ pow });
      });
    } else if (KINDS.test(ch.kind) && ch[ch.kind]) {
      // Someone who chose the audio alternative keeps getting it.
      if (this.aud && ch.kind != "audio") return this.toAudio(ch, focus, notice);
      // Swap an unsolved challenge for a new one shortly before the server forgets it.
      this.tExp = setTimeout(() => {
        if (this.live_() && !this.drag) this.load(null, this.traj.length ? this.t("expired") : 0);
      }, Math.max(5, (ch.expires_in || 120) - 2) * 1000);
      this.stage(ch[ch.kind], notice, focus);
    } else {
      this.error({ error: "unsupported-challenge" });
    }
  }

  async answer(body) {
    const gen = this.gen;
    const ch = this.ch;
    this.set("checking", this.t("verifying"));
    const { status, data } = await post(
      this.api + "challenges/" + encodeURIComponent(ch.id) + "/answer",
      body
    );
    if (gen != this.gen) return;
    if (status == 200 && data.success && data.token) return this.pass(data);
    // Managed mode wants more than the gesture showed: a visual challenge follows.
    if (data.error == "challenge-required") return this.load(data.next, this.t("more"));
    // Any other refusal reads the same (the reason is the site owner's to see): say so and go
    // on with the next challenge.
    if (status == 410 || data.success === false) {
      // An invisible pow is computed, not guessed: retried once silently, then it will not get
      // better.
      const silent = ch.kind == "pow" && !ch.gesture;
      if (silent && (this.fails = (this.fails || 0) + 1) > 1) {
        this.fails = 0;
        return this.error(data, this.t("failed"));
      }
      return this.load(status == 410 ? null : data.next, silent ? 0 : this.t("failed"));
    }
    this.error(data);
  }

  pass(data) {
    const gen = this.gen;
    this.fails = 0;
    clearTimeout(this.tExp);
    this.mute();
    this.set("success", this.t("ok"), this.t("okSay"));
    this.setToken(data.token);
    call(this.o.callback, data.token);
    this.tExp = setTimeout(() => {
      if (gen != this.gen) return;
      this.setToken("");
      call(this.o.expired);
      if (this.kind == "pow") this.say(this.t("expired"));
      this.load(null, this.t("expired"));
    }, (data.expires_in || 300) * 1000);
  }

  // ---- the person's challenge: shared parts -------------------------------------------------

  live_() {
    return KINDS.test(this.kind) && /^(puzzle|failed)$/.test(this.state);
  }

  /** Back from "failed" to the prompt once the person starts on the new challenge. */
  begin() {
    if (this.state == "failed") this.set("puzzle", this.t(this.pk()));
  }

  /** The key of the current kind's prompt in the string table. */
  pk() {
    return this.kind == "audio" ? "listen" : this.kind;
  }

  /** Build the challenge's controls for payload `p` and show its prompt. */
  stage(p, notice, focus) {
    const t = this.t;
    const kind = this.kind;
    const track = (label) =>
      '<div class="tr"><div class="fill"></div><span class="hint" aria-hidden="true">' +
      t(kind + "Hint") +
      '</span><div class="hd" role="slider" tabindex="0" aria-valuemin="0" aria-label="' +
      t(label) +
      '">' +
      ICONS[kind == "rotate" ? "turn" : "arrow"] +
      "</div></div>";
    const field = (label, mode, max) =>
      `<input class="in" type="text" inputmode="${mode}" maxlength="${max}" autocomplete="off" ` +
      `autocapitalize="off" autocorrect="off" spellcheck="false" aria-label="${t(label)}" ` +
      `placeholder="${t(label)}">`;
    const markup = {
      check: track("checkLabel"),
      slide:
        '<div class="img" aria-hidden="true"><img class="bg"><img class="pc"></div>' +
        track("slideLabel"),
      rotate: '<div class="dk" aria-hidden="true"><img class="bg"></div>' + track("rotateLabel"),
      click:
        '<div class="pr"><img class="pi"></div><div class="img ci" ' +
        `tabindex="0" role="application" aria-label="${t("clickLabel")}"><img class="bg">` +
        '<span class="cx"></span></div>',
      text: '<img class="ti">' + field("textLabel", "text", p.length + 2),
      audio:
        '<button type="button" class="play"></button><audio preload="auto"></audio>' +
        field("digits", "numeric", p.length + 2),
    };
    const pz = this.pz;
    // Rebuilding removes the focused control: a keyboard user goes on in the new challenge.
    focus = focus || pz.contains(this.root.activeElement);
    this.mute();
    this.p = p;
    this.traj = [];
    this.tr = null;
    this.kb = false;
    this.v = 0;
    this.pts = [];
    pz.innerHTML = markup[kind];
    const $ = (s) => pz.querySelector(s);
    pz.querySelectorAll("img").forEach((img) => {
      img.alt = "";
      img.draggable = false;
    });
    this.au.innerHTML = ICONS[kind == "audio" ? "visual" : "audio"];
    this.au.title = t(kind == "audio" ? "visual" : "audio");
    this.au.setAttribute("aria-label", this.au.title);
    const bg = $(".bg");
    this.main = $(".hd,.ci,.play,.in");
    if (kind == "check") this.checkBar($(".hd"));
    else if (kind == "slide" || kind == "rotate") this.slider(p, bg, $(".hd"));
    else if (kind == "click") this.clicks(p, bg, $(".ci"), $(".pi"));
    else this.typing(p, $(".in"), $(".ti"), $(".play"), $("audio"));
    this.upd();
    const say = t(this.pk() + "Say", p.length);
    // After a failure the same kind needs no new instructions; another kind does.
    const changed = this.said != kind;
    this.said = kind;
    if (notice) this.set("failed", notice, changed ? notice + ". " + say : notice);
    else this.set("puzzle", t(this.pk()), say);
    if (focus && this.main) this.main.focus();
  }

  /** Record a trajectory point [a, b, ms since shown], at most 2000 of them. */
  rec(a, b, ev) {
    const now = performance.now();
    let t = ev && ev.timeStamp > 0 && ev.timeStamp <= now + 50 ? ev.timeStamp : now;
    const last = this.traj[this.traj.length - 1];
    t = Math.max(last ? last[2] : 0, Math.round(t - this.shown));
    if (this.traj.length >= 2000) this.traj = this.traj.filter((_, i) => i % 2 == 0);
    this.traj.push([r2(a), r2(b), t]);
  }

  /** Enable the undo and verify buttons as far as the answer allows. */
  upd() {
    const k = this.kind;
    this.un.disabled = !this.pts.length;
    this.ok.disabled =
      k == "click" ? this.pts.length < this.p.count : !(this.inp && this.inp.value.trim());
  }

  submit() {
    if (!this.live_()) return;
    const k = this.kind;
    let answer;
    if (k == "slide") answer = { x: r2(this.v) };
    else if (k == "rotate") answer = { angle: this.v };
    else if (k == "click") {
      if (this.pts.length < this.p.count) return;
      answer = { points: this.pts.map((q) => q.map(r2)) };
    } else {
      const text = this.inp.value.trim();
      if (!text) return this.inp.focus();
      answer = { text };
    }
    const body = { answer, trajectory: this.traj };
    if (this.tr) body.signals = this.tr.signals();
    else if (this.kb) body.signals = { pointer: "keyboard" };
    this.answer(body);
  }
}

// The kinds' own parts live in their modules.
Object.assign(Widget.prototype, Gesture, Slider, Clicks, Typing);
