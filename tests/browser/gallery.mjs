#!/usr/bin/env node
// The demo gallery in a real browser, CloudFront delivery: Debian's Chromium, driven through
// playwright-core, against a freshly started `edgepass serve` in local mode (its API on one free port,
// its local edge, the CloudFront stand-in, on another). The server, the browser contexts and the steps
// come from harness.mjs; tests/browser/s3.mjs is the same gallery with EDGEPASS_DELIVERY=s3.
//
// Usage: node tests/browser/gallery.mjs        (tests/browser/run finds the binary and calls this)
//
// Environment: see harness.mjs (EDGEPASS_BIN, EDGEPASS_SCREENSHOTS, EDGEPASS_TOOLS, EDGEPASS_CHROMIUM).
//
// Alice, Bob, Carol and an anonymous visitor each get a browser context of their own (their own
// cookies). The owners of the albums that fill Bob's browser with album cookie sets are driven through
// the JSON API from Node, with their session cookie (ApiUser).
// Every step saves a screenshot NN-step.png; on a failure every open page is saved as
// NN-failed-WHO.png, the server's log tail is printed, and the exit status is 1. The server is stopped
// in every case.

import path from "node:path";

import {
  ApiUser,
  PASSWORD,
  Visitor,
  cloudFrontCookiesByPath,
  expectLoaded,
  fail,
  fromOrigin as fromEdge,
  run,
  shots,
  step,
  visitors,
  widthInPage,
} from "./harness.mjs";
import { writePng } from "./png.mjs";

// The CloudFront cookies' lifetime for this run (see ENV).
const COOKIE_TTL_SECS = 8;
// The album cookie sets' lifetime: long enough for the album steps, short enough that the page is
// seen minting an open album's set again.
const ALBUM_COOKIE_TTL_SECS = 30;

// What this scenario adds to the server's environment.
const ENV = {
  // CloudFront cookies that last seconds, not an hour, so that the scenario sees the page renew
  // them before they expire (and the renewed ones open the images).
  EDGEPASS_CDN_COOKIE_TTL_SECS: String(COOKIE_TTL_SECS),
  EDGEPASS_CDN_EXPIRY_WINDOW_SECS: "1",
  EDGEPASS_ALBUM_COOKIE_TTL_SECS: String(ALBUM_COOKIE_TTL_SECS),
  // All accounts come from 127.0.0.1, and the album steps register more than the default 10 an
  // hour (ALBUM_OWNERS + the three people).
  EDGEPASS_REGISTRATIONS_PER_CLIENT: "100",
};

// The names every CloudFront cookie set has.
const SET_NAMES = ["CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"];

function expectWholeSet(names, where) {
  const missing = SET_NAMES.filter((name) => !(names || []).includes(name));
  if (missing.length) fail(`${where}: ${missing.join(", ")} missing (holds ${(names || []).join(", ") || "none"})`);
}

// Album owners besides Alice: one more than a session's album sets (EDGEPASS_ALBUM_COOKIE_SETS,
// left at its default 20).
const ALBUM_OWNERS = 21;

// The Cache-Control the edge serves images with, as the README's tour states them.
const PRIVATE_CACHE_CONTROL = "private, max-age=3600";
const PUBLIC_CACHE_CONTROL = "public, max-age=60";

// ---- the scenario ----

