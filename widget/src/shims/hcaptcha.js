// hCaptcha shim, served at /1/api.js: `hcaptcha` over HumanGate's widget, for pages written for
// hCaptcha (checkbox and invisible) where only the script's host changes. Like hCaptcha it fills
// `g-recaptcha-response` too and stands in for `grecaptcha`, unless `recaptchacompat=off`.

import { call } from "../widget.js";
import { locate, registry, renderAll, whenReady } from "./core.js";

if (!window.hcaptcha) {
  const { query, api, nonce } = locate(/\/1\/api\.js/, "../");
  const compat = query.get("recaptchacompat") != "off";
  const core = registry(api, {
    nonce,
    name: "hcaptcha",
    id: (n) => "hc" + n,
    options: (pick, bound) => {
      const invisible = bound || pick("size") == "invisible";
      return {
        field: "h-captcha-response",
        extra: compat ? ["g-recaptcha-response"] : [],
        lang: pick("hl") || query.get("hl"),
        hidden: invisible ? "overlay" : "",
        lazy: invisible,
      };
    },
  });
  const element = (c) => (typeof c == "string" ? document.getElementById(c) : c);

  const hcaptcha = {
    render: (container, params) => core.render(element(container), params || {}),
    /** With `{async: true}`, a promise of `{response, key}`; otherwise the callback has it. */
    execute(ref, options) {
      if (ref && typeof ref == "object" && !(ref instanceof Element)) {
        options = ref;
        ref = undefined;
      }
      const wait = core.execute(ref, options && options.async);
      if (wait) return wait.then((response) => ({ response, key: hcaptcha.getRespKey(ref) }));
    },
    reset: (ref) => core.reset(ref),
    remove: (ref) => core.remove(ref),
    getResponse: (ref) => core.response(ref) || "",
    /** The response's key: the id of the challenge the token was given for. */
    getRespKey(ref) {
      const slot = core.find(ref);
      return slot && slot.w && slot.w.token && slot.w.ch ? slot.w.ch.id : "";
    },
  };
  window.hcaptcha = hcaptcha;
  if (compat && !window.grecaptcha) window.grecaptcha = hcaptcha;

  whenReady(() => {
    if (query.get("render") != "explicit") {
      renderAll(".h-captcha", (el) => hcaptcha.render(el));
    }
    if (query.get("onload")) call(query.get("onload"));
  });
}
