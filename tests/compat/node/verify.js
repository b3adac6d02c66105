// One verification by a published server library, configured only by its URL setting.
// Usage: node verify.js LIBRARY BASE_URL SECRET TOKEN [ACTION]
// Prints {"passed": bool, "codes": [...], "score": n|null, "action": s|null, "threw": s|null}.
"use strict";

require("reflect-metadata");

const [library, base, secret, token, action] = process.argv.slice(2);
const url = new URL(base);

function outcome(passed, codes, extra = {}) {
  return { passed: Boolean(passed), codes: codes || [], score: null, action: null, threw: null, ...extra };
}

async function recaptchaNode(version) {
  const { RecaptchaV2, RecaptchaV3 } = require("recaptcha-node");
  const Kind = version === 3 ? RecaptchaV3 : RecaptchaV2;
  const options = { hostname: url.hostname, port: Number(url.port), protocol: "http" };
  const result = await new Kind(secret, options).verify(token);
  return outcome(result.success, result.errorCodes, { score: result.score ?? null, action: result.action ?? null });
}

async function cfTurnstile() {
  const turnstile = require("cf-turnstile");
  const verify = turnstile(secret, { apiUrl: `${base}/turnstile/v0/siteverify` });
  const result = await verify(token, action ? { action } : undefined);
  return outcome(result.success, result.errors, { action: result.action ?? null });
}

function googleRecaptcha() {
  const GoogleRecaptcha = require("google-recaptcha");
  const client = new GoogleRecaptcha({ secret, apiUrl: `${base}/recaptcha/api/siteverify`, logger: () => {} });
  return new Promise((resolve, reject) => {
    client.verify({ response: token }, (error, body) => {
      if (body && typeof body === "object") resolve(outcome(!error && body.success, body["error-codes"]));
      else reject(error);
    });
  });
}

async function nestlab() {
  const axios = require("axios");
  const { Logger } = require("@nestjs/common");
  const { GoogleRecaptchaValidator, RecaptchaConfigRef } = require("@nestlab/google-recaptcha");
  const config = new RecaptchaConfigRef({ secretKey: secret, network: `${base}/recaptcha/api/siteverify`, score: 0.5 });
  const validator = new GoogleRecaptchaValidator(axios.create(), new Logger(), config);
  const result = await validator.validate({ response: token, action });
  return outcome(result.success, result.errors, { score: result.score ?? null, action: result.action ?? null });
}

const LIBRARIES = {
  "recaptcha-node-v2": () => recaptchaNode(2),
  "recaptcha-node-v3": () => recaptchaNode(3),
  "cf-turnstile": cfTurnstile,
  "google-recaptcha": googleRecaptcha,
  "nestlab-google-recaptcha": nestlab,
};

(async () => {
  let result;
  try {
    result = await LIBRARIES[library]();
  } catch (error) {
    result = outcome(false, [], { threw: String(error && error.message ? error.message : error) });
  }
  process.stdout.write(JSON.stringify(result) + "\n");
})();
