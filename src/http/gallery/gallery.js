// The edgepass demo gallery: plain JavaScript over the JSON API, no build step.
//
// Own images are shown with their plain CDN URL ({cdn}/users/{id}/...): the CloudFront cookies that
// edgepass sets at sign-in open them, so the page refreshes those cookies before they expire. Images
// shared with the user come with short-lived signed URLs, which the page asks for again before they end.
//
// Albums: the owner's own cookies (Path=/users/{id}/) cover every album of theirs. Opening an album
// shared with the user (GET /api/albums/{id}) sets a second cookie set whose Path is that album's
// prefix, so its images too are shown with their plain URLs; the page mints that set again before it
// expires. Once the user may no longer see the album (revoked, expired, deleted), edgepass expires the
// set in the next answer about it, or in the periodic refresh of the own cookies, and the page closes
// the album.
//
// With EDGEPASS_DELIVERY=s3 there are no CloudFront cookies: every image URL the API gives is an S3
// presigned GET with its end (`url_expires_at`), and the page asks for its images again before then.
'use strict';

(() => {
  // Refresh the CloudFront cookies this long before they expire (seconds), at most.
  const COOKIE_REFRESH_MARGIN = 120;
  // Cookies with less life left than this (seconds) are renewed before the page shows any image.
  const COOKIE_MINIMUM_LIFE = 5;
  // Ask again for shared images' signed URLs this long before they end (seconds), at most.
  const SHARED_REFRESH_MARGIN = 30;
  // Mint an open shared album's cookie set again this long before it expires (seconds), at most.
  const ALBUM_REFRESH_MARGIN = 60;

  const $ = (id) => document.getElementById(id);
  const el = {
    account: $('account'),
    accountEmail: $('account-email'),
    logout: $('logout'),
    error: $('error'),
    errorText: $('error-text'),
    errorClose: $('error-close'),
    status: $('status'),
    signedOut: $('signed-out'),
    signedIn: $('signed-in'),
    authForm: $('auth-form'),
    uploadForm: $('upload-form'),
    uploadFile: $('upload-file'),
    uploadAlbum: $('upload-album'),
    albumForm: $('album-form'),
    albums: $('albums'),
    albumsEmpty: $('albums-empty'),
    mine: $('mine'),
    mineEmpty: $('mine-empty'),
    mineMore: $('mine-more'),
    shared: $('shared'),
    sharedEmpty: $('shared-empty'),
    sharedMore: $('shared-more'),
    sharedRefresh: $('shared-refresh'),
    sharedAlbums: $('shared-albums'),
    sharedAlbumsEmpty: $('shared-albums-empty'),
    sharedAlbumsReload: $('shared-albums-reload'),
    albumView: $('album-view'),
    albumViewTitle: $('album-view-title'),
    albumViewMeta: $('album-view-meta'),
    albumViewEmpty: $('album-view-empty'),
    albumImages: $('album-images'),
    albumMore: $('album-more'),
    albumClose: $('album-close'),
    imageCard: $('image-card'),
    sharedCard: $('shared-card'),
    albumCard: $('album-card'),
    sharedAlbumItem: $('shared-album-item'),
    accountPanel: $('account-panel'),
    passwordForm: $('password-form'),
    sessions: $('sessions'),
    sessionsReload: $('sessions-reload'),
    sessionsEndOthers: $('sessions-end-others'),
    exportButton: $('export'),
    deleteAccountForm: $('delete-account-form'),
  };

  const state = {
    user: null,
    // 'cloudfront' or 's3' (GET /api/me and the sign-in answer say which).
    delivery: 'cloudfront',
    cdnExpiresAt: null,
    cookieTimer: null,
    sharedTimer: null,
    mineTimer: null,
    albumUrlTimer: null,
    mineCursor: null,
    sharedCursor: null,
    // The user's albums and those shared with them, as GET /api/albums last gave them.
    albums: [],
    sharedAlbums: [],
    // The album on show: {id, role, cursor, setExpiresAt (its cookie set's, for a shared album)}, or null.
    openAlbum: null,
    albumTimer: null,
    // Server time minus local time (ms), from the Date header, so timers follow edgepass's clock.
    clockOffset: 0,
  };

  // ---- talking to the API ----

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function serverNow() {
    return (Date.now() + state.clockOffset) / 1000;
  }

  function noteServerTime(response) {
    const date = Date.parse(response.headers.get('date') || '');
    if (!Number.isNaN(date)) state.clockOffset = date - Date.now();
  }

  // Calls the API on this origin with the session cookie; returns the parsed JSON (null for 204) or
  // throws an ApiError carrying the API's {error, message}.
  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (cause) {
      throw new ApiError(0, 'network', `edgepass could not be reached (${cause.message})`);
    }
    noteServerTime(response);
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const code = (data && data.error) || `http_${response.status}`;
      const message = (data && data.message) || `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, code, message);
    }
    return data;
  }

  const enc = encodeURIComponent;

  // ---- whether there may be a session ----

  // The session cookie is HttpOnly, so the page cannot see it, and GET /api/me without one answers 401,
  // which the browser logs as an error on every signed-out visit. So the page remembers (in this
  // origin's storage) that it signed in, and asks only then. A session begun elsewhere (the API docs)
  // shows once this page signs in; a remembered session that ended costs one 401, after which the page
  // forgets it.
  const SIGNED_IN_KEY = 'edgepass.signed-in';

  function rememberSignedIn(signedIn) {
    try {
      if (signedIn) localStorage.setItem(SIGNED_IN_KEY, '1');
      else localStorage.removeItem(SIGNED_IN_KEY);
    } catch {
      // No storage (blocked by the browser's settings): the page asks at every visit.
    }
  }

  function mayBeSignedIn() {
    try {
      return localStorage.getItem(SIGNED_IN_KEY) !== null;
    } catch {
      return true;
    }
  }

  // ---- messages ----

  function showError(error) {
    if (error instanceof ApiError && error.status === 401 && state.user) {
      signedOut('Your session has ended; please sign in again.');
      return;
    }
    const text = error instanceof ApiError && error.code !== 'network'
      ? `${error.message} (${error.code})`
      : error.message;
    el.errorText.textContent = text;
    el.error.hidden = false;
    say('');
  }

  function clearError() {
    el.error.hidden = true;
    el.errorText.textContent = '';
  }

  function say(text) {
    el.status.textContent = text;
  }

  // Runs an action started by the user: clears the last error, disables the control while it runs and
  // shows whatever goes wrong.
  async function act(control, work) {
    clearError();
    if (control) control.disabled = true;
    try {
      await work();
    } catch (error) {
      showError(error);
    } finally {
      if (control) control.disabled = false;
    }
  }

  // ---- formatting ----

  function formatBytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  }

  function formatTime(epochSeconds) {
    return new Date(epochSeconds * 1000).toLocaleString();
  }

  function field(root, name) {
    return root.querySelector(`[data-field="${name}"]`);
  }

  function role(root, name) {
    return root.querySelector(`[data-role="${name}"]`);
  }

  function action(root, name) {
    return root.querySelector(`[data-action="${name}"]`);
  }

  function item(text, buttonLabel, onClick) {
    const li = document.createElement('li');
    const span = document.createElement('span');
    span.textContent = text;
    li.append(span);
    if (buttonLabel) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = buttonLabel;
      button.addEventListener('click', () => act(button, onClick));
      li.append(' ', button);
    }
    return li;
  }

  // ---- the CloudFront cookies ----

  function scheduleCookieRefresh(expiresAt) {
    state.cdnExpiresAt = expiresAt;
    clearTimeout(state.cookieTimer);
    const left = expiresAt - serverNow();
    const margin = Math.min(COOKIE_REFRESH_MARGIN, Math.max(1, left / 4));
    const delayMs = Math.max(0, (left - margin) * 1000);
    state.cookieTimer = setTimeout(refreshCookies, Math.min(delayMs, 2 ** 31 - 1));
  }

  async function refreshCookies() {
    if (!state.user) return;
    try {
      const grant = await api('POST', '/api/cdn/cookies');
      scheduleCookieRefresh(grant.expires_at);
      const expired = grant.expired_album_sets || [];
      if (expired.length) albumSetsExpired(expired).catch(showError);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        signedOut('Your session has ended; please sign in again.');
        return;
      }
      showError(error);
      clearTimeout(state.cookieTimer);
      state.cookieTimer = setTimeout(refreshCookies, 30000);
    }
  }

  // Background tabs run timers late: catch up when the page is seen again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible' || !state.user) return;
    if (state.delivery === 's3') {
      // Timers of a hidden tab run late: plan again, so what is overdue is renewed at once.
      planRenewal('mine');
      planRenewal('album');
      return;
    }
    if (state.cdnExpiresAt === null || serverNow() > state.cdnExpiresAt - COOKIE_MINIMUM_LIFE) {
      refreshCookies();
    }
    const open = state.openAlbum;
    if (open && open.setExpiresAt && serverNow() > open.setExpiresAt - COOKIE_MINIMUM_LIFE) {
      refreshAlbumCookies();
    }
  });

  // ---- own images ----

  function renderImage(image, card) {
    const node = card || el.imageCard.content.firstElementChild.cloneNode(true);
    node.dataset.imageId = image.id;
    node.dataset.visibility = image.visibility;
    const img = node.querySelector('img');
    img.alt = image.name;
    if (image.url && img.getAttribute('src') !== image.url) img.src = image.url;
    node.dataset.urlExpiresAt = image.url_expires_at || '';
    const name = field(node, 'name');
    name.textContent = image.name;
    // Every card has the same buttons: each names its image to assistive technology.
    name.id = `image-name-${image.id}`;
    for (const control of node.querySelectorAll('button, summary, select')) {
      control.setAttribute('aria-describedby', name.id);
    }
    node.dataset.albumId = image.album_id || '';
    fillAlbumSelect(field(node, 'album'), node.dataset.albumId);
    field(node, 'visibility').textContent = image.visibility === 'public'
      ? 'Public: anyone with the URL'
      : 'Private';
    field(node, 'size').textContent = formatBytes(image.byte_size);
    const link = field(node, 'link');
    link.href = image.url || '#';
    const toggle = action(node, 'toggle-visibility');
    toggle.textContent = image.visibility === 'public' ? 'Make private' : 'Make public';
    if (!card) wireImageCard(node);
    else planRenewal('mine');
    return node;
  }

  function wireImageCard(node) {
    const id = () => node.dataset.imageId;
    const toggle = action(node, 'toggle-visibility');
    toggle.addEventListener('click', () => act(toggle, async () => {
      const visibility = node.dataset.visibility === 'public' ? 'private' : 'public';
      const image = await api('PATCH', `/api/images/${enc(id())}`, { visibility });
      renderImage(image, node);
      say(`${image.name} is now ${image.visibility}.`);
    }));

    const album = field(node, 'album');
    album.addEventListener('change', () => act(album, async () => {
      const from = node.dataset.albumId;
      const to = album.value;
      let image;
      try {
        image = to
          ? await api('PUT', `/api/albums/${enc(to)}/images/${enc(id())}`)
          : await api('DELETE', `/api/albums/${enc(from)}/images/${enc(id())}`);
      } catch (error) {
        album.value = from;
        throw error;
      }
      renderImage(image, node);
      say(to ? `${image.name} is now in ${albumName(to)}.` : `${image.name} is no longer in ${albumName(from)}.`);
      await reloadOpenAlbum([from, to]);
    }));

    const remove = action(node, 'delete');
    remove.addEventListener('click', () => act(remove, async () => {
      const name = field(node, 'name').textContent;
      if (!window.confirm(`Delete ${name}? This cannot be undone.`)) return;
      await api('DELETE', `/api/images/${enc(id())}`);
      node.remove();
      el.mineEmpty.hidden = el.mine.children.length > 0;
      say(`${name} was deleted.`);
    }));

    const sharing = role(node, 'sharing');
    sharing.addEventListener('toggle', () => {
      if (sharing.open) act(null, () => loadSharing(node));
    });

    const shareForm = role(node, 'share-form');
    shareForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const submit = shareForm.querySelector('button');
      act(submit, async () => {
        const user = shareForm.elements.user.value.trim();
        await api('PUT', `/api/images/${enc(id())}/shares/${enc(user)}`);
        shareForm.reset();
        say(`Shared with ${user}.`);
        await loadShares(node);
      });
    });

    const linkForm = role(node, 'link-form');
    linkForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const submit = linkForm.querySelector('button');
      act(submit, async () => {
        const expiresIn = Number(linkForm.elements.expires_in.value);
        const link = await api('POST', `/api/images/${enc(id())}/links`, { expires_in: expiresIn });
        const box = role(node, 'new-link');
        field(box, 'new-link').value = link.url;
        box.hidden = false;
        say(`Share link created; it works until ${formatTime(link.expires_at)}.`);
        await loadLinks(node);
      });
    });

    const copy = action(node, 'copy-link');
    copy.addEventListener('click', () => act(copy, async () => {
      const input = field(node, 'new-link');
      try {
        await navigator.clipboard.writeText(input.value);
        say('Link copied.');
      } catch {
        input.focus();
        input.select();
        say('Select the link and copy it.');
      }
    }));
  }

  async function loadSharing(node) {
    await Promise.all([loadShares(node), loadLinks(node)]);
  }

  async function loadShares(node) {
    const id = node.dataset.imageId;
    const { shares } = await api('GET', `/api/images/${enc(id)}/shares`);
    const list = role(node, 'shares');
    list.replaceChildren(...shares.map((share) => {
      const until = share.expires_at ? ` until ${formatTime(share.expires_at)}` : '';
      const text = `${share.user.email}${share.expired ? ' (expired)' : until}`;
      return item(text, `Revoke ${share.user.email}`, async () => {
        await api('DELETE', `/api/images/${enc(id)}/shares/${share.user.id}`);
        say(`${share.user.email} can no longer get new URLs for this image.`);
        await loadShares(node);
      });
    }));
    if (shares.length === 0) list.replaceChildren(item('Nobody yet.'));
  }

  async function loadLinks(node) {
    const id = node.dataset.imageId;
    const { links } = await api('GET', `/api/images/${enc(id)}/links`);
    const list = role(node, 'links');
    list.replaceChildren(...links.map((link) => {
      let text;
      if (link.revoked_at) text = `Link ${link.id}: revoked ${formatTime(link.revoked_at)}`;
      else if (!link.active) text = `Link ${link.id}: expired ${formatTime(link.expires_at)}`;
      else text = `Link ${link.id}: works until ${formatTime(link.expires_at)}`;
      if (!link.active) return item(text);
      return item(text, `Revoke link ${link.id}`, async () => {
        await api('DELETE', `/api/links/${link.id}`);
        say(`Link ${link.id} was revoked.`);
        await loadLinks(node);
      });
    }));
    if (links.length === 0) list.replaceChildren(item('No links yet.'));
  }

  async function loadMine(more) {
    const query = more && state.mineCursor ? `?cursor=${enc(state.mineCursor)}` : '';
    const page = await api('GET', `/api/images${query}`);
    const cards = page.images.map((image) => renderImage(image));
    if (more) el.mine.append(...cards);
    else el.mine.replaceChildren(...cards);
    state.mineCursor = page.next_cursor || null;
    el.mineMore.hidden = !state.mineCursor;
    el.mineEmpty.hidden = el.mine.children.length > 0;
    planRenewal('mine');
  }

  // How long until the earliest of `ends` (epoch seconds; empty ones ignored), less a margin (ms); null
  // when none ends (CloudFront delivery's plain and public URLs).
  function delayBefore(ends) {
    ends = ends.filter((t) => t);
    if (ends.length === 0) return null;
    const left = Math.min(...ends) - serverNow();
    const margin = Math.min(SHARED_REFRESH_MARGIN, Math.max(1, left / 4));
    return Math.min(Math.max(1000, (left - margin) * 1000), 2 ** 31 - 1);
  }

  // ---- renewing presigned URLs (S3 delivery) ----

  // The cards of "My images" and of the open album whose URLs end (S3 delivery's presigned GETs) get
  // fresh URLs before the earliest end. Only each card's <img> and link change, so a panel that is
  // open stays open, and every page shown is renewed, not just the first.
  const RENEWALS = {
    mine: {
      timer: 'mineTimer',
      cards: () => el.mine,
      pages: (cursor) => api('GET', `/api/images?limit=100${cursor ? `&cursor=${enc(cursor)}` : ''}`)
        .then((page) => ({ images: page.images, next: page.next_cursor })),
      update: (node, image) => renderImage(image, node),
    },
    album: {
      timer: 'albumUrlTimer',
      cards: () => (state.openAlbum ? el.albumImages : null),
      pages: (cursor) => api('GET', `/api/albums/${enc(state.openAlbum.id)}?limit=100${cursor ? `&cursor=${enc(cursor)}` : ''}`)
        .then((page) => ({ images: page.images, next: page.next_cursor })),
      update: (node, image) => {
        node.querySelector('img').src = image.url;
        node.dataset.urlExpiresAt = image.url_expires_at || '';
      },
    },
  };

  function planRenewal(which) {
    const renewal = RENEWALS[which];
    clearTimeout(state[renewal.timer]);
    const cards = renewal.cards();
    if (!cards) return;
    const delayMs = delayBefore([...cards.children].map((node) => Number(node.dataset.urlExpiresAt)));
    if (delayMs !== null) state[renewal.timer] = setTimeout(() => act(null, () => renew(which)), delayMs);
  }

  // Asks again for as many pages as the cards shown need, and puts the fresh URLs in place.
  async function renew(which) {
    const renewal = RENEWALS[which];
    const cards = renewal.cards();
    if (!cards) return;
    const shown = new Map([...cards.children].map((node) => [node.dataset.imageId, node]));
    let cursor = null;
    let seen = 0;
    try {
      do {
        const page = await renewal.pages(cursor);
        for (const image of page.images) {
          const node = shown.get(image.id);
          if (node) renewal.update(node, image);
        }
        seen += page.images.length;
        cursor = page.next;
      } while (cursor && seen < shown.size && renewal.cards() === cards);
    } catch (error) {
      if (which === 'album' && error instanceof ApiError && error.status === 404 && state.openAlbum) {
        await albumGone(state.openAlbum.id);
        return;
      }
      throw error;
    }
    planRenewal(which);
  }

  // ---- shared with me ----

  function renderShared(image) {
    const node = el.sharedCard.content.firstElementChild.cloneNode(true);
    node.dataset.imageId = image.id;
    const img = node.querySelector('img');
    img.alt = image.name;
    img.src = image.url;
    field(node, 'name').textContent = image.name;
    field(node, 'owner').textContent = `From ${image.owner_email} · ${formatBytes(image.byte_size)}`;
    return node;
  }

  // Shows the first page again (signed URLs are short-lived: every refresh brings fresh ones) and plans
  // the next refresh before the earliest of them ends.
  async function loadShared(more) {
    const query = more && state.sharedCursor ? `?cursor=${enc(state.sharedCursor)}` : '';
    const page = await api('GET', `/api/shared-with-me${query}`);
    const cards = page.images.map(renderShared);
    if (more) el.shared.append(...cards);
    else el.shared.replaceChildren(...cards);
    state.sharedCursor = page.next_cursor || null;
    el.sharedMore.hidden = !state.sharedCursor;
    el.sharedEmpty.hidden = el.shared.children.length > 0;
    if (!more) scheduleSharedRefresh(page.images);
  }

  function scheduleSharedRefresh(images) {
    clearTimeout(state.sharedTimer);
    const delayMs = delayBefore(images.map((image) => image.url_expires_at));
    if (delayMs === null) return;
    state.sharedTimer = setTimeout(() => act(null, () => loadShared(false)), delayMs);
  }

  // ---- albums ----

  function albumName(id) {
    const album = state.albums.find((a) => a.id === id) || state.sharedAlbums.find((a) => a.id === id);
    return album ? album.name : `album ${id}`;
  }

  // Fills an album <select> with "No album" and the user's albums, with `value` selected.
  function fillAlbumSelect(select, value) {
    const none = document.createElement('option');
    none.value = '';
    none.textContent = 'No album';
    const options = state.albums.map((album) => {
      const option = document.createElement('option');
      option.value = album.id;
      option.textContent = album.name;
      return option;
    });
    select.replaceChildren(none, ...options);
    select.value = state.albums.some((album) => album.id === value) ? value : '';
  }

  function fillAlbumSelects() {
    fillAlbumSelect(el.uploadAlbum, el.uploadAlbum.value);
    for (const node of el.mine.querySelectorAll('li[data-image-id]')) {
      fillAlbumSelect(field(node, 'album'), node.dataset.albumId);
    }
  }

  async function loadAlbums() {
    const list = await api('GET', '/api/albums');
    state.albums = list.albums;
    state.sharedAlbums = list.shared;
    el.albums.replaceChildren(...list.albums.map(renderAlbum));
    el.albumsEmpty.hidden = list.albums.length > 0;
    el.sharedAlbums.replaceChildren(...list.shared.map(renderSharedAlbum));
    el.sharedAlbumsEmpty.hidden = list.shared.length > 0;
    fillAlbumSelects();
  }

  function renderAlbum(album) {
    const node = el.albumCard.content.firstElementChild.cloneNode(true);
    node.dataset.albumId = album.id;
    const name = field(node, 'name');
    name.textContent = album.name;
    name.id = `album-name-${album.id}`;
    for (const control of node.querySelectorAll('button, summary')) {
      control.setAttribute('aria-describedby', name.id);
    }
    field(node, 'created').textContent = `Created ${formatTime(album.created_at)}`;

    const open = action(node, 'open');
    open.addEventListener('click', () => act(open, () => openAlbum(album.id, false)));

    const remove = action(node, 'delete');
    remove.addEventListener('click', () => act(remove, async () => {
      if (!window.confirm(`Delete the album ${album.name}? Its images go back to My images.`)) return;
      await deleteAlbum(album);
    }));

    const sharing = role(node, 'sharing');
    sharing.addEventListener('toggle', () => {
      if (sharing.open) act(null, () => loadAlbumShares(node, album));
    });

    const shareForm = role(node, 'share-form');
    shareForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const submit = shareForm.querySelector('button');
      act(submit, async () => {
        const user = shareForm.elements.user.value.trim();
        const expiresIn = shareForm.elements.expires_in.value;
        // No body: a grant until revoked.
        await api('PUT', `/api/albums/${enc(album.id)}/shares/${enc(user)}`,
          expiresIn ? { expires_in: Number(expiresIn) } : undefined);
        shareForm.reset();
        say(`${album.name} is shared with ${user}.`);
        await loadAlbumShares(node, album);
      });
    });
    return node;
  }

  async function loadAlbumShares(node, album) {
    const { shares } = await api('GET', `/api/albums/${enc(album.id)}/shares`);
    const list = role(node, 'shares');
    list.replaceChildren(...shares.map((share) => {
      const until = share.expires_at ? ` until ${formatTime(share.expires_at)}` : '';
      const text = `${share.user.email}${share.expired ? ' (expired)' : until}`;
      return item(text, `Revoke ${share.user.email}`, async () => {
        await api('DELETE', `/api/albums/${enc(album.id)}/shares/${share.user.id}`);
        say(`${share.user.email} can no longer open ${album.name}.`);
        await loadAlbumShares(node, album);
      });
    }));
    if (shares.length === 0) list.replaceChildren(item('Nobody yet.'));
  }

  // Deletes an album. Its images go back to the root, where their URLs differ, so they are listed
  // again. edgepass answers 202 while it is still moving images out; the request is then repeated a
  // few times (the sweep finishes the job otherwise).
  async function deleteAlbum(album) {
    let finished = false;
    for (let attempt = 0; attempt < 4 && !finished; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      try {
        finished = (await api('DELETE', `/api/albums/${enc(album.id)}`)) === null;
      } catch (error) {
        // Emptied by the sweep between two attempts.
        if (attempt > 0 && error instanceof ApiError && error.status === 404) finished = true;
        else throw error;
      }
    }
    if (state.openAlbum && state.openAlbum.id === album.id) closeAlbum();
    await Promise.all([loadAlbums(), loadMine(false)]);
    say(finished
      ? `The album ${album.name} was deleted; its images are back in My images.`
      : `The album ${album.name} was deleted; its images are still on their way back to My images.`);
  }

  function renderSharedAlbum(album) {
    const node = el.sharedAlbumItem.content.firstElementChild.cloneNode(true);
    node.dataset.albumId = album.id;
    const name = field(node, 'name');
    name.textContent = album.name;
    name.id = `shared-album-name-${album.id}`;
    const until = album.grant_expires_at ? `, until ${formatTime(album.grant_expires_at)}` : '';
    field(node, 'owner').textContent = `from ${album.owner_email}${until}`;
    const open = action(node, 'open');
    open.setAttribute('aria-describedby', name.id);
    open.addEventListener('click', () => act(open, () => openAlbum(album.id, false)));
    return node;
  }

  // ---- the album on show ----

  function renderAlbumImage(image, owner) {
    const node = el.sharedCard.content.firstElementChild.cloneNode(true);
    node.dataset.imageId = image.id;
    const img = node.querySelector('img');
    img.alt = image.name;
    // The URL as given: the album's cookie set (or the owner's own) opens a plain one; in S3 delivery
    // it is presigned, and ends.
    img.src = image.url;
    node.dataset.urlExpiresAt = image.url_expires_at || '';
    field(node, 'name').textContent = image.name;
    field(node, 'owner').textContent = owner
      ? `From ${owner} · ${formatBytes(image.byte_size)}`
      : formatBytes(image.byte_size);
    return node;
  }

  // Shows album `id` (the next page of it with `more`). For a shared album the answer sets the
  // album's cookie set before the page adds a single <img>.
  async function openAlbum(id, more) {
    const cursor = more && state.openAlbum && state.openAlbum.id === id ? state.openAlbum.cursor : null;
    const query = cursor ? `?cursor=${enc(cursor)}` : '';
    let page;
    try {
      page = await api('GET', `/api/albums/${enc(id)}${query}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        await albumGone(id);
        return;
      }
      throw error;
    }
    const shared = state.sharedAlbums.find((album) => album.id === id);
    const owner = page.role === 'grantee' && shared ? shared.owner_email : null;
    state.openAlbum = { id, role: page.role, cursor: page.next_cursor || null, setExpiresAt: null };
    el.albumViewTitle.textContent = `Album: ${page.album.name}`;
    el.albumViewMeta.textContent = page.role === 'owner'
      ? 'Your album.'
      : `Shared with you${owner ? ` by ${owner}` : ''}.`;
    const cards = page.images.map((image) => renderAlbumImage(image, owner));
    if (cursor) el.albumImages.append(...cards);
    else el.albumImages.replaceChildren(...cards);
    el.albumMore.hidden = !state.openAlbum.cursor;
    el.albumViewEmpty.hidden = el.albumImages.children.length > 0;
    const wasHidden = el.albumView.hidden;
    el.albumView.hidden = false;
    if (wasHidden) el.albumView.scrollIntoView({ block: 'start' });
    noteAlbumCookies(page.cookies);
    planRenewal('album');
  }

  // Loads the album on show again when it is one of `ids` (its images moved).
  async function reloadOpenAlbum(ids) {
    if (state.openAlbum && ids.includes(state.openAlbum.id)) await openAlbum(state.openAlbum.id, false);
  }

  function closeAlbum() {
    clearTimeout(state.albumTimer);
    clearTimeout(state.albumUrlTimer);
    state.openAlbum = null;
    el.albumView.hidden = true;
    el.albumImages.replaceChildren();
  }

  // Plans the next mint of the open album's set, and says when the browser's oldest album set was
  // dropped to make room: a session holds a limited number of them. The page shows one album at a
  // time, the one just opened, so the dropped set is not one the page is using.
  function noteAlbumCookies(cookies) {
    clearTimeout(state.albumTimer);
    if (cookies.set) {
      state.openAlbum.setExpiresAt = cookies.set.expires_at;
      scheduleAlbumRefresh(cookies.set.expires_at);
    }
    if (cookies.evicted) {
      say(`Your browser keeps cookies for a limited number of shared albums; those of `
        + `${albumName(cookies.evicted.album_id)} were dropped (opening it again brings them back).`);
    }
  }

  function scheduleAlbumRefresh(expiresAt) {
    const left = expiresAt - serverNow();
    const margin = Math.min(ALBUM_REFRESH_MARGIN, Math.max(1, left / 4));
    const delayMs = Math.max(0, (left - margin) * 1000);
    state.albumTimer = setTimeout(refreshAlbumCookies, Math.min(delayMs, 2 ** 31 - 1));
  }

  async function refreshAlbumCookies() {
    const open = state.openAlbum;
    if (!state.user || !open || open.role !== 'grantee') return;
    try {
      const cookies = await api('POST', `/api/albums/${enc(open.id)}/cookies`);
      if (state.openAlbum === open) noteAlbumCookies(cookies);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        await albumGone(open.id).catch(showError);
        return;
      }
      if (error instanceof ApiError && error.status === 401) {
        signedOut('Your session has ended; please sign in again.');
        return;
      }
      showError(error);
      if (state.openAlbum === open) state.albumTimer = setTimeout(refreshAlbumCookies, 30000);
    }
  }

  // The user may no longer see album `id` (edgepass answered 404, and expired the album's cookie set
  // if the browser held one): the album closes and the lists are loaded again.
  async function albumGone(id) {
    const name = albumName(id);
    if (state.openAlbum && state.openAlbum.id === id) closeAlbum();
    await loadAlbums();
    say(`The album ${name} is no longer available to you.`);
  }

  // The refresh of the own cookies expired these album sets (revoked, expired or deleted albums).
  async function albumSetsExpired(sets) {
    const shown = state.openAlbum && sets.find((set) => set.album_id === state.openAlbum.id);
    if (shown) await albumGone(shown.album_id);
    else await loadAlbums();
  }

  // ---- uploads ----

  // The store's error code from its XML answer, if any.
  function storeErrorCode(xml) {
    const match = /<Code>([^<]*)<\/Code>/.exec(xml);
    return match ? match[1] : '';
  }

  // Uploads `file`, straight into the album `albumId` unless it is empty.
  async function upload(file, albumId) {
    say(`Uploading ${file.name}…`);
    const request = { content_type: file.type, byte_size: file.size, name: file.name };
    if (albumId) request.album_id = albumId;
    const ticket = await api('POST', '/api/images', request);
    const headers = {};
    for (const [name, value] of Object.entries(ticket.upload_headers)) {
      // The browser sets these itself and refuses to let scripts do it.
      if (name.toLowerCase() !== 'content-length' && name.toLowerCase() !== 'host') headers[name] = value;
    }
    let stored;
    try {
      stored = await fetch(ticket.upload_url, {
        method: 'PUT', headers, body: file, credentials: 'omit', referrerPolicy: 'no-referrer',
      });
    } catch (cause) {
      throw new ApiError(0, 'network', `the upload did not reach the store (${cause.message})`);
    }
    if (!stored.ok) {
      const code = storeErrorCode(await stored.text());
      throw new ApiError(stored.status, code || `http_${stored.status}`,
        `the store refused the upload (${stored.status}${code ? ` ${code}` : ''})`);
    }
    const image = await api('POST', `/api/images/${enc(ticket.id)}/complete`);
    el.mine.prepend(renderImage(image));
    el.mineEmpty.hidden = true;
    planRenewal('mine');
    say(albumId ? `${image.name} uploaded into ${albumName(albumId)}.` : `${image.name} uploaded.`);
    await reloadOpenAlbum([albumId]);
  }

  // ---- the account: password, sessions, export, deletion ----

  async function loadSessions() {
    const listed = await api('GET', '/api/account/sessions');
    el.sessions.replaceChildren(...listed.sessions.map((session) => {
      const text = `${session.client || 'Unknown browser'} · signed in ${formatTime(session.created_at)}`
        + ` · last seen ${formatTime(session.last_seen_at)}${session.current ? ' (this browser)' : ''}`;
      if (session.current) return item(text);
      return item(text, 'Sign out', async () => {
        await api('DELETE', `/api/account/sessions/${enc(session.id)}`);
        say('That session was signed out.');
        await loadSessions();
      });
    }));
  }

  el.accountPanel.addEventListener('toggle', () => {
    if (el.accountPanel.open) act(null, loadSessions);
  });
  el.sessionsReload.addEventListener('click', () => act(el.sessionsReload, loadSessions));
  el.sessionsEndOthers.addEventListener('click', () => act(el.sessionsEndOthers, async () => {
    const ended = await api('DELETE', '/api/account/sessions');
    say(ended.ended === 1 ? 'One other session was signed out.' : `${ended.ended} other sessions were signed out.`);
    await loadSessions();
  }));

  el.passwordForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const submit = el.passwordForm.querySelector('button');
    act(submit, async () => {
      await api('POST', '/api/account/password', {
        current_password: el.passwordForm.elements.current.value,
        new_password: el.passwordForm.elements.new.value,
      });
      el.passwordForm.reset();
      say('Your password was changed; every other session was signed out.');
      if (el.accountPanel.open) await loadSessions();
    });
  });

  // The export is fetched like any API answer and handed to the browser as a file.
  el.exportButton.addEventListener('click', () => act(el.exportButton, async () => {
    const data = await api('GET', '/api/account/export');
    const file = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(file);
    link.download = `edgepass-account-${data.account.id}.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    say('Your data was downloaded.');
  }));

  el.deleteAccountForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const submit = el.deleteAccountForm.querySelector('button');
    act(submit, async () => {
      await api('DELETE', '/api/account', { password: el.deleteAccountForm.elements.password.value });
      el.deleteAccountForm.reset();
      signedOut('Your account was deleted.');
    });
  });

  // ---- signing in and out ----

  // Shows the signed-in view; when the CloudFront cookies are missing or about to end, fresh ones come
  // first, so that the images loaded next are not refused.
  async function signedIn(user, delivery, cdnExpiresAt) {
    state.user = user;
    state.delivery = delivery || 'cloudfront';
    rememberSignedIn(true);
    el.accountEmail.textContent = user.email;
    el.account.hidden = false;
    el.signedOut.hidden = true;
    el.signedIn.hidden = false;
    if (state.delivery === 's3') return;
    if (cdnExpiresAt && cdnExpiresAt - serverNow() > COOKIE_MINIMUM_LIFE) {
      scheduleCookieRefresh(cdnExpiresAt);
    } else {
      await refreshCookies();
    }
  }

  function signedOut(message) {
    state.user = null;
    rememberSignedIn(false);
    state.cdnExpiresAt = null;
    clearTimeout(state.cookieTimer);
    clearTimeout(state.sharedTimer);
    clearTimeout(state.mineTimer);
    closeAlbum();
    el.account.hidden = true;
    el.signedIn.hidden = true;
    el.signedOut.hidden = false;
    el.mine.replaceChildren();
    el.shared.replaceChildren();
    state.albums = [];
    state.sharedAlbums = [];
    el.albums.replaceChildren();
    el.sharedAlbums.replaceChildren();
    el.sessions.replaceChildren();
    el.accountPanel.open = false;
    fillAlbumSelects();
    say(message || '');
  }

  async function loadEverything() {
    await Promise.all([loadMine(false), loadShared(false), loadAlbums()]);
  }

  el.authForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const submitter = event.submitter || el.authForm.querySelector('button[value="login"]');
    const register = submitter.value === 'register';
    act(submitter, async () => {
      const body = {
        email: el.authForm.elements.email.value.trim(),
        password: el.authForm.elements.password.value,
      };
      const session = await api('POST', register ? '/api/auth/register' : '/api/auth/login', body);
      el.authForm.reset();
      await signedIn(session.user, session.delivery, session.cdn && session.cdn.expires_at);
      say(register ? `Welcome, ${session.user.email}.` : `Signed in as ${session.user.email}.`);
      await loadEverything();
    });
  });

  el.logout.addEventListener('click', () => act(el.logout, async () => {
    await api('POST', '/api/auth/logout');
    signedOut('Signed out.');
  }));

  el.uploadForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const submit = el.uploadForm.querySelector('button');
    const file = el.uploadFile.files[0];
    if (!file) return;
    const albumId = el.uploadAlbum.value;
    act(submit, async () => {
      await upload(file, albumId);
      el.uploadForm.reset();
      // The next upload goes to the same album.
      el.uploadAlbum.value = albumId;
    });
  });

  el.albumForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const submit = el.albumForm.querySelector('button');
    act(submit, async () => {
      const album = await api('POST', '/api/albums', { name: el.albumForm.elements.name.value });
      el.albumForm.reset();
      await loadAlbums();
      say(`The album ${album.name} was created.`);
    });
  });

  el.mineMore.addEventListener('click', () => act(el.mineMore, () => loadMine(true)));
  el.sharedMore.addEventListener('click', () => act(el.sharedMore, () => loadShared(true)));
  el.sharedRefresh.addEventListener('click', () => act(el.sharedRefresh, () => loadShared(false)));
  el.sharedAlbumsReload.addEventListener('click', () => act(el.sharedAlbumsReload, loadAlbums));
  el.albumMore.addEventListener('click', () => act(el.albumMore, () => openAlbum(state.openAlbum.id, true)));
  el.albumClose.addEventListener('click', closeAlbum);
  el.errorClose.addEventListener('click', clearError);

  // ---- start ----

  async function start() {
    if (!mayBeSignedIn()) {
      signedOut('');
      document.body.dataset.ready = 'true';
      return;
    }
    try {
      const me = await api('GET', '/api/me');
      await signedIn(me.user, me.delivery, me.cdn_expires_at);
      await loadEverything();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) signedOut('');
      else {
        signedOut('');
        showError(error);
      }
    }
    document.body.dataset.ready = 'true';
  }

  start();
})();
