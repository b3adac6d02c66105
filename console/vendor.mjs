// Copy the console's third-party assets from node_modules into humangate/static/console, where
// they are checked in and served by HumanGate itself (no CDN, strict CSP).
//   npm ci --prefix console && node console/vendor.mjs
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../humangate/static/console");
const assets = [
  ["htmx.org", "dist/htmx.min.js", "htmx.min.js"],
  ["uplot", "dist/uPlot.iife.min.js", "uPlot.iife.min.js"],
  ["uplot", "dist/uPlot.min.css", "uPlot.min.css"],
];

mkdirSync(out, { recursive: true });
const lines = ["# Vendored by console/vendor.mjs from npm; do not edit by hand.", ""];
for (const [pkg, from, to] of assets) {
  const root = resolve(here, "node_modules", pkg);
  const { version, license } = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"));
  copyFileSync(resolve(root, from), resolve(out, to));
  lines.push(`${to}: ${pkg}@${version} (${license}) ${from}`);
  copyFileSync(resolve(root, "LICENSE"), resolve(out, `LICENSE-${pkg}.txt`));
}
writeFileSync(resolve(out, "VENDORED.txt"), lines.join("\n") + "\n");
console.log(lines.slice(2).join("\n"));