async function scenario(server, browser) {
  const png = writePng(path.join(shots, "upload.png"), 96, 64);
  const alice = await Visitor.open(browser, "Alice", { width: 390, height: 844 });
  const bob = await Visitor.open(browser, "Bob", { width: 1024, height: 768 });
  const anonymous = await Visitor.open(browser, "a visitor without cookies", { width: 800, height: 600 });
  // The others check what the edge answers; Carol's browser keeps its HTTP cache, as real ones do.
  const carol = await Visitor.open(browser, "Carol (HTTP cache on)", { width: 800, height: 900 }, { httpCache: true });
  visitors.push(alice, bob, anonymous, carol);
  const aliceEmail = "alice@example.com";
  const bobEmail = "bob@example.com";

  let imageId;
  let privateUrl;
  let publicUrl;
  let card;

  await step("alice-opens-the-gallery", alice, async () => {
    await alice.openGallerySignedOut(server.base);
  });

  // ---- what a browser with its HTTP cache shows after an image goes private and after logout ----

  let carolCard;
  let carolPrivateUrl;
  let carolPublicUrl;
  let publicCachedAt;
  let copiedCookies;
  let copiedUntil;

  await step("carol-registers-and-uploads-with-the-http-cache-on", carol, async () => {
    await carol.openGallerySignedOut(server.base);
    await carol.register("carol@example.com");
    await carol.submitUpload(png);
    carolCard = carol.page.locator("#mine li[data-image-id]").first();
    await expectLoaded(carolCard.locator("img"), "Carol's own image");
    carolPrivateUrl = await carolCard.locator("img").getAttribute("src");
  });

  await step("carol-makes-it-public-and-her-browser-caches-it", carol, async () => {
    await carolCard.getByRole("button", { name: "Make public" }).click();
    await carol.page.locator('#mine li[data-visibility="public"]').waitFor();
    carolPublicUrl = await carolCard.locator("img").getAttribute("src");
    await expectLoaded(carolCard.locator("img"), "Carol's public image");
    publicCachedAt = Date.now();
    const edge = await fromEdge(carolPublicUrl);
    if (edge.status !== 200 || edge.cacheControl !== PUBLIC_CACHE_CONTROL) {
      fail(`the edge serves ${carolPublicUrl} with ${edge.status}, Cache-Control ${edge.cacheControl}`);
    }
  });

  await step("carol-makes-it-private-and-the-edge-refuses-the-public-url", carol, async () => {
    await carolCard.getByRole("button", { name: "Make private" }).click();
    await carol.page.locator('#mine li[data-visibility="private"]').waitFor();
    await carol.expectNoError();
    const edge = await fromEdge(carolPublicUrl);
    if (edge.status !== 403) fail(`the edge answers ${edge.status} for ${carolPublicUrl} after it went private`);
  });

  await step("carols-browser-still-shows-its-copy-of-the-public-url", carol, async () => {
    // From its cache, which the edge's 403 does not reach: for up to 60 s after it was loaded.
    await carol.expectImage(carolPublicUrl, "Carol's cached copy of the public URL");
  });

  await step("carol-copies-her-cloudfront-cookies-and-logs-out", carol, async () => {
    await carol.openGallerySignedIn(server.base, "carol@example.com");
    const grant = await carol.page.evaluate(async () => {
      const reply = await fetch("/api/cdn/cookies", { method: "POST", credentials: "same-origin" });
      return reply.json();
    });
    copiedUntil = grant.expires_at;
    const cdnCookies = (await carol.context.cookies()).filter((c) => c.name.startsWith("CloudFront-"));
    copiedCookies = cdnCookies.map((c) => `${c.name}=${c.value}`).join("; ");
    if (cdnCookies.length < 3) fail(`Carol holds only ${copiedCookies || "no CloudFront cookies"}`);
    await carol.logOut();
    const left = (await carol.context.cookies()).filter((c) => c.name.startsWith("CloudFront-"));
    if (left.length) fail(`logout left Carol's browser ${left.map((c) => c.name).join(", ")}`);
  });

  await step("after-logout-the-edge-refuses-but-copied-cookies-still-work", carol, async () => {
    const bare = await fromEdge(carolPrivateUrl);
    if (bare.status !== 403) fail(`the edge answers ${bare.status} for ${carolPrivateUrl} without cookies`);
    const copied = await fromEdge(carolPrivateUrl, copiedCookies);
    if (copied.status !== 200) {
      fail(`cookies copied before logout got ${copied.status}; they should work until ${copiedUntil}`);
    }
    if (copied.cacheControl !== PRIVATE_CACHE_CONTROL) fail(`Cache-Control ${copied.cacheControl}`);
  });

  await step("after-logout-carols-browser-still-shows-its-copy", carol, async () => {
    // No cookies left, and the edge refuses the URL: the image can only come from the cache.
    await carol.expectImage(carolPrivateUrl, "Carol's cached copy of her private image after logout");
  });

  await step("reloading-asks-the-edge-which-refuses", carol, async () => {
    const response = await carol.page.reload();
    if (!response || response.status() !== 403) {
      fail(`reloading ${carolPrivateUrl} after logout gave ${response && response.status()}, expected 403`);
    }
  });

  await step("alice-registers", alice, async () => {
    await alice.register(aliceEmail);
  });

  await step("alice-uploads-an-image", alice, async () => {
    card = await alice.uploadImage(png);
    imageId = await card.getAttribute("data-image-id");
    privateUrl = await card.locator("img").getAttribute("src");
    const expected = new RegExp(`^${server.edge}/users/\\d+/${imageId}\\.png$`);
    if (!expected.test(privateUrl)) {
      fail(`the page shows ${privateUrl}; expected a plain edge link matching ${expected}`);
    }
    await expectLoaded(card.locator("img"), "Alice's own image through the plain edge link");
  });

  await step("bob-registers", bob, async () => {
    await bob.openGalleryAndRegister(server.base, bobEmail);
  });

  await step("bob-is-refused-alices-image", bob, async () => {
    const response = await bob.expectDenied(privateUrl, 403, "Bob opening Alice's private image");
    const body = await response.text();
    if (!body.includes("<Error>")) fail(`the edge's 403 is not CloudFront-like XML: ${body.slice(0, 200)}`);
  });

  await step("alice-makes-it-public", alice, async () => {
    await alice.setVisibility(card, imageId, "public");
    publicUrl = await card.locator("img").getAttribute("src");
    if (publicUrl !== `${server.edge}/public/${imageId}.png`) {
      fail(`the public image's URL is ${publicUrl}, expected ${server.edge}/public/${imageId}.png`);
    }
    await expectLoaded(card.locator("img"), "the public image in Alice's page");
  });

  await step("bob-loads-the-public-url-without-cookies", bob, async () => {
    const response = await bob.expectImage(publicUrl, "Bob loading the public URL");
    // Bob's CloudFront cookies are scoped to his own prefix; only edgepass's session cookie (not
    // isolated by port) may ride along, and the edge ignores it.
    const cookie = (await response.request().allHeaders()).cookie || "";
    if (/CloudFront-/.test(cookie)) fail("Bob's CloudFront cookies were sent for the public URL: the test proves nothing");
  });

  await step("alice-makes-it-private-again", alice, async () => {
    await alice.setVisibility(card, imageId, "private");
    const src = await card.locator("img").getAttribute("src");
    if (src !== privateUrl) fail(`after going private the page shows ${src}, expected ${privateUrl}`);
    await expectLoaded(card.locator("img"), "Alice's private image after the round trip");
  });

  await step("the-public-url-is-refused-at-once", bob, async () => {
    await bob.expectDenied(publicUrl, 403, "the public URL right after the image went private");
  });

  await step("alice-shares-with-bob", alice, async () => {
    await alice.shareImage(card, bobEmail);
  });

  let sharedUrl;
  await step("bob-sees-it-shared-with-him", bob, async () => {
    await bob.openGallery(server.base);
    const shared = bob.page.locator(`#shared li[data-image-id="${imageId}"]`);
    await shared.waitFor();
    sharedUrl = await shared.locator("img").getAttribute("src");
    const url = new URL(sharedUrl);
    if (`${url.origin}${url.pathname}` !== privateUrl) fail(`Bob's shared URL ${sharedUrl} is not for ${privateUrl}`);
    for (const parameter of ["Signature", "Key-Pair-Id"]) {
      if (!url.searchParams.has(parameter)) fail(`Bob's shared URL has no ${parameter}: ${sharedUrl}`);
    }
    await expectLoaded(shared.locator("img"), "the shared image in Bob's page");
  });

  await step("alice-revokes-bobs-share", alice, async () => {
    await alice.revokeShare(card, bobEmail);
  });

  await step("bob-gets-no-new-url", bob, async () => {
    await bob.expectNoLongerShared(imageId);
  });

  let linkUrl;
  await step("alice-creates-a-share-link", alice, async () => {
    linkUrl = await alice.createShareLink(card, server.base);
  });

  await step("the-link-opens-the-image-without-cookies", anonymous, async () => {
    const response = await anonymous.expectImage(linkUrl, "following the share link");
    const landed = new URL(anonymous.page.url());
    if (`${landed.origin}${landed.pathname}` !== privateUrl || !landed.searchParams.has("Signature")) {
      fail(`the share link led to ${anonymous.page.url()}, expected a signed URL for ${privateUrl}`);
    }
    const cookie = (await response.request().allHeaders()).cookie;
    if (cookie) fail("the visitor sent cookies: the test proves nothing");
  });

  await step("alice-revokes-the-link", alice, async () => {
    await card.getByRole("button", { name: /^Revoke link / }).click();
    await card.getByText(/: revoked /).waitFor();
    await alice.expectNoError();
  });

  await step("the-revoked-link-is-gone", anonymous, async () => {
    const response = await anonymous.expectDenied(linkUrl, 410, "the share link after revocation");
    const body = await response.json().catch(() => null);
    if (!body || body.error !== "gone") fail(`the revoked link's answer is not the JSON error "gone": ${JSON.stringify(body)}`);
  });

  await step("the-page-renews-the-cloudfront-cookies", alice, async () => {
    const first = alice.grants.find((g) => g.from === "/api/auth/register");
    if (!first) fail("no CloudFront cookie grant seen in Alice's registration");
    const deadline = Date.now() + (COOKIE_TTL_SECS + 5) * 1000;
    while (!alice.grants.some((g) => g.from === "/api/cdn/cookies" && g.expiresAt > first.expiresAt)) {
      if (Date.now() > deadline) fail("the page did not renew the CloudFront cookies (no POST /api/cdn/cookies)");
      await alice.page.waitForTimeout(200);
    }
    // Past the first cookies' expiry, only renewed ones can open the image.
    const wait = first.expiresAt * 1000 + 1000 - Date.now();
    if (wait > 0) await alice.page.waitForTimeout(wait);
    const width = await widthInPage(alice, privateUrl);
    if (!(width > 0)) fail(`after the first CloudFront cookies expired, ${privateUrl} no longer loads in Alice's page`);
    await alice.expectNoError();
  });

  await step("alice-logs-out", alice, async () => {
    await alice.logOut();
  });

  await step("alices-own-link-is-refused-after-logout", alice, async () => {
    await alice.expectDenied(privateUrl, 403, "Alice's own image link after logging out");
  });

  await step("alice-signs-in-with-the-keyboard", alice, async () => {
    await alice.openGallerySignedOut(server.base);
    const page = alice.page;
    await page.getByLabel("Email").focus();
    await page.keyboard.type(aliceEmail);
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await alice.expectSignedIn(aliceEmail);
    card = page.locator(`#mine li[data-image-id="${imageId}"]`);
    await expectLoaded(card.locator("img"), "Alice's image after signing in again");
  });

  await step("alice-deletes-the-image", alice, async () => {
    alice.page.once("dialog", (dialog) => dialog.accept());
    await card.getByRole("button", { name: "Delete" }).focus();
    await alice.page.keyboard.press("Enter");
    await card.waitFor({ state: "detached" });
    await alice.page.getByText("You have no images yet.").waitFor();
    await alice.expectNoError();
    const gone = await alice.page.evaluate(async (id) => (await fetch(`/api/images/${id}`)).status, imageId);
    if (gone !== 404) fail(`GET /api/images/{id} after deletion answered ${gone}, expected 404`);
  });

  await step("an-api-error-is-shown", alice, async () => {
    await alice.submitUpload({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("not an image"),
    });
    const error = alice.page.getByRole("alert");
    await error.waitFor();
    const text = await error.innerText();
    if (!/invalid_input/.test(text) || !/content_type/.test(text)) {
      fail(`the page's error does not carry the API's error and message: ${text}`);
    }
    if (await alice.page.locator("#mine li[data-image-id]").count()) fail("a refused upload left an image behind");
  });

  // ---- albums: one cookie set per shared album, scoped to the album's Path ----

  const aliceId = await alice.page.evaluate(async () => (await (await fetch("/api/me")).json()).user.id);
  const holidayPngs = [
    writePng(path.join(shots, "holiday-1.png"), 120, 80),
    writePng(path.join(shots, "holiday-2.png"), 80, 120),
    writePng(path.join(shots, "holiday-3.png"), 100, 100),
  ];
  let holidayId;
  let holidayPath;
  let holidayUrls;
  let notesId;
  let notesUrl;
  let rootUrl;
  let holidayCard;

  // The album image URL of Alice's: a plain link under the album's Path.
  function expectAlbumUrl(url, albumId, imageId) {
    const expected = `${server.edge}/users/${aliceId}/albums/${albumId}/${imageId}.png`;
    if (url !== expected) fail(`the page shows ${url}; expected the plain album link ${expected}`);
  }

  await step("alice-creates-an-album-and-uploads-into-it", alice, async () => {
    await alice.openGallerySignedIn(server.base, aliceEmail);
    holidayCard = await alice.createAlbum("Holiday");
    holidayId = await holidayCard.getAttribute("data-album-id");
    holidayPath = `/users/${aliceId}/albums/${holidayId}/`;
    for (const file of holidayPngs.slice(0, 2)) {
      const imageCard = await alice.uploadInto(file, "Holiday");
      if ((await imageCard.getAttribute("data-album-id")) !== holidayId) fail(`${file} did not land in the album`);
      if ((await imageCard.getByLabel("Album").inputValue()) !== holidayId) fail("the card's album select does not show Holiday");
      expectAlbumUrl(await imageCard.locator("img").getAttribute("src"), holidayId, await imageCard.getAttribute("data-image-id"));
    }
  });

  await step("alice-moves-a-third-image-into-the-album", alice, async () => {
    const imageCard = await alice.uploadInto(holidayPngs[2], "No album");
    const imageId = await imageCard.getAttribute("data-image-id");
    const before = await imageCard.locator("img").getAttribute("src");
    if (before !== `${server.edge}/users/${aliceId}/${imageId}.png`) fail(`a root image shows ${before}`);
    await imageCard.getByLabel("Album").selectOption({ label: "Holiday" });
    await alice.page.locator(`#mine li[data-image-id="${imageId}"][data-album-id="${holidayId}"]`).waitFor();
    await alice.expectNoError();
    expectAlbumUrl(await imageCard.locator("img").getAttribute("src"), holidayId, imageId);
    await expectLoaded(imageCard.locator("img"), "the moved image at its album URL, through Alice's own cookies");
  });

  await step("alice-keeps-another-album-and-a-root-image", alice, async () => {
    const notesCard = await alice.createAlbum("Private notes");
    notesId = await notesCard.getAttribute("data-album-id");
    const notesImage = await alice.uploadInto(writePng(path.join(shots, "notes.png"), 90, 60), "Private notes");
    notesUrl = await notesImage.locator("img").getAttribute("src");
    expectAlbumUrl(notesUrl, notesId, await notesImage.getAttribute("data-image-id"));
    const rootImage = await alice.uploadInto(writePng(path.join(shots, "root.png"), 64, 64), "No album");
    rootUrl = await rootImage.locator("img").getAttribute("src");
    // Alice's own album, shown from the album list, through her own cookies.
    await holidayCard.getByRole("button", { name: "Show images" }).click();
    await alice.page.getByRole("heading", { name: "Album: Holiday" }).waitFor();
    const shown = alice.page.locator("#album-images li img");
    await alice.page.locator("#album-images li").nth(2).waitFor();
    holidayUrls = await shown.evaluateAll((imgs) => imgs.map((img) => img.getAttribute("src")));
    if (holidayUrls.length !== 3) fail(`Alice's album view shows ${holidayUrls.length} images, expected 3`);
    for (let i = 0; i < 3; i += 1) await expectLoaded(shown.nth(i), "Alice's own album view");
  });

  await step("alice-shares-the-album-with-bob", alice, async () => {
    await alice.shareAlbum(holidayCard, bobEmail);
  });

  // Opens the album `albumId` from the Shared albums list of `visitor`'s gallery; returns the API's
  // answer (its JSON and its Set-Cookie values).
  async function openSharedAlbum(visitor, albumId) {
    const answer = visitor.page.waitForResponse((r) =>
      r.request().method() === "GET" && new URL(r.url()).pathname === `/api/albums/${albumId}`);
    await visitor.page.locator(`#shared-albums li[data-album-id="${albumId}"]`).getByRole("button", { name: "Open" }).click();
    const response = await answer;
    const body = await response.json();
    if (response.status() !== 200) fail(`${visitor.name} opening album ${albumId}: ${response.status()} ${JSON.stringify(body)}`);
    const setCookies = (await response.headersArray()).filter((h) => h.name.toLowerCase() === "set-cookie").map((h) => h.value);
    await visitor.page.locator("#album-view").waitFor();
    return { body, setCookies };
  }

  let bobsAlbumCookies;
  await step("bob-opens-the-shared-album-with-plain-links", bob, async () => {
    await bob.openGallerySignedIn(server.base, bobEmail);
    const listed = bob.page.locator(`#shared-albums li[data-album-id="${holidayId}"]`);
    await listed.waitFor();
    if (!(await listed.innerText()).includes(aliceEmail)) fail(`the shared album does not name its owner: ${await listed.innerText()}`);
    const { body, setCookies } = await openSharedAlbum(bob, holidayId);
    if (body.role !== "grantee") fail(`Bob's role is ${body.role}`);
    if (!body.cookies.set || body.cookies.set.cookie_path !== holidayPath) {
      fail(`the answer's cookie set is not at ${holidayPath}: ${JSON.stringify(body.cookies)}`);
    }
    const sent = setCookies.filter((c) => c.startsWith("CloudFront-"));
    const pathOf = (c) => (/;\s*Path=([^;]*)/i.exec(c) || [])[1];
    if (sent.length < 3 || sent.some((c) => pathOf(c) !== holidayPath)) {
      fail(`GET /api/albums/{id} sent these CloudFront cookies:\n  ${sent.join("\n  ")}`);
    }
    const imgs = bob.page.locator("#album-images li img");
    await bob.page.locator("#album-images li").nth(2).waitFor();
    if ((await imgs.count()) !== 3) fail(`Bob sees ${await imgs.count()} images in the album, expected 3`);
    for (let i = 0; i < 3; i += 1) {
      const src = await imgs.nth(i).getAttribute("src");
      if (src.includes("?")) fail(`Bob's album image has a query string: ${src}`);
      if (!src.startsWith(`${server.edge}${holidayPath}`)) fail(`Bob's album image ${src} is not under ${holidayPath}`);
      await expectLoaded(imgs.nth(i), "an image of the album shared with Bob");
    }
    const jar = await cloudFrontCookiesByPath(bob);
    expectWholeSet(jar[holidayPath], `Bob's browser at ${holidayPath}`);
    const aliceElsewhere = Object.keys(jar).filter((p) => p.startsWith(`/users/${aliceId}/`) && p !== holidayPath);
    if (aliceElsewhere.length) fail(`Bob's browser holds CloudFront cookies for ${aliceElsewhere.join(", ")}`);
    const cookies = (await bob.context.cookies()).filter((c) => c.name.startsWith("CloudFront-") && c.path === holidayPath);
    bobsAlbumCookies = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    console.log(`    Bob's album set: ${cookies.map((c) => c.name).join(", ")} at Path=${holidayPath} (${sent.length} Set-Cookie headers)`);
  });

  await step("bob-opens-an-album-image-by-its-url", bob, async () => {
    const response = await bob.expectImage(holidayUrls[0], "Bob navigating to an image of the shared album");
    const cookie = (await response.request().allHeaders()).cookie || "";
    if (!cookie.includes("CloudFront-Policy=")) fail("Bob's browser sent no album set with the album image");
  });

  await step("bob-is-refused-alices-other-images", bob, async () => {
    for (const [url, what] of [[rootUrl, "Alice's root image"], [notesUrl, "an image of Alice's other album"]]) {
      const response = await bob.expectDenied(url, 403, `Bob opening ${what}`);
      const cookie = (await response.request().allHeaders()).cookie || "";
      if (/CloudFront-/.test(cookie)) fail(`Bob's browser sent CloudFront cookies for ${what}: their Path is too wide`);
      // Sent on purpose: the album set opens the album only, at the edge too.
      const withSet = await fromEdge(url, bobsAlbumCookies);
      if (withSet.status !== 403) fail(`the album set copied onto ${what} got ${withSet.status}, expected 403`);
    }
    // Climbing out of the album's Path: the browser sends the album set (the path starts with it).
    const climb = `${server.edge}${holidayPath}..%2f..%2f${rootUrl.split("/").pop()}`;
    const response = await bob.visit(climb);
    if (response.status() === 200) fail(`${climb} answered 200: a path that climbs out of the album was served`);
    console.log(`    ${climb.slice(server.edge.length)} answered ${response.status()}`);
  });

  await step("carol-sees-no-shared-album-and-gets-404", carol, async () => {
    await carol.openGallerySignedOut(server.base);
    await carol.logIn("carol@example.com");
    await carol.page.getByText("No albums have been shared with you.").waitFor();
    const answer = await carol.page.evaluate(async (id) => {
      const [one, all] = await Promise.all([fetch(`/api/albums/${id}`), fetch("/api/albums")]);
      return { status: one.status, body: await one.json(), shared: (await all.json()).shared };
    }, holidayId);
    if (answer.status !== 404) fail(`Carol's GET /api/albums/{alice's} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    if (answer.shared.length) fail(`Carol is shown shared albums: ${JSON.stringify(answer.shared)}`);
    const jar = await cloudFrontCookiesByPath(carol);
    if (Object.keys(jar).some((p) => p.includes("/albums/"))) fail(`Carol's browser holds album cookies: ${JSON.stringify(jar)}`);
  });

  await step("carol-is-refused-the-album-image-and-logs-out", carol, async () => {
    await carol.expectDenied(holidayUrls[0], 403, "Carol opening an image of Alice's album");
    await carol.openGallery(server.base);
    await carol.logOut();
  });

  await step("alice-revokes-bobs-album-share", alice, async () => {
    // Bob has the album open in his gallery, whose timer refreshes his own cookies.
    await bob.openGallery(server.base);
    await openSharedAlbum(bob, holidayId);
    await expectLoaded(bob.page.locator("#album-images li img").first(), "the album before revocation");
    bob.expiredAlbumSets.length = 0;
    await alice.revokeShare(holidayCard, bobEmail);
  });

  await step("bobs-next-refresh-expires-the-album-set", bob, async () => {
    const deadline = Date.now() + (COOKIE_TTL_SECS + 5) * 1000;
    while (!bob.expiredAlbumSets.some((set) => set.album_id === holidayId)) {
      if (Date.now() > deadline) {
        fail(`no POST /api/cdn/cookies from Bob's page expired the album set (saw ${JSON.stringify(bob.expiredAlbumSets)})`);
      }
      await bob.page.waitForTimeout(200);
    }
    const expired = bob.expiredAlbumSets.find((set) => set.album_id === holidayId);
    if (expired.cookie_path !== holidayPath) fail(`the expired set's Path is ${expired.cookie_path}, expected ${holidayPath}`);
    await bob.page.locator("#album-view").waitFor({ state: "hidden" });
    await bob.page.getByText("The album Holiday is no longer available to you.").waitFor();
    await bob.page.getByText("No albums have been shared with you.").waitFor();
    const jar = await cloudFrontCookiesByPath(bob);
    if (jar[holidayPath]) fail(`after the refresh Bob's browser still holds ${jar[holidayPath].join(", ")} at ${holidayPath}`);
    const again = await bob.page.evaluate(async (id) => (await fetch(`/api/albums/${id}`)).status, holidayId);
    if (again !== 404) fail(`Bob reopening the revoked album got ${again}, expected 404`);
  });

  await step("the-revoked-albums-images-are-refused", bob, async () => {
    for (const url of holidayUrls) await bob.expectDenied(url, 403, "an image of the album after revocation and refresh");
    // As documented: a copy of the set taken before the revocation works until its own expiry.
    const copied = await fromEdge(holidayUrls[0], bobsAlbumCookies);
    if (copied.status !== 200) fail(`the copied album set got ${copied.status} before its expiry`);
  });

  let owners;
  let ownerAlbums;
  let firstAlbumImage;
  await step("twenty-one-owners-share-an-album-with-bob", bob, async () => {
    owners = await Promise.all(
      Array.from({ length: ALBUM_OWNERS }, (_, i) => ApiUser.register(server.base, `owner${i + 1}@example.com`)),
    );
    ownerAlbums = [];
    for (const [i, owner] of owners.entries()) {
      const album = await owner.call("POST", "/api/albums", { name: `Album ${i + 1}` }, 201);
      await owner.call("PUT", `/api/albums/${album.id}/shares/${encodeURIComponent(bobEmail)}`, undefined, 200);
      ownerAlbums.push(album);
    }
    firstAlbumImage = await owners[0].uploadPng(writePng(path.join(shots, "album-1.png"), 70, 50), ownerAlbums[0].id);
    await owners[ALBUM_OWNERS - 1].uploadPng(writePng(path.join(shots, "album-21.png"), 50, 70), ownerAlbums[ALBUM_OWNERS - 1].id);
    await bob.openGallery(server.base);
    await bob.page.locator("#shared-albums li[data-album-id]").nth(ALBUM_OWNERS - 1).waitFor();
    await bob.expectNoError();
  });

  let evicted;
  await step("bob-opens-twenty-one-albums-and-the-oldest-set-is-expired", bob, async () => {
    for (const [i, album] of ownerAlbums.entries()) {
      const { body } = await openSharedAlbum(bob, album.id);
      if (!body.cookies.set || body.cookies.set.cookie_path !== album.cookie_path) {
        fail(`opening album ${i + 1} set no cookie set at ${album.cookie_path}: ${JSON.stringify(body.cookies)}`);
      }
      if (i < ALBUM_OWNERS - 1 && body.cookies.evicted) fail(`album ${i + 1} already evicted ${JSON.stringify(body.cookies.evicted)}`);
      if (i === ALBUM_OWNERS - 1) evicted = body.cookies.evicted;
    }
    if (!evicted || evicted.album_id !== ownerAlbums[0].id) {
      fail(`after the 21st album the answer's cookies.evicted is ${JSON.stringify(evicted)}, expected album 1 (${ownerAlbums[0].id})`);
    }
    if (evicted.cookie_path !== ownerAlbums[0].cookie_path) fail(`the evicted Path is ${evicted.cookie_path}`);
    await expectLoaded(bob.page.locator("#album-images li img").first(), "the 21st album's image");
    await bob.page.getByText(/those of Album 1 were dropped/).waitFor();
    const jar = await cloudFrontCookiesByPath(bob);
    if (jar[ownerAlbums[0].cookie_path]) fail(`Bob's browser still holds the oldest set at ${ownerAlbums[0].cookie_path}`);
    for (const album of ownerAlbums.slice(1)) expectWholeSet(jar[album.cookie_path], `Bob's browser at ${album.cookie_path}`);
    const albumPaths = Object.keys(jar).filter((p) => p.includes("/albums/"));
    if (albumPaths.length !== 20) fail(`Bob's browser holds ${albumPaths.length} album sets, expected 20`);
  });

  await step("the-evicted-albums-image-needs-the-signed-url-the-answer-gave", bob, async () => {
    const plain = firstAlbumImage.url;
    await bob.expectDenied(plain, 403, "album 1's image after its set was evicted");
    const signed = evicted.urls[firstAlbumImage.id];
    if (!signed) fail(`cookies.evicted.urls has no URL for album 1's image: ${JSON.stringify(evicted)}`);
    await bob.expectImage(signed, "the signed URL cookies.evicted gave for album 1's image");
  });

  let reopenedSet;
  await step("bob-reopens-album-one-and-its-set-comes-back", bob, async () => {
    await bob.openGallery(server.base);
    const { body } = await openSharedAlbum(bob, ownerAlbums[0].id);
    reopenedSet = body.cookies.set;
    if (!body.cookies.evicted || body.cookies.evicted.album_id === ownerAlbums[0].id) {
      fail(`reopening album 1 evicted ${JSON.stringify(body.cookies.evicted)}, expected another album's set`);
    }
    await expectLoaded(bob.page.locator("#album-images li img").first(), "album 1's image after reopening it");
    const jar = await cloudFrontCookiesByPath(bob);
    expectWholeSet(jar[ownerAlbums[0].cookie_path], "Bob's browser at album 1 after reopening it");
    if (jar[body.cookies.evicted.cookie_path]) fail(`the set at ${body.cookies.evicted.cookie_path} was not expired`);
  });

  await step("bobs-page-mints-the-open-albums-set-again", bob, async () => {
    const albumOne = ownerAlbums[0];
    const minted = await bob.page.waitForResponse(
      (r) => r.request().method() === "POST" && new URL(r.url()).pathname === `/api/albums/${albumOne.id}/cookies`,
      { timeout: Math.max(1000, reopenedSet.expires_at * 1000 - Date.now() + 5000) },
    );
    const body = await minted.json();
    if (minted.status() !== 200 || !body.set || body.set.cookie_path !== albumOne.cookie_path) {
      fail(`POST /api/albums/{id}/cookies from Bob's page answered ${minted.status()}: ${JSON.stringify(body)}`);
    }
    if (!(body.set.expires_at > reopenedSet.expires_at)) fail(`the new set ends at ${body.set.expires_at}, not after ${reopenedSet.expires_at}`);
    // Past the first set's expiry, only the new one can open the album's image.
    const wait = reopenedSet.expires_at * 1000 + 1000 - Date.now();
    if (wait > 0) await bob.page.waitForTimeout(wait);
    const width = await widthInPage(bob, firstAlbumImage.url);
    if (!(width > 0)) fail(`after the first album set expired, ${firstAlbumImage.url} no longer loads in Bob's page`);
    await bob.expectNoError();
  });

  await step("alice-takes-an-image-out-of-the-album", alice, async () => {
    await alice.openGallery(server.base);
    const imageCard = alice.page.locator(`#mine li[data-album-id="${holidayId}"]`).first();
    const imageId = await imageCard.getAttribute("data-image-id");
    await imageCard.getByLabel("Album").selectOption({ label: "No album" });
    const moved = alice.page.locator(`#mine li[data-image-id="${imageId}"][data-album-id=""]`);
    await moved.waitFor();
    await alice.expectNoError();
    const src = await moved.locator("img").getAttribute("src");
    if (src !== `${server.edge}/users/${aliceId}/${imageId}.png`) fail(`the image out of the album shows ${src}`);
    await expectLoaded(moved.locator("img"), "the image back at Alice's root");
  });

  await step("alice-deletes-an-album-and-its-image-comes-back", alice, async () => {
    const notesCard = alice.page.locator(`#albums li[data-album-id="${notesId}"]`);
    alice.page.once("dialog", (dialog) => dialog.accept());
    await notesCard.getByRole("button", { name: "Delete album" }).click();
    await notesCard.waitFor({ state: "detached" });
    await alice.page.getByText("The album Private notes was deleted").waitFor();
    await alice.expectNoError();
    const imageId = notesUrl.split("/").pop().replace(/\.png$/, "");
    const back = alice.page.locator(`#mine li[data-image-id="${imageId}"][data-album-id=""]`);
    await back.waitFor();
    const src = await back.locator("img").getAttribute("src");
    if (src !== `${server.edge}/users/${aliceId}/${imageId}.png`) fail(`the image of the deleted album shows ${src}`);
    await expectLoaded(back.locator("img"), "the deleted album's image back at Alice's root");
    const options = await alice.page.locator("#upload-album option").allInnerTexts();
    if (options.includes("Private notes")) fail(`the upload's album select still offers the deleted album: ${options}`);
  });

  await step("cached-copies-and-copied-cookies-run-out", carol, async () => {
    // The public copy was fresh for 60 s (2 s more for the Date header's whole seconds); the copied
    // cookies last until their own expiry.
    const until = Math.max(publicCachedAt + 62_000, copiedUntil * 1000 + 1500);
    const wait = until - Date.now();
    if (wait > 0) {
      console.log(`  … waiting ${(wait / 1000).toFixed(0)} s for Carol's cached copy and copied cookies to expire`);
      await carol.page.waitForTimeout(wait);
    }
    await carol.expectDenied(carolPublicUrl, 403, "Carol's public URL once her cached copy is stale");
    const copied = await fromEdge(carolPrivateUrl, copiedCookies);
    if (copied.status !== 403) fail(`copied cookies still got ${copied.status} after their expiry ${copiedUntil}`);
  });

  // ---- the account panel: sessions, password, export, deletion ----

  const NEW_PASSWORD = "another passphrase for alice";
  let otherSession;
  await step("alice-sees-her-sessions-and-signs-out-another", alice, async () => {
    otherSession = await ApiUser.login(server.base, aliceEmail, PASSWORD, "edgepass browser test, another device");
    await alice.page.getByText("Password, sessions, my data").click();
    const sessions = alice.page.locator("#sessions li");
    await alice.page.locator("#sessions li", { hasText: "another device" }).waitFor();
    const texts = await sessions.allInnerTexts();
    if (texts.filter((t) => t.includes("(this browser)")).length !== 1) fail(`the session list: ${texts.join(" | ")}`);
    await alice.page
      .locator("#sessions li", { hasText: "another device" })
      .getByRole("button", { name: "Sign out" })
      .click();
    await alice.page.getByText("That session was signed out.").waitFor();
    await alice.expectNoError();
    await otherSession.call("GET", "/api/me", undefined, 401);
  });

  await step("alice-changes-her-password", alice, async () => {
    otherSession = await ApiUser.login(server.base, aliceEmail, PASSWORD, "edgepass browser test, a third device");
    await alice.page.getByLabel("Current password").fill(PASSWORD);
    await alice.page.getByLabel(/^New password/).fill(NEW_PASSWORD);
    await alice.page.getByRole("button", { name: "Change password" }).click();
    await alice.page.getByText("Your password was changed").waitFor();
    await alice.expectNoError();
    await otherSession.call("GET", "/api/me", undefined, 401);
    // This browser goes on, with the new session cookie the answer set.
    await alice.page.reload();
    await alice.expectSignedIn(aliceEmail);
    const old = await fetch(`${server.base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: aliceEmail, password: PASSWORD }),
    });
    if (old.status !== 401) fail(`the old password still signs in: ${old.status}`);
  });

  let aliceImageUrl;
  let aliceCookies;
  await step("alice-downloads-her-data", alice, async () => {
    aliceImageUrl = await alice.page.locator("#mine li[data-image-id] img").first().getAttribute("src");
    aliceCookies = (await alice.context.cookies())
      .filter((c) => c.name.startsWith("CloudFront-") && c.path === `/users/${aliceId}/`)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
    // The page was loaded again in the last step: the panel starts closed.
    await alice.page.getByText("Password, sessions, my data").click();
    const [download] = await Promise.all([
      alice.page.waitForEvent("download"),
      alice.page.getByRole("button", { name: "Download my data (JSON)" }).click(),
    ]);
    const file = await download.path();
    const data = JSON.parse(await import("node:fs").then((fs) => fs.promises.readFile(file, "utf8")));
    if (data.account.email !== aliceEmail || !Array.isArray(data.images) || data.images.length === 0) {
      fail(`the export: ${JSON.stringify(data).slice(0, 300)}`);
    }
    if (/token|password|hash/.test(JSON.stringify(data))) fail("the export names a token, password or hash");
    console.log(`    ${data.images.length} images, ${data.albums.length} albums, ${data.grants_given.length} grants given`);
  });

  await step("alice-deletes-her-account", alice, async () => {
    const before = await fromEdge(aliceImageUrl, aliceCookies);
    if (before.status !== 200) fail(`Alice's image answered ${before.status} before the deletion`);
    await alice.page.getByLabel("Confirm with your password").fill(NEW_PASSWORD);
    await alice.page.getByRole("button", { name: "Delete my account" }).click();
    await alice.page.getByText("Your account was deleted.").waitFor();
    await alice.expectNoError();
    if (!(await alice.page.locator("#signed-out").isVisible())) fail("the page still shows the signed-in view");
    const after = await fromEdge(aliceImageUrl, aliceCookies);
    if (after.status === 200) fail("Alice's image is still served with her cookies after the deletion");
    const relogin = await fetch(`${server.base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: aliceEmail, password: NEW_PASSWORD }),
    });
    if (relogin.status !== 401) fail(`the deleted account still signs in: ${relogin.status}`);
    console.log(`    her image now answers ${after.status}`);
  });
}

await run("cloudfront", scenario, { env: ENV });
