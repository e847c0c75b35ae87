#!/usr/bin/env node
// The demo gallery in a real browser, S3 delivery (EDGEPASS_DELIVERY=s3): Debian's Chromium, driven
// through playwright-core, against a freshly started `edgepass serve` in local mode, whose embedded
// S3-compatible store serves every image through an S3 presigned GET. No CloudFront cookie is ever
// set. The server, the browser contexts and the steps come from harness.mjs; gallery.mjs is the same
// gallery in CloudFront delivery.
//
// Usage: node tests/browser/s3.mjs        (tests/browser/run finds the binary and calls this)
//
// Environment: see harness.mjs (EDGEPASS_BIN, EDGEPASS_SCREENSHOTS, EDGEPASS_TOOLS, EDGEPASS_CHROMIUM).
//
// Alice, Bob and an anonymous visitor each get a browser context of their own, with the HTTP cache
// off, so that every image the steps check is asked of the store. The lifetimes are seconds, so that
// the steps see presigned URLs end and the page renew them. Every step saves a screenshot
// NN-step.png; on a failure every open page is saved as NN-failed-WHO.png, the server's log tail is
// printed, and the exit status is 1.

import path from "node:path";

import {
  Visitor,
  cloudFrontCookiesByPath,
  expectLoaded,
  fail,
  fromOrigin,
  fromPage,
  run,
  shots,
  step,
  visitors,
  widthInPage,
} from "./harness.mjs";
import { writePng } from "./png.mjs";

// The lifetimes for this run (see ENV): own URLs as long as the CloudFront cookies would be, a
// grantee's album URLs as long as the album cookie sets, shared URLs and share-link targets their own,
// all rounded up to the expiry window.
const WINDOW_SECS = 2;
const OWN_TTL_SECS = 6;
const SHARED_TTL_SECS = 4;
const ALBUM_TTL_SECS = 8;
const LINK_TTL_SECS = 30;
// EDGEPASS_S3_PUBLIC_URL_TTL_SECS is left at its default.
const PUBLIC_TTL_SECS = 24 * 3600;

const ENV = {
  EDGEPASS_DELIVERY: "s3",
  EDGEPASS_CDN_EXPIRY_WINDOW_SECS: String(WINDOW_SECS),
  EDGEPASS_CDN_COOKIE_TTL_SECS: String(OWN_TTL_SECS),
  EDGEPASS_SHARED_URL_TTL_SECS: String(SHARED_TTL_SECS),
  EDGEPASS_ALBUM_COOKIE_TTL_SECS: String(ALBUM_TTL_SECS),
  EDGEPASS_SHARE_LINK_URL_TTL_SECS: String(LINK_TTL_SECS),
};

// ---- presigned URLs ----

function nowSecs() {
  return Date.now() / 1000;
}

// `url` taken apart: its origin, bucket and object key (path-style: /{bucket}/{key}), and its end
// (X-Amz-Date + X-Amz-Expires, epoch seconds).
function presignedParts(url) {
  const parsed = new URL(url);
  const [, bucket, ...key] = parsed.pathname.split("/");
  const date = parsed.searchParams.get("X-Amz-Date") || "";
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  const signedAt = at ? Date.UTC(at[1], at[2] - 1, at[3], at[4], at[5], at[6]) / 1000 : NaN;
  const expires = Number(parsed.searchParams.get("X-Amz-Expires"));
  return { origin: parsed.origin, bucket, key: key.join("/"), signedAt, expires, endsAt: signedAt + expires };
}

// Fails unless `url` is an S3 presigned GET on the store's origin for the object `key`; returns its
// parts.
function expectPresigned(url, store, key, what) {
  if (!url) fail(`${what}: no URL`);
  const parsed = new URL(url);
  for (const parameter of ["X-Amz-Signature", "X-Amz-Expires", "X-Amz-Date", "X-Amz-Credential"]) {
    if (!parsed.searchParams.has(parameter)) fail(`${what}: ${url} is not presigned (no ${parameter})`);
  }
  const parts = presignedParts(url);
  if (parts.origin !== store.origin) fail(`${what}: ${url} is not on the store's origin ${store.origin}`);
  if (store.bucket && parts.bucket !== store.bucket) fail(`${what}: ${url} is not in the bucket ${store.bucket}`);
  if (parts.key !== key) fail(`${what}: ${url} is for the object ${parts.key}, expected ${key}`);
  if (!Number.isFinite(parts.endsAt)) fail(`${what}: ${url} has no readable X-Amz-Date/X-Amz-Expires`);
  return parts;
}

