// Compact pure-JS SHA-256, because crypto.subtle is missing outside secure contexts (plain http://)
// and is slow for millions of tiny messages anyway. Only what the proof of work needs: hash a
// byte buffer and compare the digest with a precomputed one, without allocating per hash.

const K = new Int32Array(64);
const H0 = new Int32Array(8);
const W = new Int32Array(64);

// Constants: the first 32 bits of the fractional parts of the square roots (H0) and cube roots (K)
// of the first primes, computed instead of spelled out (doubles are exact enough for 32 bits).
for (let n = 2, i = 0; i < 64; n++) {
  let prime = true;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
  if (!prime) continue;
  if (i < 8) H0[i] = (Math.sqrt(n) % 1) * 4294967296;
  K[i++] = (Math.cbrt(n) % 1) * 4294967296;
}

const rotr = (x, n) => (x >>> n) | (x << (32 - n));

/**
 * Hash `len` bytes of `buf` into `out` (8 big-endian words as Int32). `buf` must have room for the
 * padding (len + 72 bytes); the bytes after `len` are overwritten.
 */
export function sha256(buf, len, out) {
  const total = ((len + 72) >> 6) << 6;
  buf.fill(0, len, total);
  buf[len] = 0x80;
  const bits = len * 8;
  buf[total - 4] = bits >>> 24;
  buf[total - 3] = bits >>> 16;
  buf[total - 2] = bits >>> 8;
  buf[total - 1] = bits;
  out.set(H0);
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) {
      const j = off + i * 4;
      W[i] = (buf[j] << 24) | (buf[j + 1] << 16) | (buf[j + 2] << 8) | buf[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const a = W[i - 15];
      const b = W[i - 2];
      W[i] =
        (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) +
        W[i - 16] +
        (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10)) +
        W[i - 7];
    }
    let a = out[0], b = out[1], c = out[2], d = out[3], e = out[4], f = out[5], g = out[6], h = out[7];
    for (let i = 0; i < 64; i++) {
      const t1 =
        (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    out[0] += a;
    out[1] += b;
    out[2] += c;
    out[3] += d;
    out[4] += e;
    out[5] += f;
    out[6] += g;
    out[7] += h;
  }
  return out;
}

/** Parse a 64-char hex digest into 8 Int32 words, for comparing with `sha256`'s output. */
export function hexWords(hex) {
  const words = new Int32Array(8);
  for (let i = 0; i < 8; i++) words[i] = parseInt(hex.substr(i * 8, 8), 16) | 0;
  return words;
}
