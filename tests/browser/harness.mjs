// What the browser scenarios share: the edgepass server they start (local mode, free ports, a
// temporary data folder, the environment each scenario adds), a person's browser context (Visitor), an
// account driven through the JSON API from Node (ApiUser), the checks on images and on what an origin
// answers, and the steps with their screenshots and failure report (run).
//
// A scenario script imports this module and calls run(name, scenario, {env}); run starts edgepass and
// Chromium, calls scenario(server, browser), and exits 0 when every step passed, 1 when one failed, 2
// when the environment is not set up.
//
// Environment:
//   EDGEPASS_BIN          the edgepass binary to start (required)
//   EDGEPASS_SCREENSHOTS  folder for the screenshots and the server's log (required)
//   EDGEPASS_TOOLS        where scripts/setup installed playwright-core (default <repo>/.tools)
//   EDGEPASS_CHROMIUM     the browser (default /usr/bin/chromium)
//
// Every step saves a screenshot NN-step.png; on a failure every open page is saved as
// NN-failed-WHO.png, the server's log tail is printed, and the exit status is 1. The server is stopped
// in every case.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const toolsDir = path.resolve(process.env.EDGEPASS_TOOLS || path.join(here, "..", "..", ".tools"));
const binary = process.env.EDGEPASS_BIN;
export const shots = process.env.EDGEPASS_SCREENSHOTS;
const chromiumPath = process.env.EDGEPASS_CHROMIUM || "/usr/bin/chromium";
// Playwright's wait for each element or page, short so that a deviation fails fast.
export const ACTION_TIMEOUT_MS = 10_000;
const STARTUP_TIMEOUT_MS = 30_000;
export const PASSWORD = "correct horse battery staple";

export function fail(message) {
  throw new Error(message);
}

if (!binary || !fs.existsSync(binary)) {
  console.error(`browser test: EDGEPASS_BIN (${binary}) is not an edgepass binary`);
  process.exit(2);
}
if (!shots) {
  console.error("browser test: EDGEPASS_SCREENSHOTS is not set");
  process.exit(2);
}
if (!fs.existsSync(chromiumPath)) {
  console.error(`browser test: ${chromiumPath} is missing (scripts/setup browser installs it)`);
  process.exit(2);
}

let chromium;
try {
  const require = createRequire(path.join(toolsDir, "browser", "package.json"));
  ({ chromium } = require("playwright-core"));
} catch (error) {
  console.error(
    `browser test: cannot load playwright-core from ${toolsDir}/browser (run scripts/setup): ${error.message}`,
  );
  process.exit(2);
}

