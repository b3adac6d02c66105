// Build humangate.js: one minified ES2019 IIFE, checked in at humangate/static/humangate.js.
//   node build.mjs                    build into humangate/static/humangate.js
//   node build.mjs --outfile PATH     build elsewhere (the stale-build test compares the two)
//   node build.mjs --watch            rebuild on change
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf("--outfile");
const outfile = resolve(at >= 0 ? args[at + 1] : resolve(here, "../humangate/static/humangate.js"));
const { version } = JSON.parse(readFileSync(resolve(here, "package.json"), "utf8"));

const options = {
  entryPoints: [resolve(here, "src/index.js")],
  outfile,
  bundle: true,
  format: "iife",
  target: "es2019",
  minify: true,
  charset: "ascii",
  legalComments: "none",
  banner: { js: `/*! HumanGate widget ${version} | Apache-2.0 */` },
  logLevel: "warning",
};

function report() {
  const code = readFileSync(outfile);
  const gz = gzipSync(code, { level: 9 }).length;
  const name = relative(process.cwd(), outfile) || outfile;
  console.log(`${name}: ${code.length} bytes raw, ${gz} bytes gzipped`);
}

if (args.includes("--watch")) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{ name: "report", setup: (b) => b.onEnd((r) => r.errors.length || report()) }],
  });
  await ctx.watch();
} else {
  await esbuild.build(options);
  report();
}
