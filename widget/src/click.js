// Click: numbered points on the picture in the order the prompt shows, by pointer or by a
// keyboard crosshair. Methods of Widget (mixed into its prototype).

import { Trace } from "./env.js";
import { clamp, pct } from "./util.js";

export const Clicks = {
  clicks(p, bg, box, prompt) {
    this.box = box;
    box.style.paddingTop = pct(p.height / p.width);
    bg.src = p.image;
    prompt.src = p.prompt_image;
    prompt.width = p.prompt_width;
    prompt.height = p.prompt_height;
    this.cx = box.querySelector(".cx");
    this.cursor(p.width / 2, p.height / 2);
    const at = (e) => {
      const b = box.getBoundingClientRect();
      return [
        clamp(((e.clientX - b.left) * p.width) / (b.width || 1), 0, p.width - 1),
        clamp(((e.clientY - b.top) * p.height) / (b.height || 1), 0, p.height - 1),
      ];
    };
    box.addEventListener("pointermove", (e) => {
      if (!this.live_()) return;
      // The pointer's recording runs from its first move over the picture to the last click.
      if (this.tr) this.tr.move(e);
      else this.tr = new Trace(this.shown, e);
      if (e.pointerType == "mouse") this.rec(...at(e), e);
    });
    box.addEventListener("click", (e) => {
      if (!this.live_()) return;
      if (this.tr) this.tr.add(e);
      else this.tr = new Trace(this.shown, e);
      this.place(...at(e), e);
    });
    box.addEventListener("keydown", (e) => this.ckey(e));
  },

  cursor(x, y) {
    const p = this.p;
    this.cur = [clamp(x, 0, p.width - 1), clamp(y, 0, p.height - 1)];
    this.cx.style.left = pct(this.cur[0] / p.width);
    this.cx.style.top = pct(this.cur[1] / p.height);
  },

  sayPos() {
    const [x, y] = this.cur;
    this.say(this.t("clickPos", Math.round(x), Math.round(y), this.pts.length, this.p.count));
  },

  place(x, y, ev) {
    const pts = this.pts;
    if (!this.live_()) return;
    this.cursor(x, y);
    if (pts.length < this.p.count) {
      this.begin();
      pts.push(this.cur);
      this.rec(x, y, ev);
      const mark = document.createElement("span");
      mark.className = "mk";
      mark.textContent = pts.length;
      mark.style.left = this.cx.style.left;
      mark.style.top = this.cx.style.top;
      this.box.append(mark);
      this.upd();
    }
    this.sayPos();
  },

  undo() {
    if (!this.live_() || !this.pts.length) return;
    this.pts.pop();
    this.box.lastChild.remove();
    this.upd();
    this.sayPos();
  },

  /** A point placed or moved by keys: the answer takes the keyboard path. */
  keyed() {
    this.kb = true;
    this.tr = null;
  },

  ckey(e) {
    if (!this.live_()) return;
    const step = e.shiftKey ? 10 : 1;
    let [x, y] = this.cur;
    const k = e.key;
    if (k == "ArrowLeft") x -= step;
    else if (k == "ArrowRight") x += step;
    else if (k == "ArrowUp") y -= step;
    else if (k == "ArrowDown") y += step;
    else if (k == "Backspace" || k == "Delete") this.undo();
    else if (k == "Enter" && this.pts.length >= this.p.count) this.submit();
    else if (k == " " || k == "Enter") {
      this.keyed();
      this.place(x, y);
    }
    else return;
    e.preventDefault();
    if (k[0] == "A") {
      this.keyed();
      this.begin();
      this.cursor(x, y);
      this.rec(...this.cur);
      this.sayPos();
    }
  },
};
