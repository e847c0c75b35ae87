#!/usr/bin/env node
// Reference signer: @aws-sdk/cloudfront-signer (the AWS SDK for JavaScript v3 CloudFront signer).
//
// Usage: node tests/reference/js_sign.mjs CASES.json      (installed by scripts/setup)
//
// Reads a JSON array of cases and prints a JSON array of results on stdout.
//   case:   {id, kind: "url"|"cookies", url, resource, policy, expires, not_before, ip,
//            hash: "SHA1"|"SHA256", key_pair_id, private_key_file}
//           A case is canned when resource, not_before and ip are all null.
//   result: {id, producer, mode: "own"|"verbatim", url | cookies, policy?, note?}
//           or {id, producer, mode, error}   when the SDK throws (e.g. it rejects an input)
//   - canned url     : getSignedUrl({url, dateLessThan})                        -> mode "own"
//   - canned cookies : getSignedCookies({url, dateLessThan})                    -> mode "own"
//   - custom url     : getSignedUrl({url, policy})  with the case's policy     -> mode "verbatim"
//                      getSignedUrl({url, dateLessThan, dateGreaterThan, ipAddress}) when the
//                      resource is the URL itself; with a different resource (e.g. a wildcard)
//                      the SDK builds the policy through getSignedCookies({url: resource, ...}),
//                      and that policy is then given to getSignedUrl({url, policy}) -> "own"
//   - custom cookies : getSignedCookies({policy})                               -> mode "verbatim"
//                      getSignedCookies({url: resource, dateLessThan, ...})     -> mode "own"
//   SHA256 cases pass `algorithm: "SHA256"` (the option's spelling in 3.1166.0, type
//   CloudfrontSignerAlgorithm = "SHA1" | "SHA256"; default "SHA1"); the SDK then adds
//   Hash-Algorithm=SHA256 / CloudFront-Hash-Algorithm=SHA256. SHA1 cases pass no algorithm.
//   The SDK's own custom policy orders Condition as DateLessThan, DateGreaterThan, IpAddress
//   and turns a bare IP into "a.b.c.d/32".
//   Cookie values are emitted as strings, as they travel (the SDK returns CloudFront-Expires as
//   a number).
//   The private key is passed as the PEM text (any key type node:crypto can sign with; an EC
//   key gives a DER ECDSA signature over the stated hash).
//
// How 3.1166.0 rewrites the URL (dist-cjs/index.js, read for this harness):
//   getSignedUrl({url}) replaces url with encodeUrlPath(url) BEFORE anything else; the canned
//   policy's Resource, the custom policy it builds, and the returned URL all use that rewritten
//   string. getSignedCookies does NOT rewrite: its Resource is the url exactly as given.
//   encodeUrlPath(url):
//   - origin = everything before the first "/" after "//" (scheme, userinfo, host, port are
//     untouched, case included). No "//" or no "/" after the host: the URL is returned as is
//     (so "https://host?q=a b" is not rewritten at all, while in "https://host?q=/x y" the "/"
//     inside the query is taken as the start of the path).
//   - path (up to the first "?"; a "#" is not special): every maximal run of non-"/" characters
//     becomes encodeURIComponent(decodeURIComponent(run)). Hence:
//       unreserved-by-JS characters  A-Z a-z 0-9 - _ . ! ~ * ' ( )  come out raw, even when they
//       were percent-encoded: %7E -> ~, %27 -> ', %28 -> (, %2A -> *, %21 -> !;
//       everything else comes out percent-encoded with upper-case hex: space and %20 -> %20,
//       + -> %2B, : @ , ; = $ & -> %3A %40 %2C %3B %3D %24 %26, # -> %23, %c3%a9 -> %C3%A9,
//       raw non-ASCII -> its UTF-8 bytes (é -> %C3%A9); %2F stays %2F (segments are split on "/"
//       before decoding); empty segments, "." and ".." are kept.
//       If decodeURIComponent throws (a "%" not followed by two hex digits, or bytes that are not
//       valid UTF-8 such as a lone %C3), the whole run is encodeURIComponent'ed as is, so EVERY
//       "%" in it becomes "%25": "%ZZ%20.jpg" -> "%25ZZ%2520.jpg", "%C3.jpg" -> "%25C3.jpg".
//   - query (after the first "?"): split on "&", empty pieces dropped (a lone trailing "?" or
//     "&" disappears); each piece split at its first "=" into key and value, a piece without
//     "=" gets one ("flag" -> "flag="). Key and value are each split around "%XX" triplets and
//     "+": a triplet is kept but upper-cased (%3d -> %3D, %7E stays %7E), "+" is kept, and the
//     text between goes through encodeURIComponent plus ' -> %27. So in the query
//     ! ~ * ( ) stay raw, ' -> %27, a further "=" -> %3D, "/" -> %2F, "?" -> %3F, space -> %20,
//     "#" -> %23, a bad "%ZZ" -> %25ZZ, raw non-ASCII -> UTF-8 percent-encoded.
//   Signing parameters are appended after "?" or "&" in the order Expires | Policy,
//   Key-Pair-Id, Signature[, Hash-Algorithm], each key and value through smithy's
//   extendedEncodeURIComponent (a no-op for the CloudFront base64 alphabet). The scheme must be
//   exactly "http:", "https:", "ws:", "wss:" or "rtmp:" (lower case), else the SDK throws.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = process.env.EDGEPASS_TOOLS
  ? path.resolve(process.env.EDGEPASS_TOOLS)
  : path.resolve(here, "..", "..", ".tools");
const nodeDir = path.join(toolsDir, "node");