// Fails unless `endsAt` (epoch seconds) lies `ttl` seconds from now, rounded up to the window (signed
// at the start of a window, ending at a window boundary: up to two windows more).
function expectLifetime(endsAt, ttl, what) {
  const left = endsAt - nowSecs();
  if (!(left > ttl - 2 && left <= ttl + 2 * WINDOW_SECS + 1)) {
    fail(`${what}: it ends in ${left.toFixed(1)} s, expected about ${ttl} s (up to ${2 * WINDOW_SECS} s more)`);
  }
}

// `url` with its object key `from` replaced by `to`.
function withKey(url, from, to) {
  const swapped = url.replace(`/${from}?`, `/${to}?`);
  if (swapped === url) fail(`${from} is not the key of ${url}`);
  return swapped;
}

// ---- what each browser saw ----

// Records, for `visitor`, the end (url_expires_at) of every image URL the API gave its page, and every
// request its page made (to see the cookies a request carried).
function watch(visitor) {
  visitor.urlEnds = new Map();
  visitor.requests = [];
  visitor.page.on("request", (request) => visitor.requests.push(request));
  visitor.page.on("response", async (response) => {
    if (!new URL(response.url()).pathname.startsWith("/api/")) return;
    if (!(response.headers()["content-type"] || "").startsWith("application/json")) return;
    const body = await response.json().catch(() => null);
    const visit = (value) => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object") {
        if (typeof value.url === "string" && typeof value.url_expires_at === "number") {
          visitor.urlEnds.set(value.url, value.url_expires_at);
        }
        Object.values(value).forEach(visit);
      }
    };
    visit(body);
  });
}

// The url_expires_at the API gave `visitor`'s page with `url` (the response is read a moment after
// the page has it).
async function endOf(visitor, url, what) {
  const deadline = Date.now() + 2000;
  while (!visitor.urlEnds.has(url)) {
    if (Date.now() > deadline) fail(`${what}: no API answer gave ${visitor.name}'s page ${url} with a url_expires_at`);
    await visitor.page.waitForTimeout(50);
  }
  return visitor.urlEnds.get(url);
}

// Fails if `visitor`'s browser holds any CloudFront cookie.
async function expectNoCloudFrontCookies(visitor, when) {
  const jar = await cloudFrontCookiesByPath(visitor);
  if (Object.keys(jar).length) fail(`${when}, ${visitor.name}'s browser holds CloudFront cookies: ${JSON.stringify(jar)}`);
}

// Fails if the request `visitor`'s page made for `url` carried a CloudFront cookie (or was not made).
async function expectSentNoCloudFrontCookie(visitor, url, what) {
  const request = visitor.requests.find((r) => r.url() === url);
  if (!request) fail(`${what}: ${visitor.name}'s page made no request for ${url}`);
  const cookie = (await request.allHeaders()).cookie || "";
  if (/CloudFront-/.test(cookie)) fail(`${what}: the request for ${url} carried CloudFront cookies: ${cookie}`);
}

// The Set-Cookie headers of `response` that set a CloudFront cookie.
async function cloudFrontSetCookies(response) {
  return (await response.headersArray())
    .filter((h) => h.name.toLowerCase() === "set-cookie" && /^CloudFront-/.test(h.value))
    .map((h) => h.value);
}

// ---- the scenario ----

