#!/usr/bin/env node
// `edgepass explain` against real Chromium: five HAR files recorded by Playwright while Chromium loads
// images from the local edge, then the built `edgepass explain` run on each, failing unless its
// decisions are the expected ones:
//   good        Alice signs in through the gallery, which shows her image    every request allowed
//   expired     Alice opens her image, then again once the cookies' policy    expired … s before the request
//               has ended (the browser keeps them: Max-Age outlives the policy)
//   logged-out  a browser without cookies opens Alice's image URL            no cookie set sent
//   other-user  Bob, signed in, opens Alice's image URL                       Bob's set held at his Path, not
//                                                                             sent; its Resource would not cover it
//   wrong-path  Alice signs in behind a proxy that rewrites the Path of the  the set held at /api/users/…/
//               API's Set-Cookie headers (/users/ → /api/users/)             is not sent for /users/…
//
// Usage: node tests/browser/har.mjs   (tests/browser/run calls it; tests/browser/record-hars calls it
//                                      with EDGEPASS_HAR_DIR=tests/fixtures/har to renew the fixtures)
//
// Environment: see harness.mjs, and EDGEPASS_HAR_DIR: where the HAR files, the recording server's
// public key (cdn-public.pem), its key-pair id (cdn-key-pair-id) and its edge's origin (cdn-origin) go
// (default: <screenshots>/har). Before they are written, what is secret and irrelevant is replaced by
// a fixed marker: request bodies that hold a password, and every cookie value but the CloudFront ones.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

import { ApiUser, Visitor, expectLoaded, fail, run, shots, step, visitors } from "./harness.mjs";
import { writePng } from "./png.mjs";

const harDir = path.resolve(process.env.EDGEPASS_HAR_DIR || path.join(shots, "har"));
const binary = process.env.EDGEPASS_BIN;
const REDACTED = "REDACTED";

// The cookies' policy lasts 8 s (the gallery renews cookies with less than 5 s left before showing an
// image, so less would loop), but the browser is told to keep them an hour: the misconfiguration the
// expired recording shows.
const COOKIE_TTL_SECS = 8;
// A reverse proxy in front of the API that moves the Path of every Set-Cookie under /users/ to
// /api/users/, as a wrong nginx proxy_cookie_path does: the wrong-path recording signs in through it.
// It listens before edgepass starts, so that edgepass can be told to accept requests from its origin.
const proxy = await startCookiePathProxy();

const ENV = {
  EDGEPASS_CDN_COOKIE_TTL_SECS: String(COOKIE_TTL_SECS),
  EDGEPASS_CDN_EXPIRY_WINDOW_SECS: "1",
  EDGEPASS_CDN_COOKIE_MAX_AGE_SECS: "3600",
  EDGEPASS_ALLOWED_ORIGINS: proxy.origin,
};

