// Managed mode's first step: slide a handle to the end of its track while the proof of work runs.
// The drag's trace is what the server scores; keyboard users finish it with a key and, having no
// trace to score, are offered a visual challenge next. Methods of Widget.

import { Trace } from "./env.js";
import { clamp, pct } from "./util.js";

const F = 0.16; // the handle's share of the track

export const Gesture = {
  checkBar(hd) {
    this.hd = hd;
    this.fill = this.pz.querySelector(".fill");
    this.hint = this.pz.querySelector(".hint");
    hd.style.width = pct(F);
    hd.setAttribute("aria-valuemax", "100");
    this.nudge(0);
    hd.addEventListener("pointerdown", (e) => {
      if (!this.live_() || this.drag || (e.pointerType == "mouse" && e.button)) return;
      e.preventDefault();
      try {
        hd.setPointerCapture(e.pointerId);
      } catch (err) {
        // Moves still arrive while the pointer stays over the handle.
      }
      hd.focus({ preventScroll: true });
      this.drag = { id: e.pointerId, x: e.clientX };
      this.tr = new Trace(this.shown, e);
      this.el.classList.add("drag");
    });
    hd.addEventListener("pointermove", (e) => {
      const d = this.drag;
      if (!d || d.id != e.pointerId) return;
      this.tr.move(e);
      const width = hd.parentNode.getBoundingClientRect().width * (1 - F) || 1;
      this.nudge(((e.clientX - d.x) / width) * 100);
    });
    const end = (e) => {
      const d = this.drag;
      if (!d || d.id != e.pointerId) return;
      this.drag = null;
      this.el.classList.remove("drag");
      if (e.type == "pointerup" && this.v >= 98) {
        this.tr.add(e);
        this.done(this.tr.signals());
      } else {
        this.tr = null;
        this.nudge(0);
      }
    };
    hd.addEventListener("pointerup", end);
    hd.addEventListener("pointercancel", end);
    hd.addEventListener("keydown", (e) => {
      if (!this.live_() || this.drag || !/^(Enter| |ArrowRight|End)$/.test(e.key)) return;
      e.preventDefault();
      this.nudge(100);
      this.done({ pointer: "keyboard" });
    });
  },

  nudge(v) {
    this.v = v = clamp(v, 0, 100);
    const at = (v / 100) * (1 - F);
    this.hd.style.left = pct(at);
    this.fill.style.width = pct(at + F);
    this.hint.style.opacity = v ? 0 : 1;
    this.hd.setAttribute("aria-valuenow", Math.round(v));
  },

  async done(signals) {
    const gen = this.gen;
    this.set("checking", this.t("verifying"));
    const pow = await this.powp;
    if (gen != this.gen) return;
    if (pow == null) this.error({ error: "pow-unsolvable" });
    else this.answer({ pow, signals });
  },
};
