// Slide and rotate: a track with a handle (a focusable role="slider"); the rotate disc also turns
// by dragging it round its centre. Methods of Widget (mixed into its prototype).

import { Trace } from "./env.js";
import { clamp, pct } from "./util.js";

export const Slider = {
  slider(p, bg, hd) {
    const slide = this.kind == "slide";
    this.hd = hd;
    this.fill = this.pz.querySelector(".fill");
    this.hint = this.pz.querySelector(".hint");
    this.ref = slide ? this.pz.querySelector(".img") : bg;
    if (slide) {
      // The handle is as wide as the piece, so the track and the picture move together.
      this.max = Math.max(0, p.width - p.piece_width);
      this.f = p.piece_width / p.width;
      this.nat = p.width;
      this.y0 = p.piece_y + p.piece_height / 2;
      this.ref.style.paddingTop = pct(p.height / p.width);
      bg.src = p.background;
      this.pc = this.pz.querySelector(".pc");
      this.pc.src = p.piece;
      this.pc.style.width = pct(this.f);
      this.pc.style.top = pct(p.piece_y / p.height);
      this.drags(this.pc);
    } else {
      this.max = 359;
      this.f = 0.16;
      this.nat = p.size;
      this.y0 = p.size / 2;
      bg.src = p.image;
      bg.width = bg.height = Math.min(p.size, 180);
      this.drags(bg, 1);
    }
    hd.style.width = pct(this.f);
    hd.setAttribute("aria-valuemax", this.max);
    this.drags(hd);
    hd.addEventListener("keydown", (e) => this.key(e));
    this.move(0);
  },

  move(v, wrap) {
    const rotate = this.kind == "rotate";
    v = rotate ? Math.round(v) : v;
    this.v = v = wrap ? ((v % 360) + 360) % 360 : clamp(v, 0, this.max);
    const at = this.max ? (v / this.max) * (1 - this.f) : 0;
    this.hd.style.left = pct(at);
    this.fill.style.width = pct(at + this.f);
    this.hint.style.opacity = v ? 0 : 1;
    this.hd.setAttribute("aria-valuenow", v);
    if (rotate) {
      this.ref.style.transform = "rotate(" + v + "deg)";
      this.hd.setAttribute("aria-valuetext", this.t("deg", v));
    } else this.pc.style.left = pct(v / this.p.width);
  },

  /** Track pixels per unit of value. */
  scale() {
    return (this.hd.parentNode.getBoundingClientRect().width * (1 - this.f)) / this.max || 1;
  },

  /** Record the value and the pointer's y in picture pixels (a fixed y for keys). */
  point(ev) {
    // From the centre, so that a turned disc (whose bounding box grows) measures the same.
    const r = this.ref;
    const b = r.getBoundingClientRect();
    const k = this.nat / (r.offsetWidth || 1);
    const y = ev ? (ev.clientY - b.top - b.height / 2 + r.offsetHeight / 2) * k : this.y0;
    this.rec(this.v, y, ev);
  },

  /** The pointer's angle around the disc's centre, in degrees clockwise. */
  angle(ev) {
    const b = this.ref.getBoundingClientRect();
    const a = Math.atan2(ev.clientY - b.top - b.height / 2, ev.clientX - b.left - b.width / 2);
    return (a * 180) / Math.PI;
  },

  drags(el, disc) {
    el.addEventListener("pointerdown", (e) => {
      if (!this.live_() || this.drag || (e.pointerType == "mouse" && e.button)) return;
      e.preventDefault();
      try {
        el.setPointerCapture(e.pointerId);
      } catch (err) {
        // Capture is a nicety; moves still arrive while the pointer stays over the element.
      }
      if (el == this.hd) el.focus({ preventScroll: true });
      this.drag = { id: e.pointerId, x: e.clientX, v: this.v, a: disc && this.angle(e) };
      this.tr = new Trace(this.shown, e);
      this.el.classList.add("drag");
      this.begin();
      this.point(e);
    });
    el.addEventListener("pointermove", (e) => {
      const d = this.drag;
      if (!d || d.id != e.pointerId) return;
      this.tr.move(e);
      const list = (e.getCoalescedEvents && e.getCoalescedEvents()) || [];
      for (const ev of list.length ? list : [e]) {
        if (disc) this.move(d.v + this.angle(ev) - d.a, 1);
        else this.move(d.v + (ev.clientX - d.x) / this.scale());
        this.point(ev);
      }
    });
    const end = (e) => {
      const d = this.drag;
      if (!d || d.id != e.pointerId) return;
      this.drag = null;
      this.el.classList.remove("drag");
      if (e.type == "pointerup" && this.v != d.v) {
        this.tr.add(e);
        this.point(e);
        this.submit();
      } else {
        this.move(d.v);
        this.traj = [];
        this.tr = null;
      }
    };
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
  },

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
    this.kb = true;
    this.tr = null;
    if (!this.traj.length) this.point(null);
    // The disc turns round and round; the puzzle piece stops at the ends.
    this.move(v, this.kind == "rotate");
    this.point(null);
  },
};
