// What the vendor shims share: widgets rendered from the vendor's options and `data-*`
// attributes, invisible widgets that start on `execute` and show themselves only when a person is
// needed, and the vendor's response fields kept in step with the token. The widget itself is
// HumanGate's (widget.js), bundled into each shim.

import { call, Widget } from "../widget.js";

// Widget states in which a person has something to do (or to read).
const PERSON = /^(puzzle|failed|error)$/;

/** A widget that also fills the vendor's extra response fields and reports its states. */
class ShimWidget extends Widget {
  build() {
    super.build();
    if (this.o.inputId) this.input.id = this.o.inputId;
    this.extra = (this.o.extra || []).map((name) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      this.container.append(input);
      return input;
    });
  }

  setToken(token) {
    super.setToken(token);
    this.extra.forEach((input) => (input.value = token));
  }

  set(state, text, say) {
    super.set(state, text, say);
    this.o.state(state);
  }

  destroy() {
    super.destroy();
    this.extra.forEach((input) => input.remove());
  }
}

/** The query of the script that loaded the shim (`pattern` finds it when it ran async), the
 * API base, `up` folders above it, and the script's CSP nonce (as humangate.js reads it). */
export function locate(pattern, up) {
  const script =
    document.currentScript ||
    [].slice.call(document.scripts).reverse().find((s) => pattern.test(s.src));
  const src = new URL((script && script.src) || "/", location.href);
  return {
    query: src.searchParams,
    api: new URL(up + "api/v1/", src).href,
    nonce: (script && (script.nonce || script.getAttribute("data-nonce"))) || "",
  };
}

export function whenReady(fn) {
  if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", fn);
  else fn();
}

/** Run `fn` on every element `selector` matches, reporting what one of them throws. */
export function renderAll(selector, fn) {
  document.querySelectorAll(selector).forEach((el) => {
    try {
      fn(el);
    } catch (e) {
      console.error(e);
    }
  });
}

/**
 * The widgets of one vendor API. `vendor.name` prefixes errors, `vendor.nonce` styles them under
 * a strict CSP, `vendor.id(n)` makes the n-th widget's id, `vendor.options(pick, bound, n)` gives
 * the vendor-specific options: `field`, `extra`, `inputId`, `bare` (no field), `lang`, `hidden`
 * ("overlay" | "inline" | ""), `lazy` (start on execute) and `showOnExecute`.
 */
