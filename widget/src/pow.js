// ALTCHA v1 proof of work: find `number` in [0, maxnumber] with sha256hex(salt + number) ===
// challenge. Runs on the main thread in time-boxed slices that yield to the event loop.

import { hexWords, sha256 } from "./sha256.js";

const SLICE_MS = 20;

/**
 * Resolve with the solution `{ number, elapsed_ms, hashes }` (how long the search took and how
 * many hashes it computed, which the server compares with what a browser can do), or null if
 * none matches. `alive()` is polled between slices: when it returns false the search stops and
 * resolves null.
 */
export function solvePow(pow, alive) {
  const salt = new TextEncoder().encode(pow.salt);
  const max = Math.max(0, Math.floor(Number(pow.maxnumber) || 0));
  const target = hexWords(String(pow.challenge).toLowerCase());
  const buf = new Uint8Array(salt.length + 96);
  const out = new Int32Array(8);
  buf.set(salt);
  let n = 0;
  const start = performance.now();
  const found = () => ({
    number: n,
    elapsed_ms: Math.round((performance.now() - start) * 10) / 10,
    hashes: n + 1,
  });
  return new Promise((resolve) => {
    const slice = () => {
      if (!alive()) return resolve(null);
      const end = performance.now() + SLICE_MS;
      do {
        for (let stop = Math.min(max, n + 999); n <= stop; n++) {
          // Write the decimal digits of n after the salt.
          const digits = String(n);
          let len = salt.length;
          for (let i = 0; i < digits.length; i++) buf[len++] = digits.charCodeAt(i);
          sha256(buf, len, out);
          if (
            out[0] === target[0] &&
            out[1] === target[1] &&
            out[2] === target[2] &&
            out[3] === target[3] &&
            out[4] === target[4] &&
            out[5] === target[5] &&
            out[6] === target[6] &&
            out[7] === target[7]
          )
            return resolve(found());
        }
        if (n > max) return resolve(null);
      } while (performance.now() < end);
      setTimeout(slice, 0);
    };
    slice();
  });
}
