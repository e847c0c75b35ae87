#!/usr/bin/env node
// Peer benchmark: @aws-sdk/cloudfront-signer (RSA-SHA1), the way its users call it: the
// private key is passed as the PEM string on every call and dates as ISO strings.
//
// Usage: node bench/peers/peers.mjs [SECONDS]     (default 3 per op; run by scripts/bench-peers
// under `taskset -c 0`; the SDK is loaded from .tools/node, see scripts/setup)
//
// Ops, each timed for about SECONDS after a short warm-up, inputs from the test vectors:
//   "cookie set rsa-sha1 canned"  getSignedCookies({url, dateLessThan})
//   "cookie set rsa-sha1 custom"  getSignedCookies({url: wildcard resource, dateLessThan,
//                                                   dateGreaterThan, ipAddress})
//   "signed url rsa-sha1"         getSignedUrl({url, dateLessThan})
// Each op's first output is checked against the vectors (the custom cookie by its decoded
// policy, since the SDK orders conditions differently) before timing starts.
// Prints one JSON line per op: {"impl", "op", "per_sec"}.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const toolsDir = process.env.EDGEPASS_TOOLS ? path.resolve(process.env.EDGEPASS_TOOLS) : path.join(root, ".tools");
const require = createRequire(path.join(toolsDir, "node", "package.json"));
const { getSignedCookies, getSignedUrl } = require("@aws-sdk/cloudfront-signer");
const sdkVersion = require("@aws-sdk/cloudfront-signer/package.json").version;

const vectorsDir = path.join(root, "tests", "fixtures", "vectors");
const vectors = JSON.parse(readFileSync(path.join(vectorsDir, "vectors.json"), "utf8"));
const inputs = vectors.inputs;
const vector = (id) => vectors.vectors.find((v) => v.id === id);
const privateKey = readFileSync(path.join(vectorsDir, inputs.rsa_private_key_file), "utf8");
const keyPairId = inputs.rsa_key_pair_id;

function measure(fn, seconds, warmup = 0.3) {
  let end = performance.now() + warmup * 1000;
  while (performance.now() < end) fn();
  let n = 0;
  const start = performance.now();
  end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    fn();
    n += 1;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const cfB64Decode = (s) =>
  Buffer.from(s.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"), "base64").toString("utf8");
const sameJson = (a, b) => {
  const norm = (v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, norm(v[k])]))
      : Array.isArray(v) ? v.map(norm) : v;
  return JSON.stringify(norm(JSON.parse(a))) === JSON.stringify(norm(JSON.parse(b)));
};
const queryMap = (u) => Object.fromEntries(new URL(u).searchParams);

const ops = [
  {
    op: "cookie set rsa-sha1 canned",
    fn: () =>
      getSignedCookies({ url: inputs.cookie_canned_resource, keyPairId, privateKey, dateLessThan: inputs.expires_utc }),
    check: (out) => {
      const want = vector("canned-cookies-rsa-sha1").output;
      return Object.keys(want).every((k) => String(out[k]) === String(want[k]));
    },
  },
  {
    op: "cookie set rsa-sha1 custom",
    fn: () =>
      getSignedCookies({
        url: inputs.cookie_custom_resource,
        keyPairId,
        privateKey,
        dateLessThan: inputs.expires_utc,
        dateGreaterThan: inputs.date_greater_than_utc,
        ipAddress: inputs.source_ip,
      }),
    check: (out) => sameJson(cfB64Decode(out["CloudFront-Policy"]), vector("custom-cookies-rsa-sha1").policy_json),
  },
  {
    op: "signed url rsa-sha1",
    fn: () => getSignedUrl({ url: inputs.canned_url, keyPairId, privateKey, dateLessThan: inputs.expires_utc }),
    check: (out) => {
      const want = vector("canned-url-rsa-sha1").output;
      return out.split("?")[0] === want.split("?")[0] && sameJson(JSON.stringify(queryMap(out)), JSON.stringify(queryMap(want)));
    },
  },
];

const seconds = process.argv[2] ? Number(process.argv[2]) : 3;
const impl = `@aws-sdk/cloudfront-signer ${sdkVersion} + node ${process.versions.node}`;
for (const { op, fn, check } of ops) {
  if (!check(fn())) {
    process.stderr.write(`peers.mjs: ${op}: output differs from the vectors\n`);
    process.exit(1);
  }
  const perSec = measure(fn, seconds);
  process.stdout.write(JSON.stringify({ impl, op, per_sec: Math.round(perSec * 10) / 10 }) + "\n");
}