export function registry(api, vendor) {
  const slots = new Map();
  let seq = 0;

  const find = (ref) => {
    if (ref == null) return slots.values().next().value;
    if (slots.has(String(ref))) return slots.get(String(ref));
    for (const slot of slots.values()) if (slot.el == ref || slot.box == ref) return slot;
  };

  const show = (slot, on) => {
    if (slot.o.hidden) slot.box.style.display = on ? "" : "none";
  };

  /** Show a hidden widget that has something for the person (the open callback on a puzzle). */
  const reveal = (slot) => {
    if (!slot.o.hidden || !PERSON.test(slot.w.state)) return;
    if (slot.box.style.display == "none" && slot.w.state == "puzzle") call(slot.o.open);
    show(slot, true);
  };

  const settle = (slot, fn) => {
    const waiters = slot.waiters;
    slot.waiters = [];
    waiters.forEach(fn);
  };

  const deliver = (slot, token) => {
    slot.pending = false;
    slot.delivered = token;
    show(slot, false);
    call(slot.o.callback, token);
    settle(slot, (w) => w[0](token));
  };

  const make = (slot) => {
    const o = slot.o;
    slot.w = new ShimWidget(
      slot.id,
      slot.box,
      {
        sitekey: o.sitekey,
        action: o.action,
        cdata: o.cdata,
        theme: o.theme,
        lang: o.lang,
        field: o.field,
        extra: o.extra,
        inputId: o.inputId,
        nonce: vendor.nonce,
        callback: (token) => {
          slot.expired = false;
          // An invisible widget keeps a token it was not asked for until `execute`.
          if (!o.lazy || slot.pending) deliver(slot, token);
        },
        expired: () => {
          slot.expired = true;
          const had = slot.delivered;
          slot.delivered = "";
          if (had) call(o.expired, had);
        },
        error: (code) => {
          slot.pending = false;
          call(o.error, code);
          settle(slot, (w) => w[1](code));
        },
        state: () => {
          // Called from the widget's constructor too, before `slot.w` is set.
          if (slot.w && (slot.pending || !o.lazy)) reveal(slot);
        },
      },
      api
    );
    // No hidden field (Turnstile's `response-field: false`): the callback alone has the token.
    if (o.bare) slot.w.input.remove();
  };

  /** Render into `el` with the vendor's `params` (else its `data-*` attributes); the id. */
  const render = (el, params) => {
    if (!(el instanceof Element)) throw new Error(vendor.name + ": container not found");
    const existing = find(el);
    if (existing) return existing.id;
    const p = params || {};
    const pick = (key) => (p[key] != null ? p[key] : el.getAttribute("data-" + key));
    const bound = el.matches("button, input");
    const n = seq++;
    const o = {
      sitekey: pick("sitekey"),
      action: pick("action"),
      cdata: pick("cdata"),
      theme: pick("theme"),
      callback: pick("callback"),
      expired: pick("expired-callback"),
      error: pick("error-callback"),
      open: pick("open-callback"),
      ...vendor.options(pick, bound, n),
    };
    if (!o.sitekey) throw new Error(vendor.name + ": a sitekey is required");
    const id = vendor.id(n);
    const slot = { id, el, o, box: el, w: null, pending: false, delivered: "", waiters: [] };
    if (bound || o.hidden) {
      // A bound button keeps its place; the widget (and its field) goes just after it.
      slot.box = document.createElement("div");
      if (bound) el.after(slot.box);
      else el.append(slot.box);
      if (o.hidden == "overlay") {
        // The widget's own width (it fills its container up to 342 px), not a shrunk one.
        slot.box.style.cssText =
          "position:fixed;right:16px;bottom:16px;z-index:2147483647;" +
          "width:342px;max-width:calc(100vw - 32px)";
      }
      show(slot, false);
    }
    if (bound) {
      slot.click = (event) => {
        event.preventDefault();
        execute(id);
      };
      el.addEventListener("click", slot.click);
    }
    slots.set(String(id), slot);
    if (!o.lazy) make(slot);
    return id;
  };

  /** Start (or finish) an invisible widget's check; with `promise`, a promise of its token. */
  const execute = (ref, promise) => {
    const slot = find(ref);
    const waiting =
      promise &&
      new Promise((resolve, reject) => {
        if (slot) slot.waiters.push([resolve, reject]);
        else reject(vendor.name + ": no such widget");
      });
    if (!slot) return waiting || undefined;
    slot.pending = true;
    if (slot.o.showOnExecute) show(slot, true);
    const w = slot.w;
    if (!w) make(slot);
    else if (w.token) deliver(slot, w.token);
    else if (w.state == "error") w.load();
    else reveal(slot);
    return waiting || undefined;
  };

  const reset = (ref) => {
    const slot = find(ref);
    if (!slot) return;
    slot.pending = false;
    slot.delivered = "";
    slot.expired = false;
    show(slot, false);
    if (slot.w) {
      slot.w.fails = 0;
      slot.w.load();
    }
  };

  const remove = (ref) => {
    const slot = find(ref);
    if (!slot) return;
    if (slot.w) slot.w.destroy();
    if (slot.box != slot.el) slot.box.remove();
    if (slot.click) slot.el.removeEventListener("click", slot.click);
    slots.delete(String(slot.id));
  };

  const response = (ref) => {
    const slot = find(ref);
    return slot ? (slot.w && slot.w.token) || "" : undefined;
  };

  return { find, render, execute, reset, remove, response };
}