async function startCookiePathProxy() {
  const state = { target: null, origin: null };
  const server = http.createServer((request, response) => {
    if (!state.target) {
      response.writeHead(503).end();
      return;
    }
    const upstream = http.request(`${state.target}${request.url}`, {
      method: request.method,
      headers: { ...request.headers, host: new URL(state.target).host },
    }, (reply) => {
      const headers = { ...reply.headers };
      if (headers["set-cookie"]) {
        headers["set-cookie"] = headers["set-cookie"].map((value) => value.replace(/; Path=\/users\//i, "; Path=/api/users/"));
      }
      response.writeHead(reply.statusCode, headers);
      reply.pipe(response);
    });
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  // The scenario ends with process.exit: the proxy need not be closed.
  server.unref();
  state.origin = `http://127.0.0.1:${server.address().port}`;
  return state;
}

// What `edgepass explain` must print for each recording (and its exit status).
const EXPECTED = {
  good: { status: 0, lines: [/^ALLOW GET .*\/users\/\d+\/.*cookies at Path=\/users\/\d+\//m], never: [/^DENY/m] },
  expired: {
    status: 1,
    lines: [/^ALLOW GET .*\/users\/\d+\//m, /^DENY  GET .*\/users\/\d+\/\S+: expired \d+ s before the request .*by the response's Date/m],
  },
  "logged-out": {
    status: 1,
    lines: [/^DENY  GET .*\/users\/\d+\/\S+: no CloudFront cookie set .*sent .*the browser holds no CloudFront cookie set/m],
    never: [/^ALLOW/m],
  },
  "other-user": {
    status: 1,
    lines: [/^DENY  GET .*\/users\/(\d+)\/\S+: no CloudFront cookie set .*held at Path=\/users\/(?!\1\/)\d+\/ but not sent for this URL: Path=\/users\/\d+\/ does not cover \/users\/\1\/.*resource mismatch: the policy's Resource http:\/\/\S+\/users\/(?!\1\/)\d+\/\* does not cover this URL/m],
  },
  "wrong-path": {
    status: 1,
    lines: [/^DENY  GET .*\/users\/(\d+)\/\S+: no CloudFront cookie set .*held at Path=\/api\/users\/\1\/ but not sent for this URL: Path=\/api\/users\/\1\/ does not cover \/users\/\1\/\S+ \(sent, it would be allowed\)/m],
  },
};

// Replaces what is secret and irrelevant to a CloudFront decision in the HAR at `file`: request
// bodies holding a password, and the values of every cookie but the CloudFront ones (the session).
function redact(file) {
  const har = JSON.parse(fs.readFileSync(file, "utf8"));
  const keep = (name) => name.trim().startsWith("CloudFront-");
  const cookieHeader = (value) =>
    value.split(";").map((pair) => {
      const [name] = pair.split("=", 1);
      return keep(name) || !pair.includes("=") ? pair : `${name}=${REDACTED}`;
    }).join(";");
  const setCookie = (value) =>
    value.split("\n").map((line) => {
      const [first, ...attributes] = line.split(";");
      const [name] = first.split("=", 1);
      return [keep(name) || !first.includes("=") ? first : `${name}=${REDACTED}`, ...attributes].join(";");
    }).join("\n");
  for (const entry of har.log.entries) {
    const { request, response } = entry;
    const body = request.postData;
    if (body && /password/i.test(body.text || "")) {
      body.text = REDACTED;
      delete body.params;
    }
    for (const header of request.headers) {
      if (header.name.toLowerCase() === "cookie") header.value = cookieHeader(header.value);
    }
    for (const header of response.headers) {
      if (header.name.toLowerCase() === "set-cookie") header.value = setCookie(header.value);
    }
    for (const cookie of [...(request.cookies || []), ...(response.cookies || [])]) {
      if (!keep(cookie.name)) cookie.value = REDACTED;
    }
  }
  fs.writeFileSync(file, `${JSON.stringify(har, null, 2)}\n`);
  return har;
}

// Checks that Chromium's HAR holds what `explain` reads: the Cookie request headers and the
// Set-Cookie response headers.
function expectCookieHeaders(har, name, { cookies, setCookies }) {
  const headers = (side) => har.log.entries.flatMap((e) => e[side].headers.map((h) => h.name.toLowerCase()));
  if (cookies && !headers("request").includes("cookie")) fail(`${name}.har has no Cookie request header`);
  if (setCookies && !headers("response").includes("set-cookie")) fail(`${name}.har has no Set-Cookie response header`);
}

// Runs the built `edgepass explain` on a recording; returns {status, stdout}.
function explain(file, keyFlag, origin) {
  const args = ["explain", "--har", file, "--public-key", keyFlag, "--cdn", origin, "--verbose"];
  try {
    return { status: 0, stdout: execFileSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (error) {
    if (typeof error.status !== "number") throw error;
    return { status: error.status, stdout: String(error.stdout), stderr: String(error.stderr) };
  }
}

function expectExplained(name, result) {
  const expected = EXPECTED[name];
  const problems = [];
  if (result.status !== expected.status) problems.push(`exit status ${result.status}, expected ${expected.status}`);
  for (const line of expected.lines) if (!line.test(result.stdout)) problems.push(`no line matching ${line}`);
  for (const line of expected.never || []) if (line.test(result.stdout)) problems.push(`a line matching ${line}`);
  if (problems.length) {
    fail(`edgepass explain on ${name}.har: ${problems.join("; ")}\n${result.stdout}${result.stderr || ""}`);
  }
}

// A browser context that records `name`.har into the HAR folder (written on close).
async function recording(browser, name) {
  const file = path.join(harDir, `${name}.har`);
  const visitor = await Visitor.open(browser, name, { width: 800, height: 600 }, {
    recordHar: { path: file, content: "omit" },
  });
  visitors.push(visitor);
  return { visitor, file };
}

// Closes the recording's context (which writes the HAR), redacts it, and leaves the visitor list.
async function finish({ visitor, file }) {
  await visitor.context.close();
  visitors.splice(visitors.indexOf(visitor), 1);
  return redact(file);
}

async function scenario(server, browser) {
  fs.mkdirSync(harDir, { recursive: true });
  const png = writePng(path.join(shots, "upload.png"), 48, 32);
  const aliceEmail = "alice@example.com";
  const bobEmail = "bob@example.com";
  let alice;
  let image;
  await step("accounts-and-an-image", null, async () => {
    alice = await ApiUser.register(server.base, aliceEmail);
    await ApiUser.register(server.base, bobEmail);
    image = await alice.uploadPng(png);
    if (!image.url || !image.url.startsWith(`${server.edge}/users/`)) fail(`Alice's image URL is ${image.url}`);
  });
  const recordings = {};

  await step("good", null, async () => {
    const rec = await recording(browser, "good");
    await rec.visitor.openGallery(server.base);
    await rec.visitor.logIn(aliceEmail);
    await expectLoaded(rec.visitor.page.locator(`#mine li[data-image-id="${image.id}"] img`), "Alice's image in the gallery");
    recordings.good = await finish(rec);
    expectCookieHeaders(recordings.good, "good", { cookies: true, setCookies: true });
  });

  await step("expired", null, async () => {
    const rec = await recording(browser, "expired");
    await rec.visitor.openGallery(server.base);
    await rec.visitor.logIn(aliceEmail);
    // Away from the gallery, whose timers would renew the cookies.
    await rec.visitor.expectImage(image.url, "Alice's image while her cookies are valid");
    const grant = rec.visitor.grants.at(-1);
    if (!grant) fail("the sign-in gave no CloudFront grant");
    const waitMs = grant.expiresAt * 1000 - Date.now() + 1200;
    if (waitMs > 0) await rec.visitor.page.waitForTimeout(waitMs);
    const response = await rec.visitor.page.reload();
    if (response.status() !== 403) fail(`Alice's image after her policy ended answered ${response.status()}`);
    recordings.expired = await finish(rec);
  });

  await step("logged-out", null, async () => {
    const rec = await recording(browser, "logged-out");
    await rec.visitor.expectDenied(image.url, 403, "Alice's image without cookies");
    recordings["logged-out"] = await finish(rec);
  });

  await step("other-user", null, async () => {
    const rec = await recording(browser, "other-user");
    await rec.visitor.openGallery(server.base);
    await rec.visitor.logIn(bobEmail);
    await rec.visitor.expectDenied(image.url, 403, "Bob opening Alice's image");
    recordings["other-user"] = await finish(rec);
  });

  await step("wrong-path", null, async () => {
    const rec = await recording(browser, "wrong-path");
    // Through the proxy in front of the API, which puts the CloudFront cookies under /api/users/…
    // where no image is.
    proxy.target = server.base;
    await rec.visitor.openGallery(proxy.origin);
    await rec.visitor.logIn(aliceEmail);
    const held = (await rec.visitor.context.cookies()).filter((c) => c.name.startsWith("CloudFront-")).map((c) => c.path);
    if (!held.length || !held.every((p) => p.startsWith("/api/users/"))) fail(`the browser holds CloudFront cookies at ${held.join(", ")}`);
    await rec.visitor.expectDenied(image.url, 403, "Alice's image with her cookies under /api/users/");
    recordings["wrong-path"] = await finish(rec);
    const rewrote = recordings["wrong-path"].log.entries.some((e) =>
      e.response.headers.some((h) => h.name.toLowerCase() === "set-cookie" && /Path=\/api\/users\//.test(h.value)));
    if (!rewrote) fail("wrong-path.har does not hold the rewritten Set-Cookie");
  });

  // The recording server's key and edge, so that the HARs can be explained after it is gone.
  const keyPairId = fs.readFileSync(path.join(server.dataDir, "cdn-key-pair-id"), "utf8").trim();
  const publicKey = path.join(harDir, "cdn-public.pem");
  fs.copyFileSync(path.join(server.dataDir, "cdn-public.pem"), publicKey);
  fs.writeFileSync(path.join(harDir, "cdn-key-pair-id"), `${keyPairId}\n`);
  fs.writeFileSync(path.join(harDir, "cdn-origin"), `${server.edge}\n`);

  await step("explained", null, async () => {
    for (const name of Object.keys(EXPECTED)) {
      const result = explain(path.join(harDir, `${name}.har`), `${keyPairId}=${publicKey}`, server.edge);
      expectExplained(name, result);
      const summary = result.stdout.split("\n").filter((line) => /^(ALLOW|DENY)/.test(line));
      console.log(`    ${name}.har:\n      ${summary.join("\n      ")}`);
    }
  });
}

run("har", scenario, { env: ENV });
