// humangate.js entry: finds its server from its own <script src>, renders every
// `.humangate[data-sitekey]` (unless told to render explicitly) and exposes `window.humangate`.

import { environment } from "./env.js";
import { call, Widget } from "./widget.js";

if (!window.humangate) {
  const script =
    document.currentScript ||
    [].slice.call(document.scripts).reverse().find((s) => /humangate[^/]*\.js/.test(s.src));
  const src = new URL((script && script.src) || "/humangate.js", location.href);
  // Relative to the script, so a server mounted under a path prefix works too; the versioned
  // URL (`v/<digest>/humangate.js`) sits two folders below that prefix.
  const versioned = /\/v\/[0-9a-f]+\/humangate[^/]*\.js$/.test(src.pathname);
  const api = new URL(versioned ? "../../api/v1/" : "api/v1/", src).href;
  const query = src.searchParams;
  // A strict CSP's nonce, for the <style> of a browser without constructed stylesheets; the
  // browser hides the attribute's value, so the property is read first.
  const nonce = (script && (script.nonce || script.getAttribute("data-nonce"))) || "";
  const explicit =
    query.get("render") == "explicit" || (script && script.getAttribute("data-render")) == "explicit";
  const widgets = new Map();
  let seq = 0;

  const byContainer = (el) => {
    for (const w of widgets.values()) if (w.container == el) return w;
  };

  const find = (ref) => {
    if (ref == null) return widgets.values().next().value;
    if (ref instanceof Element) return byContainer(ref);
    if (widgets.has(String(ref))) return widgets.get(String(ref));
    try {
      return byContainer(document.querySelector(ref));
    } catch (e) {
      return undefined;
    }
  };

  const render = (target, options) => {
    const el = typeof target == "string" ? document.querySelector(target) : target;
    if (!(el instanceof Element)) throw new Error("humangate: container not found");
    const existing = byContainer(el);
    if (existing) return existing.id;
    const o = options || {};
    const d = el.dataset;
    const pick = (key, data) => (o[key] != null ? o[key] : d[data || key]);
    const opts = {
      sitekey: pick("sitekey"),
      action: pick("action"),
      cdata: pick("cdata"),
      theme: pick("theme"),
      lang: pick("lang"),
      callback: pick("callback"),
      expired: pick("expired-callback", "expiredCallback"),
      error: pick("error-callback", "errorCallback"),
      field: pick("response-field-name", "responseFieldName") || "humangate-response",
      nonce,
    };
    if (!opts.sitekey) throw new Error("humangate: a sitekey is required");
    const id = "hg" + seq++;
    widgets.set(id, new Widget(id, el, opts, api));
    return id;
  };

  window.humangate = {
    render,
    // The facts the device id is made from; the privacy page sends them to find its records.
    environment,
    getResponse(ref) {
      const w = find(ref);
      return w ? w.token : undefined;
    },
    reset(ref) {
      const w = find(ref);
      if (w) {
        w.fails = 0;
        w.load();
      }
    },
    remove(ref) {
      const w = find(ref);
      if (w) {
        w.destroy();
        widgets.delete(w.id);
      }
    },
  };

  const start = () => {
    if (!explicit) {
      document.querySelectorAll(".humangate[data-sitekey]").forEach((el) => {
        try {
          render(el);
        } catch (e) {
          console.error(e);
        }
      });
    }
    if (query.get("onload")) call(query.get("onload"));
  };
  if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
