// Text and audio: type what is seen or heard. Methods of Widget (mixed into its prototype).

import { ICONS } from "./util.js";

export const Typing = {
  typing(p, inp, img, play, snd) {
    this.inp = inp;
    inp.addEventListener("input", (e) => {
      if (!this.live_()) return;
      this.begin();
      this.rec(this.traj.length, 0, e);
      this.upd();
    });
    inp.addEventListener("keydown", (e) => {
      if (e.key == "Enter") {
        e.preventDefault();
        this.submit();
      }
    });
    if (img) {
      // Half as large again: the letters are small; the picture still shrinks to fit.
      img.src = p.image;
      img.width = p.width * 1.5;
      img.height = p.height * 1.5;
      return;
    }
    this.snd = snd;
    snd.src = p.audio;
    const label = () => {
      const k = snd.paused ? "play" : "pause";
      play.innerHTML = ICONS[k] + "<span>" + this.t(k) + "</span>";
    };
    ["play", "pause", "ended"].forEach((type) => snd.addEventListener(type, label));
    play.addEventListener("click", () => {
      if (!snd.paused) return snd.pause();
      const started = snd.play();
      if (started) started.catch(() => {});
    });
    label();
  },

  /** Stop the audio challenge's sound, if any. */
  mute() {
    if (this.snd) this.snd.pause();
    this.snd = this.inp = null;
  },
};