async function scenario(server, browser) {
  const png = writePng(path.join(shots, "upload.png"), 96, 64);
  const alice = await Visitor.open(browser, "Alice", { width: 390, height: 844 });
  const bob = await Visitor.open(browser, "Bob", { width: 1024, height: 768 });
  const anonymous = await Visitor.open(browser, "a visitor without cookies", { width: 800, height: 600 });
  visitors.push(alice, bob, anonymous);
  for (const visitor of visitors) watch(visitor);
  const aliceEmail = "alice@example.com";
  const bobEmail = "bob@example.com";

  // The store's origin and bucket, as the page's policy and the first URL give them.
  const store = { origin: null, bucket: null };
  let aliceId;
  let bobId;
  let imageId;
  let aliceKey;
  let card;

  await step("alice-opens-the-gallery-whose-policy-allows-the-store", alice, async () => {
    await alice.openGallerySignedOut(server.base);
    const reply = await fetch(`${server.base}/`);
    const policy = reply.headers.get("content-security-policy") || "";
    const directives = Object.fromEntries(
      policy.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]),
    );
    // Uploads go to the store, and in S3 delivery images come from it too.
    const uploads = (directives["connect-src"] || []).filter((v) => v !== "'self'");
    if (uploads.length !== 1) fail(`the page's connect-src does not name one store: ${policy}`);
    [store.origin] = uploads;
    const images = directives["img-src"] || [];
    if (!images.includes(store.origin)) fail(`the page's img-src does not list the store ${store.origin}: ${policy}`);
    if (images.includes(server.edge)) fail(`the page's img-src still lists the edge ${server.edge}: ${policy}`);
    console.log(`    the store: ${store.origin}; img-src ${images.join(" ")}`);
  });

  await step("alice-registers-and-gets-no-cloudfront-cookie", alice, async () => {
    const answer = alice.page.waitForResponse((r) =>
      r.request().method() === "POST" && new URL(r.url()).pathname === "/api/auth/register");
    await alice.register(aliceEmail);
    const response = await answer;
    const body = await response.json();
    if (body.delivery !== "s3" || "cdn" in body) fail(`the register answer is not S3 delivery's: ${JSON.stringify(body)}`);
    const sent = await cloudFrontSetCookies(response);
    if (sent.length) fail(`registering set CloudFront cookies:\n  ${sent.join("\n  ")}`);
    aliceId = body.user.id;
    const me = await fromPage(alice, "GET", "/api/me");
    if (me.status !== 200 || me.body.delivery !== "s3" || "cdn_expires_at" in me.body) {
      fail(`GET /api/me answered ${me.status}: ${JSON.stringify(me.body)}`);
    }
    const refreshed = await fromPage(alice, "POST", "/api/cdn/cookies");
    if (refreshed.status !== 200 || JSON.stringify(refreshed.body) !== JSON.stringify({ delivery: "s3", expired_album_sets: [] })) {
      fail(`POST /api/cdn/cookies answered ${refreshed.status}: ${JSON.stringify(refreshed.body)}`);
    }
    await expectNoCloudFrontCookies(alice, "after registering and POST /api/cdn/cookies");
  });

  await step("alice-uploads-an-image", alice, async () => {
    const first = await alice.uploadImage(png);
    imageId = await first.getAttribute("data-image-id");
    card = alice.page.locator(`#mine li[data-image-id="${imageId}"]`);
    aliceKey = `users/${aliceId}/${imageId}.png`;
    const src = await card.locator("img").getAttribute("src");
    store.bucket = presignedParts(src).bucket;
    const parts = expectPresigned(src, store, aliceKey, "Alice's own image");
    const ends = await endOf(alice, src, "Alice's own image");
    if (ends !== parts.endsAt) fail(`url_expires_at ${ends} is not the URL's own end ${parts.endsAt}`);
    expectLifetime(ends, OWN_TTL_SECS, "Alice's own URL");
    await expectLoaded(card.locator("img"), "Alice's own image through its presigned URL");
    await expectSentNoCloudFrontCookie(alice, src, "Alice's own image");
    await expectNoCloudFrontCookies(alice, "after the upload");
    console.log(`    ${src.slice(0, src.indexOf("?"))} (X-Amz-Expires=${parts.expires})`);
  });

  let secondId;
  await step("alice-uploads-a-second-image", alice, async () => {
    await alice.submitUpload(writePng(path.join(shots, "second.png"), 64, 96));
    await alice.page.locator("#mine li[data-image-id]").nth(1).waitFor();
    await alice.expectNoError();
    const second = alice.page.locator("#mine li[data-image-id]").first();
    secondId = await second.getAttribute("data-image-id");
    if (secondId === imageId) fail("the second upload is not the newest card");
    expectPresigned(await second.locator("img").getAttribute("src"), store, `users/${aliceId}/${secondId}.png`, "Alice's second image");
    await expectLoaded(second.locator("img"), "Alice's second image");
  });

  await step("bob-registers-and-uploads", bob, async () => {
    await bob.openGalleryAndRegister(server.base, bobEmail);
    bobId = (await fromPage(bob, "GET", "/api/me")).body.user.id;
    const own = await bob.uploadImage(writePng(path.join(shots, "bob.png"), 50, 50));
    const ownId = await own.getAttribute("data-image-id");
    expectPresigned(await own.locator("img").getAttribute("src"), store, `users/${bobId}/${ownId}.png`, "Bob's own image");
    await expectLoaded(own.locator("img"), "Bob's own image");
    await expectNoCloudFrontCookies(bob, "after registering and uploading");
  });

  await step("bob-is-refused-alices-image-by-a-changed-key", bob, async () => {
    // Fresh URLs (each lives OWN_TTL_SECS), so that a refusal comes from the changed key, not an end.
    const alices = (await fromPage(alice, "GET", "/api/images")).body.images;
    const first = alices.find((image) => image.id === imageId).url;
    const second = alices.find((image) => image.id === secondId).url;
    const bobs = (await fromPage(bob, "GET", "/api/images")).body.images[0].url;
    const bobsKey = presignedParts(bobs).key;
    const changed = [
      [withKey(second, `users/${aliceId}/${secondId}.png`, aliceKey), "Alice's URL for her second image, pointed at the first"],
      [withKey(bobs, bobsKey, aliceKey), "Bob's own URL, pointed at Alice's image"],
      [withKey(bobs, bobsKey, bobsKey.replace(`users/${bobId}/`, `users/${aliceId}/`)), "Bob's own URL, moved to Alice's prefix"],
    ];
    for (const [url, what] of changed) {
      const response = await bob.expectDenied(url, 403, `Bob opening ${what}`);
      const body = await response.text();
      const code = (/<Code>([^<]*)<\/Code>/.exec(body) || [])[1];
      if (!code) fail(`the store's 403 for ${what} is not S3's XML error: ${body.slice(0, 200)}`);
      console.log(`    ${what}: 403 ${code}`);
    }
    // The URLs as given still work (a presigned URL opens its object for whoever holds it), and the
    // key alone, without a signature, does not.
    for (const [url, what] of [[first, "Alice's first URL"], [second, "Alice's second URL"], [bobs, "Bob's URL"]]) {
      const reply = await fromOrigin(url);
      if (reply.status !== 200 || !reply.contentType.startsWith("image/")) fail(`${what} as given answered ${reply.status} ${reply.contentType}`);
    }
    const bare = await fromOrigin(first.slice(0, first.indexOf("?")));
    if (bare.status !== 403) fail(`Alice's object key without a signature answered ${bare.status}`);
  });

  await step("alice-shares-with-bob", alice, async () => {
    await alice.shareImage(card, bobEmail);
  });

  const shared = bob.page.locator(`#shared li[data-image-id="${imageId}"]`);
  await step("bob-sees-it-shared-with-him", bob, async () => {
    await bob.openGallery(server.base);
    await shared.waitFor();
    const src = await shared.locator("img").getAttribute("src");
    expectPresigned(src, store, aliceKey, "the shared image in Bob's page");
    expectLifetime(await endOf(bob, src, "the shared image"), SHARED_TTL_SECS, "Bob's shared URL");
    await expectLoaded(shared.locator("img"), "the shared image in Bob's page");
    await expectSentNoCloudFrontCookie(bob, src, "the shared image");
    await expectNoCloudFrontCookies(bob, "with an image shared with him");
  });

  let held;
  await step("alice-revokes-bobs-share", alice, async () => {
    // The URL Bob holds: the one his page got last, just before the revocation.
    const listed = bob.page.waitForResponse((r) =>
      r.request().method() === "GET" && new URL(r.url()).pathname === "/api/shared-with-me");
    await bob.page.getByRole("button", { name: "Refresh" }).click();
    const image = (await (await listed).json()).images.find((i) => i.id === imageId);
    if (!image) fail("Bob's list no longer has the image before the revocation");
    held = { url: image.url, endsAt: image.url_expires_at };
    await alice.revokeShare(card, bobEmail);
  });

  await step("bob-gets-no-new-url", bob, async () => {
    await bob.expectNoLongerShared(imageId);
  });

  await step("the-url-bob-held-works-until-it-ends", bob, async () => {
    if (nowSecs() > held.endsAt - 0.5) fail(`the held URL ends at ${held.endsAt}: too close to check it still works`);
    await bob.expectImage(held.url, "the presigned URL Bob held, after the revocation and before its end");
    const wait = held.endsAt * 1000 + 1000 - Date.now();
    console.log(`  … waiting ${(wait / 1000).toFixed(1)} s for the URL Bob held to end`);
    await bob.page.waitForTimeout(wait);
    const response = await bob.expectDenied(held.url, 403, "the URL Bob held, past its url_expires_at");
    const body = await response.text();
    console.log(`    after its end: 403 ${(/<Code>([^<]*)<\/Code>/.exec(body) || [])[1]}`);
  });

  let publicUrl;
  await step("alice-makes-it-public", alice, async () => {
    const patched = alice.page.waitForResponse((r) =>
      r.request().method() === "PATCH" && new URL(r.url()).pathname === `/api/images/${imageId}`);
    await alice.setVisibility(card, imageId, "public");
    const body = await (await patched).json();
    publicUrl = await card.locator("img").getAttribute("src");
    if (publicUrl !== body.url) fail(`the page shows ${publicUrl}, the API gave ${body.url}`);
    const parts = expectPresigned(publicUrl, store, `public/${imageId}.png`, "the public image");
    if (body.url_expires_at !== parts.endsAt) fail(`url_expires_at ${body.url_expires_at} is not the URL's end ${parts.endsAt}`);
    expectLifetime(parts.endsAt, PUBLIC_TTL_SECS, "the public URL");
    await expectLoaded(card.locator("img"), "the public image in Alice's page");
  });

  await step("bob-loads-the-public-url", bob, async () => {
    const response = await bob.expectImage(publicUrl, "Bob loading the public URL");
    const cookie = (await response.request().allHeaders()).cookie || "";
    if (/CloudFront-/.test(cookie)) fail(`Bob's browser sent CloudFront cookies for the public URL: ${cookie}`);
  });

  await step("alice-makes-it-private-again", alice, async () => {
    await alice.setVisibility(card, imageId, "private");
    const src = await card.locator("img").getAttribute("src");
    expectPresigned(src, store, aliceKey, "the image made private again");
    await expectLoaded(card.locator("img"), "Alice's private image after the round trip");
  });

  await step("the-public-url-fails-at-once", bob, async () => {
    const reply = await fromOrigin(publicUrl);
    if (reply.status !== 404 && reply.status !== 403) fail(`the store answers ${reply.status} for the public URL after it went private`);
    const response = await bob.visit(publicUrl);
    if (response.status() !== reply.status) fail(`Bob's browser got ${response.status()} for the old public URL`);
    console.log(`    the old public URL: ${reply.status} ${(/<Code>([^<]*)<\/Code>/.exec(reply.text) || [])[1]}`);
  });

  let linkUrl;
  await step("alice-creates-a-share-link", alice, async () => {
    linkUrl = await alice.createShareLink(card, server.base);
  });

  await step("the-link-opens-the-image-without-cookies", anonymous, async () => {
    const hop = await fromOrigin(linkUrl);
    if (hop.status !== 302) fail(`the share link answered ${hop.status}, expected 302`);
    const target = expectPresigned(hop.location, store, aliceKey, "the share link's target");
    expectLifetime(target.endsAt, LINK_TTL_SECS, "the share link's target");
    const response = await anonymous.expectImage(linkUrl, "following the share link");
    expectPresigned(anonymous.page.url(), store, aliceKey, "where the share link led the visitor");
    const cookie = (await response.request().allHeaders()).cookie;
    if (cookie) fail(`the visitor sent cookies: ${cookie}`);
    const jar = await anonymous.context.cookies();
    if (jar.length) fail(`following the link set cookies: ${jar.map((c) => c.name).join(", ")}`);
  });

  await step("the-page-renews-alices-presigned-urls", alice, async () => {
    // The page asks for its own images again before the earliest of their URLs ends, without being
    // opened again: it planned that when the image was uploaded and each time it changed since.
    const img = card.locator("img");
    await expectLoaded(img, "Alice's image");
    const first = await img.getAttribute("src");
    const firstEnds = await endOf(alice, first, "Alice's own image");
    let renewed = first;
    while (renewed === first) {
      if (nowSecs() >= firstEnds) fail(`the page did not renew ${first} before its url_expires_at ${firstEnds}`);
      await alice.page.waitForTimeout(100);
      renewed = await img.getAttribute("src");
    }
    const early = firstEnds - nowSecs();
    expectPresigned(renewed, store, aliceKey, "the renewed URL");
    const renewedEnds = await endOf(alice, renewed, "the renewed URL");
    if (!(renewedEnds > firstEnds)) fail(`the renewed URL ends at ${renewedEnds}, not after ${firstEnds}`);
    console.log(`    renewed ${early.toFixed(1)} s before the first URL's end`);
    // Past the first URL's end: the store refuses it, and the page's image still loads.
    await alice.page.waitForTimeout(firstEnds * 1000 + 1000 - Date.now());
    const old = await fromOrigin(first);
    if (old.status !== 403) fail(`the first URL answered ${old.status} past its end, expected 403`);
    await expectLoaded(img, "Alice's image once the first URL has ended");
    const current = await img.getAttribute("src");
    if (current === first) fail("the page shows the ended URL again");
    if (!((await widthInPage(alice, current)) > 0)) fail(`the URL the page shows now, ${current}, does not load`);
    await alice.expectNoError();
  });

  // ---- albums: presigned URLs under the album's prefix, and no cookie set ----

  let albumId;
  let albumCard;

  await step("alice-creates-an-album-and-uploads-into-it", alice, async () => {
    albumCard = await alice.createAlbum("Holiday");
    albumId = await albumCard.getAttribute("data-album-id");
    for (const [i, size] of [[1, [120, 80]], [2, [80, 120]]]) {
      const imageCard = await alice.uploadInto(writePng(path.join(shots, `holiday-${i}.png`), ...size), "Holiday");
      if ((await imageCard.getAttribute("data-album-id")) !== albumId) fail(`holiday-${i}.png did not land in the album`);
      const id = await imageCard.getAttribute("data-image-id");
      expectPresigned(await imageCard.locator("img").getAttribute("src"), store,
        `users/${aliceId}/albums/${albumId}/${id}.png`, `Alice's album image ${i}`);
    }
  });

  await step("alice-shares-the-album-with-bob", alice, async () => {
    await alice.shareAlbum(albumCard, bobEmail);
  });

  const albumImgs = bob.page.locator("#album-images li img");
  let albumEnds;
  await step("bob-opens-the-shared-album-with-presigned-urls", bob, async () => {
    await bob.openGallerySignedIn(server.base, bobEmail);
    const listed = bob.page.locator(`#shared-albums li[data-album-id="${albumId}"]`);
    await listed.waitFor();
    const answer = bob.page.waitForResponse((r) =>
      r.request().method() === "GET" && new URL(r.url()).pathname === `/api/albums/${albumId}`);
    await listed.getByRole("button", { name: "Open" }).click();
    const response = await answer;
    const body = await response.json();
    if (response.status() !== 200 || body.role !== "grantee") fail(`Bob opening the album: ${response.status()} ${JSON.stringify(body)}`);
    if (body.cookies && body.cookies.set) fail(`the album answer carries a cookie set: ${JSON.stringify(body.cookies)}`);
    const sent = await cloudFrontSetCookies(response);
    if (sent.length) fail(`GET /api/albums/{id} set CloudFront cookies:\n  ${sent.join("\n  ")}`);
    await bob.page.locator("#album-view").waitFor();
    await bob.page.locator("#album-images li").nth(1).waitFor();
    if ((await albumImgs.count()) !== 2) fail(`Bob sees ${await albumImgs.count()} images in the album, expected 2`);
    albumEnds = Math.min(...body.images.map((image) => image.url_expires_at));
    for (const image of body.images) {
      const parts = expectPresigned(image.url, store, `users/${aliceId}/albums/${albumId}/${image.id}.png`, "an album image for Bob");
      if (image.url_expires_at !== parts.endsAt) fail(`url_expires_at ${image.url_expires_at} is not the URL's end ${parts.endsAt}`);
      expectLifetime(parts.endsAt, ALBUM_TTL_SECS, "Bob's album URL");
    }
    for (let i = 0; i < 2; i += 1) {
      const src = await albumImgs.nth(i).getAttribute("src");
      if (!body.images.some((image) => image.url === src)) fail(`Bob's album view shows ${src}, which the answer did not give`);
      await expectLoaded(albumImgs.nth(i), "an image of the album shared with Bob");
      await expectSentNoCloudFrontCookie(bob, src, "an image of the shared album");
    }
    await expectNoCloudFrontCookies(bob, "with the shared album open");
  });

  await step("bobs-page-asks-for-the-album-again-before-its-urls-end", bob, async () => {
    const first = await albumImgs.first().getAttribute("src");
    const reopened = await bob.page.waitForResponse(
      (r) => r.request().method() === "GET" && new URL(r.url()).pathname === `/api/albums/${albumId}`,
      { timeout: Math.max(1000, albumEnds * 1000 - Date.now() + 2000) },
    );
    const early = albumEnds - nowSecs();
    if (early <= 0) fail(`the page asked for the album again ${(-early).toFixed(1)} s after its URLs ended`);
    const body = await reopened.json();
    if (reopened.status() !== 200 || (body.cookies && body.cookies.set)) fail(`the album again: ${reopened.status()} ${JSON.stringify(body.cookies)}`);
    if (!(Math.min(...body.images.map((image) => image.url_expires_at)) > albumEnds)) fail("the album's new URLs end no later");
    await bob.page.waitForFunction(
      (first) => document.querySelector("#album-images li img")?.getAttribute("src") !== first,
      first,
    );
    for (let i = 0; i < 2; i += 1) await expectLoaded(albumImgs.nth(i), "an album image after the page asked again");
    console.log(`    asked again ${early.toFixed(1)} s before the album's URLs ended`);
    await expectNoCloudFrontCookies(bob, "after the album was asked for again");
  });

  await step("alice-logs-out-without-a-cloudfront-cookie", alice, async () => {
    const src = await card.locator("img").getAttribute("src");
    await alice.logOut();
    await expectNoCloudFrontCookies(alice, "after logging out");
    const me = await fromPage(alice, "GET", "/api/me");
    if (me.status !== 401) fail(`GET /api/me after logout answered ${me.status}`);
    // A presigned URL is not tied to the session: one taken before logout works until its end.
    const reply = await fromOrigin(src);
    const left = (await endOf(alice, src, "Alice's last URL")) - nowSecs();
    if (left > 0.5 && reply.status !== 200) fail(`Alice's URL from before logout answered ${reply.status} with ${left.toFixed(1)} s left`);
  });
}

await run("s3", scenario, { env: ENV });