// ---- the server ----

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export class Server {
  constructor() {
    this.process = null;
    this.exited = null;
    this.logPath = path.join(shots, "server.log");
  }

  // Starts `edgepass serve` with the base environment below and `env` on top (a scenario's delivery
  // mode and lifetimes).
  async start(env = {}) {
    this.apiPort = await freePort();
    this.edgePort = await freePort();
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "edgepass-browser-"));
    this.base = `http://127.0.0.1:${this.apiPort}`;
    this.edge = `http://127.0.0.1:${this.edgePort}`;
    const log = fs.openSync(this.logPath, "w");
    this.process = spawn(binary, ["serve"], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME || os.tmpdir(),
        RUST_LOG: process.env.RUST_LOG || "info",
        // The log goes to a file: no colour codes.
        NO_COLOR: "1",
        EDGEPASS_LISTEN: `127.0.0.1:${this.apiPort}`,
        EDGEPASS_EDGE_LISTEN: `127.0.0.1:${this.edgePort}`,
        // Metrics on a free port too, so that a second run (or a local edgepass) does not collide.
        EDGEPASS_METRICS_LISTEN: "127.0.0.1:0",
        EDGEPASS_DATA_DIR: this.dataDir,
        ...env,
      },
      stdio: ["ignore", log, log],
    });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.process.once("exit", (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    let gone = null;
    this.exited.then((how) => { gone = how; });
    while (Date.now() < deadline) {
      if (gone) fail(`edgepass exited during start-up (${JSON.stringify(gone)}); see ${this.logPath}`);
      try {
        const reply = await fetch(`${this.base}/healthz`);
        if (reply.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    fail(`edgepass did not answer /healthz within ${STARTUP_TIMEOUT_MS / 1000} s; see ${this.logPath}`);
  }

  async stop() {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill("SIGTERM");
      const stopped = await Promise.race([
        this.exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!stopped) {
        console.error("browser test: edgepass ignored SIGTERM for 10 s; killing it");
        this.process.kill("SIGKILL");
        await this.exited;
      }
    }
    if (this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  logTail(lines = 40) {
    try {
      return fs.readFileSync(this.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

// ---- the browser side ----

const launchArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

// A person with a browser context of their own (own cookies) and one tab.
export class Visitor {
  constructor(name, context, page) {
    this.name = name;
    this.context = context;
    this.page = page;
    this.problems = [];
    // Every error the page's console showed (failed requests included), for the steps that expect none.
    this.consoleErrors = [];
    // The CloudFront cookie sets the page received: {from: API path, expiresAt}.
    this.grants = [];
    // The album cookie sets the refreshes of the own set expired: [{album_id, cookie_path}].
    this.expiredAlbumSets = [];
  }

  // `httpCache`: keep the browser's HTTP cache on, as a real browser has it; otherwise every check asks
  // the edge (or, in S3 delivery, the store). `recordHar`: Playwright's HAR recording options (the
  // file is written when the context closes).
  static async open(browser, name, viewport, { httpCache = false, recordHar } = {}) {
    const context = await browser.newContext({ viewport, ...(recordHar ? { recordHar } : {}) });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    // With routing on, Playwright turns the HTTP cache off: every check asks the edge (or the store)
    // again instead of seeing a copy the browser kept.
    if (!httpCache) await context.route("**/*", (route) => route.continue());
    const page = await context.newPage();
    const visitor = new Visitor(name, context, page);
    page.on("pageerror", (error) => visitor.problems.push(`script error: ${error.message}`));
    page.on("response", async (response) => {
      const where = new URL(response.url()).pathname;
      if (!response.ok() || !/^\/api\/(auth\/(register|login)|cdn\/cookies)$/.test(where)) return;
      const body = await response.json().catch(() => null);
      const grant = body && (body.cdn || body);
      if (grant && grant.expires_at) visitor.grants.push({ from: where, expiresAt: grant.expires_at });
      if (body && Array.isArray(body.expired_album_sets)) visitor.expiredAlbumSets.push(...body.expired_album_sets);
    });
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      visitor.consoleErrors.push(message.text());
      if (/Content Security Policy/i.test(message.text())) {
        visitor.problems.push(`CSP violation: ${message.text()}`);
      }
    });
    return visitor;
  }

  // Fails when the page reported script errors or CSP violations since the last check.
  checkQuiet() {
    if (this.problems.length) {
      const problems = this.problems.splice(0);
      fail(`${this.name}'s page reported:\n  ${problems.join("\n  ")}`);
    }
  }

  async openGallery(base) {
    const response = await this.page.goto(`${base}/`);
    if (response.status() !== 200) fail(`${this.name}: GET / answered ${response.status()}`);
    await this.page.locator('body[data-ready="true"]').waitFor();
  }

  // Opens the gallery without a session: the sign-in form, and not one error in the console (a request
  // answered 401 shows as one).
  async openGallerySignedOut(base) {
    this.consoleErrors.length = 0;
    await this.openGallery(base);
    await this.page.getByRole("heading", { name: "Sign in or create an account" }).waitFor();
    // Console messages arrive asynchronously: give late ones a moment.
    await this.page.waitForTimeout(300);
    if (this.consoleErrors.length) {
      fail(`${this.name}'s signed-out gallery logged errors:\n  ${this.consoleErrors.join("\n  ")}`);
    }
  }

  async register(email) {
    await this.submitSignIn(email, "Register");
  }

  async logIn(email) {
    await this.submitSignIn(email, "Log in");
  }

  // Fills the sign-in form with `email` and PASSWORD and presses `button` ("Register" or "Log in").
  // Its fields are looked up inside #auth-form: the My account panel has a Password field too.
  async submitSignIn(email, button) {
    const form = this.page.locator("#auth-form");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel(/^Password/).fill(PASSWORD);
    await form.getByRole("button", { name: button }).click();
    await this.expectSignedIn(email);
  }

  // Opens the gallery of a signed-in session and checks it is `email`'s.
  async openGallerySignedIn(base, email) {
    await this.openGallery(base);
    await this.expectSignedIn(email);
  }

  // Opens the gallery and registers `email` through its form: a new account, with nothing shared yet.
  async openGalleryAndRegister(base, email) {
    await this.openGallery(base);
    await this.register(email);
    await this.page.getByText("Nothing has been shared with you.").waitFor();
  }

  async logOut() {
    await this.page.getByRole("button", { name: "Log out" }).click();
    await this.page.getByRole("heading", { name: "Sign in or create an account" }).waitFor();
  }

  async expectSignedIn(email) {
    await this.page.locator("#account-email", { hasText: email }).waitFor();
    await this.expectNoError();
  }

  async expectNoError() {
    const error = this.page.locator("#error");
    if (await error.isVisible()) fail(`${this.name}'s page shows an error: ${await error.innerText()}`);
  }

  // ---- the gallery's forms and cards ----

  // Chooses `files` (a path, or {name, mimeType, buffer}) in the upload form and presses Upload.
  async submitUpload(files) {
    await this.page.getByLabel(/^Image file/).setInputFiles(files);
    await this.page.getByRole("button", { name: "Upload" }).click();
  }

  // Uploads `file` through the form; returns the newest card once it is shown, without an error.
  async uploadImage(file) {
    await this.submitUpload(file);
    const card = this.page.locator("#mine li[data-image-id]").first();
    await card.waitFor();
    await this.expectNoError();
    return card;
  }

  // Uploads `file` into the album named `albumName` ("No album": the root) and returns the new image's
  // card once its image has loaded.
  async uploadInto(file, albumName) {
    const before = await this.page.locator("#mine li[data-image-id]").count();
    await this.page.locator("#upload-album").selectOption({ label: albumName });
    await this.submitUpload(file);
    await this.page.locator("#mine li[data-image-id]").nth(before).waitFor();
    await this.expectNoError();
    const newCard = this.page.locator("#mine li[data-image-id]").first();
    await expectLoaded(newCard.locator("img"), `${this.name}'s upload ${path.basename(file)}`);
    return newCard;
  }

  // Creates the album `name` through the form; returns its card in the album list.
  async createAlbum(name) {
    await this.page.getByLabel("New album name").fill(name);
    await this.page.getByRole("button", { name: "Create album" }).click();
    const albumCard = this.page.locator("#albums li[data-album-id]", { hasText: name });
    await albumCard.waitFor();
    await this.expectNoError();
    return albumCard;
  }

  // Presses "Make public" or "Make private" (`visibility`: "public" or "private") on the card of image
  // `imageId` and waits until the card shows it.
  async setVisibility(card, imageId, visibility) {
    await card.getByRole("button", { name: `Make ${visibility}` }).click();
    await this.page.locator(`#mine li[data-image-id="${imageId}"][data-visibility="${visibility}"]`).waitFor();
    await this.expectNoError();
  }

  // Shares the image of `card` with `email` through its Sharing panel.
  async shareImage(card, email) {
    await this.shareThrough(card, email, { name: "Share", exact: true });
  }

  // Shares the album of `albumCard` with `email` through its Sharing panel.
  async shareAlbum(albumCard, email) {
    await this.shareThrough(albumCard, email, { name: "Share album" });
  }

  // Opens the Sharing panel of `card` (an image's or an album's), which lists nobody yet, enters
  // `email` and presses the button `button` names; waits for the grant's Revoke button.
  async shareThrough(card, email, button) {
    await card.locator("summary", { hasText: "Sharing" }).click();
    await card.getByText("Nobody yet.").waitFor();
    await card.getByLabel(/^Share with/).fill(email);
    await card.getByRole("button", button).click();
    await card.getByRole("button", { name: `Revoke ${email}` }).waitFor();
    await this.expectNoError();
  }

  // Revokes the grant to `email` on `card` (an image's or an album's), its only one.
  async revokeShare(card, email) {
    await card.getByRole("button", { name: `Revoke ${email}` }).click();
    await card.getByText("Nobody yet.").waitFor();
    await this.expectNoError();
  }

  // Creates a one-hour share link on `card`; returns its URL, which must be under `base`/s/.
  async createShareLink(card, base) {
    await card.getByLabel(/^Share link valid for/).selectOption({ label: "1 hour" });
    await card.getByRole("button", { name: "Create share link" }).click();
    const input = card.getByLabel(/^New link/);
    await input.waitFor();
    const linkUrl = await input.inputValue();
    if (!linkUrl.startsWith(`${base}/s/`)) fail(`the share link is ${linkUrl}, expected ${base}/s/…`);
    await card.getByRole("button", { name: /^Revoke link / }).waitFor();
    await this.expectNoError();
    return linkUrl;
  }

  // After the grant of image `imageId` to this visitor was revoked: Refresh shows nothing shared, and
  // POST /api/urls from the page gives no URL for it.
  async expectNoLongerShared(imageId) {
    await this.page.getByRole("button", { name: "Refresh" }).click();
    await this.page.getByText("Nothing has been shared with you.").waitFor();
    await this.page.locator(`#shared li[data-image-id="${imageId}"]`).waitFor({ state: "detached" });
    const batch = await fromPage(this, "POST", "/api/urls", { ids: [imageId] });
    if (batch.status !== 200) fail(`POST /api/urls from ${this.name}'s page answered ${batch.status}: ${JSON.stringify(batch.body)}`);
    if (!batch.body.not_found.includes(imageId) || batch.body.urls[imageId]) {
      fail(`after revocation the API still gives ${this.name} a URL: ${JSON.stringify(batch.body)}`);
    }
  }

  // Navigates this visitor's tab to `url` (the browser sends whatever cookies it holds for it) and
  // returns the final response.
  async visit(url) {
    const response = await this.page.goto(url);
    if (!response) fail(`${this.name}: no response for ${url}`);
    return response;
  }

  async expectDenied(url, status, why) {
    const response = await this.visit(url);
    if (response.status() !== status) {
      fail(`${why}: expected ${status} for ${url}, got ${response.status()}: ${(await response.text()).slice(0, 300)}`);
    }
    return response;
  }

  // Opens `url` in this tab and checks that Chromium decoded an image from it.
  async expectImage(url, why) {
    const response = await this.visit(url);
    if (response.status() !== 200) {
      fail(`${why}: expected 200 for ${url}, got ${response.status()}: ${(await response.text()).slice(0, 300)}`);
    }
    const type = response.headers()["content-type"] || "";
    if (!type.startsWith("image/")) fail(`${why}: ${url} came back as ${type || "no content type"}`);
    const width = await this.page.evaluate(async () => {
      const img = document.querySelector("img");
      if (!img) return 0;
      await img.decode().catch(() => {});
      return img.naturalWidth;
    });
    if (!(width > 0)) fail(`${why}: Chromium did not decode an image from ${url}`);
    return response;
  }
}

// Waits until the <img> matched by `locator` has loaded (naturalWidth > 0); fails with the URL
// otherwise.
export async function expectLoaded(locator, why) {
  await locator.waitFor();
  const loaded = await locator
    .evaluate(
      (img, timeout) =>
        new Promise((resolve) => {
          const done = () => resolve(img.complete && img.naturalWidth > 0);
          if (img.complete) done();
          else {
            img.addEventListener("load", done, { once: true });
            img.addEventListener("error", done, { once: true });
            setTimeout(done, timeout);
          }
        }),
      ACTION_TIMEOUT_MS,
    );
  if (!loaded) fail(`${why}: the image ${await locator.getAttribute("src")} did not load in the page`);
}

// Calls the API from `visitor`'s page (its session cookie, its origin); returns {status, body}.
export async function fromPage(visitor, method, path, body) {
  return visitor.page.evaluate(async ([method, path, body]) => {
    const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const reply = await fetch(path, init);
    const text = await reply.text();
    return { status: reply.status, body: text ? JSON.parse(text) : null };
  }, [method, path, body]);
}

// Loads `url` into a new Image in `visitor`'s page: its natural width, 0 when it did not load.
export async function widthInPage(visitor, url) {
  return visitor.page.evaluate(
    (url) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(img.naturalWidth);
      img.onerror = () => resolve(0);
      img.src = url;
    }),
    url,
  );
}

// What the origin itself (the edge, or the store) answers for `url` now, asked from outside any
// browser (so from no cache) and without following redirects, with the `Cookie` header `cookie` when
// given: its status, Cache-Control, Location, Content-Type and the start of its body as text.
export async function fromOrigin(url, cookie) {
  const reply = await fetch(url, { headers: cookie ? { cookie } : {}, redirect: "manual" });
  const body = Buffer.from(await reply.arrayBuffer());
  return {
    status: reply.status,
    cacheControl: reply.headers.get("cache-control"),
    location: reply.headers.get("location"),
    contentType: reply.headers.get("content-type") || "",
    text: body.subarray(0, 300).toString("utf8"),
  };
}

// The CloudFront cookies `visitor`'s browser holds, by Path: {path: [names]}.
export async function cloudFrontCookiesByPath(visitor) {
  const byPath = {};
  for (const cookie of await visitor.context.cookies()) {
    if (!cookie.name.startsWith("CloudFront-")) continue;
    (byPath[cookie.path] ||= []).push(cookie.name);
  }
  return byPath;
}

// An account driven through the JSON API from Node, without a browser: what the gallery does, with
// the session cookie in a `Cookie` header (no `Origin`: not a page, so the cross-origin check lets it
// through).
export class ApiUser {
  constructor(base, email, cookie, user) {
    this.base = base;
    this.email = email;
    this.cookie = cookie;
    this.user = user;
  }

  static async register(base, email) {
    const reply = await fetch(`${base}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const body = await reply.json().catch(() => null);
    if (reply.status !== 201) fail(`registering ${email} answered ${reply.status}: ${JSON.stringify(body)}`);
    const session = reply.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c.startsWith("edgepass_session="));
    if (!session) fail(`registering ${email} set no session cookie`);
    return new ApiUser(base, email, session, body.user);
  }

  // Signs in as `email` from Node, naming itself `agent`: a second session of the account.
  static async login(base, email, password, agent) {
    const reply = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": agent },
      body: JSON.stringify({ email, password }),
    });
    const body = await reply.json().catch(() => null);
    if (reply.status !== 200) fail(`signing in as ${email} answered ${reply.status}: ${JSON.stringify(body)}`);
    const session = reply.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c.startsWith("edgepass_session="));
    if (!session) fail(`signing in as ${email} set no session cookie`);
    return new ApiUser(base, email, session, body.user);
  }

  // Calls the API; fails unless the status is `expected`; returns the parsed body (null for none).
  async call(method, path, body, expected) {
    const headers = { cookie: this.cookie, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const reply = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await reply.text();
    if (reply.status !== expected) fail(`${this.email}: ${method} ${path} answered ${reply.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }

  // Uploads the PNG `file` into album `albumId` as the gallery does; returns the image.
  async uploadPng(file, albumId) {
    const bytes = fs.readFileSync(file);
    const ticket = await this.call("POST", "/api/images", {
      content_type: "image/png",
      byte_size: bytes.length,
      name: path.basename(file),
      album_id: albumId,
    }, 201);
    const headers = Object.fromEntries(
      Object.entries(ticket.upload_headers).filter(([name]) => !["content-length", "host"].includes(name.toLowerCase())),
    );
    const stored = await fetch(ticket.upload_url, { method: "PUT", headers, body: bytes });
    if (!stored.ok) fail(`the store refused ${this.email}'s upload: ${stored.status} ${await stored.text()}`);
    return this.call("POST", `/api/images/${ticket.id}/complete`, undefined, 200);
  }
}

// ---- steps ----

const steps = [];
let stepNumber = 0;
// Every Visitor a scenario opens: checked after each step, saved on a failure.
export const visitors = [];

async function screenshot(visitor, name) {
  const file = path.join(shots, name);
  await visitor.page.screenshot({ path: file, fullPage: true });
  return file;
}

// Runs one step, then saves `who`'s page as NN-name.png (no screenshot when `who` is null: a step
// whose pages are closed by its end).
export async function step(name, who, work) {
  stepNumber += 1;
  const label = `${String(stepNumber).padStart(2, "0")}-${name}`;
  const started = Date.now();
  await work();
  for (const visitor of visitors) visitor.checkQuiet();
  if (who) await screenshot(who, `${label}.png`);
  steps.push(label);
  console.log(`  ok ${label} (${Date.now() - started} ms)`);
}

// ---- main ----

// Runs `scenario(server, browser)` against an edgepass started with `env` on top of the base
// environment, and exits: 0 when every step passed, 1 otherwise. `name` labels the output.
export async function run(name, scenario, { env = {} } = {}) {
  process.exit(await main(name, scenario, env));
}

async function main(name, scenario, env) {
  fs.mkdirSync(shots, { recursive: true });
  console.log(`browser test (${name}): screenshots in ${shots}`);
  const server = new Server();
  // Interrupted: the server goes too (the browser is a child of this process and dies with it).
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      console.error(`browser test (${name}): ${signal}; stopping edgepass`);
      if (server.process) server.process.kill("SIGTERM");
      if (server.dataDir) fs.rmSync(server.dataDir, { recursive: true, force: true });
      // As a shell reports a command a signal ended, so that tests/browser/run stops too.
      process.exit(128 + os.constants.signals[signal]);
    });
  }
  let browser;
  const started = Date.now();
  try {
    await server.start(env);
    console.log(`browser test (${name}): edgepass on ${server.base}, its edge on ${server.edge}`);
    browser = await chromium.launch({ executablePath: chromiumPath, args: launchArgs });
    console.log(`browser test (${name}): Chromium ${browser.version()}`);
    await scenario(server, browser);
    console.log(`browser test (${name}): ${steps.length} steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (error) {
    const label = String(stepNumber).padStart(2, "0");
    console.error(`\nbrowser test (${name}) FAILED at step ${label}: ${error.message}`);
    const { exitCode, signalCode } = server.process || {};
    if (exitCode !== null && exitCode !== undefined) console.error(`  edgepass had already exited (status ${exitCode}${signalCode ? `, ${signalCode}` : ""})`);
    else if (signalCode) console.error(`  edgepass had already exited (${signalCode})`);
    for (const visitor of visitors) {
      try {
        const file = await screenshot(visitor, `${label}-failed-${visitor.name.split(" ")[0].toLowerCase()}.png`);
        console.error(`  ${visitor.name}'s page: ${file} (at ${visitor.page.url()})`);
      } catch {
        // the page may be gone
      }
    }
    console.error(`--- the last lines of edgepass's log (${server.logPath}) ---\n${server.logTail()}`);
    return 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
}

