// Build humangate.js and the vendor shims (reCAPTCHA, hCaptcha, Turnstile), each one minified
// ES2019 IIFE, checked in at humangate/static/humangate.js and humangate/static/shims/*.js.
//   node build.mjs                    build into humangate/static/
//   node build.mjs --outdir DIR       build all of them under DIR (the stale-build test compares)
//   node build.mjs --outfile PATH     build humangate.js alone, elsewhere
//   node build.mjs --watch            rebuild on change
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => (args.indexOf(name) >= 0 ? resolve(args[args.indexOf(name) + 1]) : null);
const outdir = flag("--outdir") || resolve(here, "../humangate/static");
const { version } = JSON.parse(readFileSync(resolve(here, "package.json"), "utf8"));

// [source, output under outdir, what the banner calls it]
const ENTRIES = [
  ["src/index.js", "humangate.js", "widget"],
  ["src/shims/recaptcha.js", "shims/recaptcha.js", "reCAPTCHA shim"],
  ["src/shims/hcaptcha.js", "shims/hcaptcha.js", "hCaptcha shim"],
  ["src/shims/turnstile.js", "shims/turnstile.js", "Turnstile shim"],
];
const builds = flag("--outfile")
  ? [[ENTRIES[0][0], flag("--outfile"), ENTRIES[0][2]]]
  : ENTRIES.map(([src, out, what]) => [src, resolve(outdir, out), what]);

const options = ([src, outfile, what]) => ({
  entryPoints: [resolve(here, src)],
  outfile,
  bundle: true,
  format: "iife",
  target: "es2019",
  minify: true,
  charset: "ascii",
  legalComments: "none",
  banner: { js: `/*! HumanGate ${what} ${version} | Apache-2.0 */` },
  logLevel: "warning",
});

function report(outfile) {
  const code = readFileSync(outfile);
  const gz = gzipSync(code, { level: 9 }).length;
  const name = relative(process.cwd(), outfile) || outfile;
  console.log(`${name}: ${code.length} bytes raw, ${gz} bytes gzipped`);
}

if (args.includes("--watch")) {
  for (const build of builds) {
    const ctx = await esbuild.context({
      ...options(build),
      plugins: [
        { name: "report", setup: (b) => b.onEnd((r) => r.errors.length || report(build[1])) },
      ],
    });
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((build) => esbuild.build(options(build))));
  builds.forEach((build) => report(build[1]));
}
