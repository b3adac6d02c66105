// Turnstile shim, served at /turnstile/v0/api.js: `turnstile` over HumanGate's widget, for pages
// written for Cloudflare Turnstile (implicit and explicit rendering, `execute`, appearance,
// action, cdata, callbacks) where only the script's host changes. Site keys are HumanGate's.

import { call } from "../widget.js";
import { locate, registry, renderAll, whenReady } from "./core.js";

if (!window.turnstile) {
  const { query, api, nonce } = locate(/\/turnstile\/v0\/api\.js/, "../../");
  const core = registry(api, {
    nonce,
    name: "turnstile",
    id: (n) => "cf-chl-widget-hg" + n,
    options: (pick) => {
      const appearance = pick("appearance");
      const bare = String(pick("response-field")) == "false";
      return {
        field: pick("response-field-name") || "cf-turnstile-response",
        lang: pick("language"),
        // "execute": shown from `execute` on; "interaction-only": shown when a person is needed.
        hidden: appearance == "execute" || appearance == "interaction-only" ? "inline" : "",
        showOnExecute: appearance == "execute",
        lazy: pick("execution") == "execute",
        bare,
      };
    },
  });
  const element = (c) => (typeof c == "string" ? document.querySelector(c) : c);
  // A widget's id, its container or the container's selector.
  const widget = (ref) => {
    if (typeof ref != "string" || core.find(ref)) return core.find(ref);
    try {
      return core.find(document.querySelector(ref));
    } catch (e) {
      return undefined;
    }
  };
  const id = (ref) => {
    const slot = widget(ref);
    return slot ? slot.id : ref === undefined ? undefined : "";
  };
  let loaded = false;
  const queue = [];

  const turnstile = {
    render: (container, params) => core.render(element(container), params || {}),
    execute(ref, params) {
      const slot = widget(ref);
      core.execute(slot ? slot.id : turnstile.render(ref, { ...params, execution: "execute" }));
    },
    reset: (ref) => core.reset(id(ref)),
    remove: (ref) => core.remove(id(ref)),
    getResponse: (ref) => core.response(id(ref)),
    isExpired(ref) {
      const slot = widget(ref);
      return !!(slot && slot.expired);
    },
    ready(fn) {
      if (loaded) call(fn);
      else queue.push(fn);
    },
  };
  window.turnstile = turnstile;

  whenReady(() => {
    if (query.get("render") != "explicit") {
      renderAll(".cf-turnstile", (el) => turnstile.render(el));
    }
    loaded = true;
    queue.splice(0).forEach((fn) => call(fn));
    if (query.get("onload")) call(query.get("onload"));
  });
}
