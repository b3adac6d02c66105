// reCAPTCHA shim, served at /recaptcha/api.js and /recaptcha/enterprise.js: `grecaptcha` (and
// `grecaptcha.enterprise`) over HumanGate's widget, for pages written for reCAPTCHA v2 (checkbox
// and invisible) and v3, where only the script's host changes. Site keys are HumanGate's.

import { call } from "../widget.js";
import { locate, registry, renderAll, whenReady } from "./core.js";

if (!window.grecaptcha || !window.grecaptcha.render) {
  const { query, api, nonce } = locate(/\/recaptcha\/(api|enterprise)\.js/, "../");
  const hl = query.get("hl");
  const core = registry(api, {
    nonce,
    name: "grecaptcha",
    id: (n) => n,
    options: (pick, bound, n) => {
      const invisible = bound || pick("size") == "invisible";
      return {
        field: "g-recaptcha-response",
        // reCAPTCHA names the first widget's field `g-recaptcha-response`, then `-1`, `-2`...
        inputId: "g-recaptcha-response" + (n ? "-" + n : ""),
        lang: pick("hl") || hl,
        hidden: invisible ? "overlay" : "",
        lazy: invisible,
      };
    },
  });
  const element = (c) => (typeof c == "string" ? document.getElementById(c) : c);
  let loaded = false;
  const queue = [];

  /** v3: a token for `sitekey` and `action` from a widget made for it, shown only if a person
   * is needed. */
  const executeV3 = (sitekey, options) => {
    const box = document.createElement("div");
    document.body.append(box);
    const id = core.render(box, {
      sitekey,
      action: (options && options.action) || undefined,
      size: "invisible",
    });
    const done = () => {
      core.remove(id);
      box.remove();
    };
    return core.execute(id, true).then(
      (token) => {
        done();
        return token;
      },
      (code) => {
        done();
        throw new Error("grecaptcha: " + code);
      }
    );
  };

  const grecaptcha = {
    render: (container, params) => core.render(element(container), params || {}),
    execute(ref, options) {
      if (typeof ref == "string" && !core.find(ref)) return executeV3(ref, options);
      core.execute(ref);
    },
    reset: (ref) => core.reset(ref),
    getResponse: (ref) => core.response(ref) || "",
    ready(fn) {
      if (loaded) call(fn);
      else queue.push(fn);
    },
  };
  grecaptcha.enterprise = grecaptcha;
  window.grecaptcha = grecaptcha;

  whenReady(() => {
    if (query.get("render") != "explicit") {
      renderAll(".g-recaptcha", (el) => grecaptcha.render(el));
    }
    loaded = true;
    queue.splice(0).forEach((fn) => call(fn));
    if (query.get("onload")) call(query.get("onload"));
  });
}