let sdk, sdkVersion;
try {
  const require = createRequire(path.join(nodeDir, "package.json"));
  sdk = require("@aws-sdk/cloudfront-signer");
  sdkVersion = require("@aws-sdk/cloudfront-signer/package.json").version;
} catch (e) {
  process.stderr.write(
    `js_sign: cannot load @aws-sdk/cloudfront-signer from ${nodeDir}/node_modules ` +
      `(run scripts/setup): ${e.message}\n`,
  );
  process.exit(2);
}
const { getSignedUrl, getSignedCookies } = sdk;
const PRODUCER = `@aws-sdk/cloudfront-signer ${sdkVersion}`;

const keyCache = new Map();
function readKey(file) {
  if (!keyCache.has(file)) keyCache.set(file, readFileSync(file, "utf8"));
  return keyCache.get(file);
}

// CloudFront base64 (+ -> -, = -> _, / -> ~) back to text.
function cfB64Decode(s) {
  return Buffer.from(s.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"), "base64").toString("utf8");
}

// The Policy query parameter of a signed URL, decoded; undefined when there is none.
function policyOfUrl(signedUrl) {
  const m = /[?&]Policy=([^&]*)/.exec(signedUrl);
  return m ? cfB64Decode(decodeURIComponent(m[1])) : undefined;
}

// The SDK's cookie map with every value as the string that goes on the wire.
function cookieStrings(cookies) {
  return Object.fromEntries(Object.entries(cookies).map(([k, v]) => [k, String(v)]));
}

const isCanned = (c) => c.resource == null && c.not_before == null && c.ip == null;

function common(c) {
  const args = { keyPairId: c.key_pair_id, privateKey: readKey(c.private_key_file) };
  if (c.hash === "SHA256") args.algorithm = "SHA256";
  else if (c.hash !== "SHA1") throw new Error(`unknown hash ${JSON.stringify(c.hash)}`);
  return args;
}

function dates(c) {
  const d = { dateLessThan: new Date(c.expires * 1000) };
  if (c.not_before != null) d.dateGreaterThan = new Date(c.not_before * 1000);
  if (c.ip != null) d.ipAddress = c.ip;
  return d;
}

// Runs fn and returns its result, or an error result when the SDK throws.
function attempt(c, mode, fn) {
  try {
    return { id: c.id, producer: PRODUCER, mode, ...fn() };
  } catch (e) {
    return { id: c.id, producer: PRODUCER, mode, error: String(e && e.message ? e.message : e) };
  }
}

function signUrl(c) {
  if (!c.url) return [{ id: c.id, producer: PRODUCER, skipped: "kind url needs a url" }];
  if (isCanned(c)) {
    return [attempt(c, "own", () => ({ url: getSignedUrl({ url: c.url, ...common(c), ...dates(c) }) }))];
  }
  const out = [];
  if (c.policy != null) {
    out.push(
      attempt(c, "verbatim", () => {
        const url = getSignedUrl({ url: c.url, policy: c.policy, ...common(c) });
        return { url, policy: policyOfUrl(url) };
      }),
    );
  }
  out.push(
    attempt(c, "own", () => {
      if (c.resource == null || c.resource === c.url) {
        const url = getSignedUrl({ url: c.url, ...common(c), ...dates(c) });
        return { url, policy: policyOfUrl(url) };
      }
      // getSignedUrl only builds policies whose Resource is the URL; let the SDK build the
      // policy for the resource through getSignedCookies and sign the URL with it.
      const cookies = getSignedCookies({ url: c.resource, ...common(c), ...dates(c) });
      if (cookies["CloudFront-Policy"] === undefined) {
        // Without a start time or IP block the SDK builds a canned policy even for a wildcard
        // resource, which cannot sign a different URL.
        return { skipped: "the SDK builds a canned policy for a resource without conditions" };
      }
      const policy = cfB64Decode(cookies["CloudFront-Policy"]);
      const url = getSignedUrl({ url: c.url, policy, ...common(c) });
      return { url, policy, note: "policy built by getSignedCookies({url: resource}), URL by getSignedUrl({url, policy})" };
    }),
  );
  return out;
}

function signCookies(c) {
  if (isCanned(c)) {
    if (!c.url) return [{ id: c.id, producer: PRODUCER, skipped: "canned cookies need url as the resource" }];
    return [
      attempt(c, "own", () => ({ cookies: cookieStrings(getSignedCookies({ url: c.url, ...common(c), ...dates(c) })) })),
    ];
  }
  const resource = c.resource ?? c.url;
  const out = [];
  if (c.policy != null) {
    out.push(
      attempt(c, "verbatim", () => {
        const cookies = getSignedCookies({ policy: c.policy, ...common(c) });
        return { cookies: cookieStrings(cookies), policy: cfB64Decode(cookies["CloudFront-Policy"]) };
      }),
    );
  }
  out.push(
    attempt(c, "own", () => {
      const cookies = getSignedCookies({ url: resource, ...common(c), ...dates(c) });
      // Without conditions the SDK signs a canned policy, even for a wildcard resource.
      const policy = cookies["CloudFront-Policy"] === undefined ? null : cfB64Decode(cookies["CloudFront-Policy"]);
      return { cookies: cookieStrings(cookies), policy };
    }),
  );
  return out;
}

function main() {
  if (process.argv.length !== 3) {
    process.stderr.write("usage: node tests/reference/js_sign.mjs CASES.json\n");
    process.exit(2);
  }
  const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
  if (!Array.isArray(cases)) throw new Error("CASES.json must hold a JSON array");
  const results = [];
  for (const c of cases) {
    if (c.kind === "url") results.push(...signUrl(c));
    else if (c.kind === "cookies") results.push(...signCookies(c));
    else results.push({ id: c.id, producer: PRODUCER, skipped: `unknown kind ${JSON.stringify(c.kind)}` });
  }
  process.stdout.write(JSON.stringify(results, null, 1) + "\n");
}

main();
