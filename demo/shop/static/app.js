// Gatehouse Goods: the shop's only script (the Content-Security-Policy
// allows no other, and no inline script).
//
// Session mode needs little of it: Gatehouse's HttpOnly cookie travels by
// itself and forms post as forms do. The script signs in and out (it
// talks to Gatehouse's JSON API from the browser) and fills the
// "How am I remembered?" panel.
//
// Token mode lives here:
//   - the access token is kept in memory only (the variable `access`),
//     never in storage or a cookie;
//   - the refresh token is kept in IndexedDB, so that a reload or a new tab
//     signs in again without the password (the help page explains the
//     trade-off);
//   - a refresh happens before the access token expires, after a page load
//     (which forgets the access token), and when the shop answers 401
//     invalid_token;
//   - refreshes are serialised across tabs with a Web Lock, and the stored
//     refresh token is read again inside the lock, so two tabs never
//     present the same refresh token. IndexedDB, not localStorage: a
//     committed IndexedDB write is what every tab reads next, while
//     Chromium hands localStorage writes to other tabs asynchronously, so a
//     tab that takes the lock could still read the retired token;
//   - page loads render as "signing you in"; the script then loads the
//     page again with Authorization: Bearer and swaps it in, and sends
//     forms to the shop's JSON API with the same header.
(() => {
  'use strict';

  const MODE_KEY = 'gatehouse.mode';            // localStorage: "session" or "token", which way this browser signed in
  const REFRESH_KEY = 'refresh_token';           // IndexedDB "gatehouse", store "tokens": token mode only
  const REMEMBER_KEY = 'gatehouse.remember';     // session mode: whether "keep me signed in" was ticked
  const FLASH_KEY = 'shop.flash';
  const LOCK_NAME = 'gatehouse-refresh';
  const HINT_COOKIE = 'shop_mode';

  document.documentElement.classList.add('js');

  // ready marks the page as settled (data-ready="1" on <html>): the script
  // has finished signing in and swapping. Tests wait for it.
  const ready = (on) => { document.documentElement.dataset.ready = on ? '1' : '0'; };

  const $ = (sel, root = document) => root.querySelector(sel);
  const store = {
    get(k) { try { return localStorage.getItem(k); } catch { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
    del(k) { try { localStorage.removeItem(k); } catch { /* private mode */ } },
  };

  // tokens keeps the refresh token in IndexedDB (database "gatehouse",
  // object store "tokens"); where IndexedDB cannot open (some private
  // modes), in localStorage, with the cross-tab caveat above.
  const tokens = (() => {
    let opened = null;
    const open = () => {
      if (!opened) {
        opened = new Promise((resolve, reject) => {
          const req = indexedDB.open('gatehouse', 1);
          req.onupgradeneeded = () => req.result.createObjectStore('tokens');
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        }).catch(() => null);
      }
      return opened;
    };
    const tx = async (write, fn) => {
      const db = await open();
      if (!db) {
        const r = fn(null);
        return r && 'result' in r ? r.result : undefined;
      }
      return new Promise((resolve, reject) => {
        const t = db.transaction('tokens', write ? 'readwrite' : 'readonly');
        const result = fn(t.objectStore('tokens'));
        t.oncomplete = () => resolve(result && 'result' in result ? result.result ?? null : undefined);
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error);
      });
    };
    return {
      get: () => tx(false, (os) => (os ? os.get(REFRESH_KEY) : { result: store.get('gatehouse.refresh_token') })),
      set: (v) => tx(true, (os) => (os ? os.put(v, REFRESH_KEY) : store.set('gatehouse.refresh_token', v))),
      del: () => tx(true, (os) => (os ? os.delete(REFRESH_KEY) : store.del('gatehouse.refresh_token'))),
    };
  })();

  class SignedOut extends Error {}

  let mode = 'guest';   // "guest", "session" or "token"
  let access = null;    // {token, header, claims, expiresAt (local clock, ms), receivedAt}
  let refreshing = null; // this tab's refresh in flight
  let refreshTimer = 0;
  let refreshCount = 0;
  let panelTick = 0;

  // ---- Token mode ---------------------------------------------------------

  function setHint(on) {
    document.cookie = on ? `${HINT_COOKIE}=token; Path=/; SameSite=Lax` : `${HINT_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax`;
  }

  function b64urlJSON(part) {
    const bin = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  }

  // setAccess keeps a new access token in memory and plans the next
  // refresh, at four fifths of its life as measured on this clock (the
  // browser's clock may disagree with the server's, expires_in does not).
  function setAccess(token, expiresIn) {
    const [h, c] = token.split('.');
    const now = Date.now();
    access = { token, header: b64urlJSON(h), claims: b64urlJSON(c), receivedAt: now, expiresAt: now + expiresIn * 1000 };
    clearTimeout(refreshTimer);
    const due = Math.max(1000, expiresIn * 800);
    access.refreshAt = now + due;
    refreshTimer = setTimeout(() => refresh().then(renderPanel, authLost), due);
  }

  function withLock(fn) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(LOCK_NAME, { mode: 'exclusive' }, fn);
    }
    return fn(); // no Web Locks (an insecure context): Gatehouse's refresh grace covers a race
  }

  // refresh trades the stored refresh token for a new pair, one tab at a
  // time. The refresh token is read inside the lock: a tab that waited
  // gets the token the previous holder stored, never the one it retired.
  function refresh() {
    if (!refreshing) {
      refreshing = withLock(async () => {
        const rt = await tokens.get();
        if (!rt) throw new SignedOut('no refresh token');
        const res = await fetch('/v1/token/refresh', {
          method: 'POST', credentials: 'omit', cache: 'no-store',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ refresh_token: rt }),
        });
        if (res.status === 401 || res.status === 400) {
          throw new SignedOut((await problem(res)).code || 'refused');
        }
        if (!res.ok) throw new Error(`refresh: HTTP ${res.status}`);
        const body = await res.json();
        await tokens.set(body.refresh_token); // committed before the lock goes
        refreshCount++;
        setAccess(body.access_token, body.expires_in);
      }).finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  // ensureAccess refreshes first when the access token is about to expire
  // (its timer may not have fired: a sleeping laptop, a throttled tab).
  async function ensureAccess() {
    if (!access || access.expiresAt - Date.now() < Math.min(3000, (access.expiresAt - access.receivedAt) / 5)) await refresh();
  }

  // clearTokens forgets the tokens. Removing the mode tells the other tabs
  // (a storage event), which then sign out too.
  function clearTokens() {
    access = null;
    clearTimeout(refreshTimer);
    tokens.del().catch(() => {});
    if (store.get(MODE_KEY) === 'token') store.del(MODE_KEY);
    setHint(false);
  }

  // authLost handles a refresh that failed. Refused (signed out here or
  // elsewhere, or the login revoked): forget the tokens and show the page
  // as a guest sees it. A network error: try again shortly.
  function authLost(err) {
    if (!(err instanceof SignedOut)) {
      console.warn('refresh failed, retrying', err);
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => refresh().then(renderPanel, authLost), 5000);
      return;
    }
    clearTokens();
    mode = 'guest';
    flash('You were signed out: your login ended or was signed out from another device. Sign in again to see your cart.');
    location.reload();
  }

  // call sends a request to the shop or to Gatehouse with this browser's
  // credential: the cookie goes by itself; in token mode the access token
  // goes in the Authorization header, refreshed first when it is about to
  // expire and once more when it is refused.
  async function call(method, path, { body, accept = 'application/json' } = {}) {
    const send = async () => {
      const headers = { Accept: accept };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      if (mode === 'token') {
        await ensureAccess();
        headers.Authorization = `Bearer ${access.token}`;
      }
      return fetch(path, {
        method, headers, credentials: 'same-origin', cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    };
    let res = await send();
    if (res.status === 401 && mode === 'token' && /invalid_token/.test(res.headers.get('WWW-Authenticate') || '')) {
      await refresh();
      res = await send();
    }
    return res;
  }

  async function problem(res) {
    try { return await res.json(); } catch { return { status: res.status }; }
  }

  // loadPage fetches a page with the credential and swaps it in.
  async function loadPage(url, push) {
    ready(false);
    const res = await call('GET', url, { accept: 'text/html' });
    if (res.status === 401 && mode === 'token') throw new SignedOut('page refused the token');
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const fresh = doc.getElementById('app');
    if (!fresh) throw new Error('not a page of the shop');
    document.getElementById('app').replaceWith(document.adoptNode(fresh));
    document.title = doc.title;
    const where = res.redirected ? res.url : url;
    if (push) history.pushState(null, '', where);
    else if (res.redirected) history.replaceState(null, '', where);
    enhance();
    showFlash();
    ready(true);
  }

  // ---- Signing in, up and out ----------------------------------------------

  const authMessages = {
    invalid_credentials: 'Wrong email or password.',
    email_taken: 'There is already an account with that email. Sign in instead?',
    invalid_email: 'That email address does not look right.',
    account_disabled: 'This account is disabled.',
    signup_disabled: 'Sign-up is closed on this server.',
    cross_origin: 'Refused: the request did not come from this site.',
    unavailable: 'The sign-in service is busy. Try again in a moment.',
  };

  function authMessage(p, res) {
    if (p.code === 'too_many_attempts') {
      const wait = res.headers.get('Retry-After');
      return `Too many attempts. Try again${wait ? ` in ${wait} seconds` : ' later'}.`;
    }
    if (p.code === 'weak_password') return `Choose another password: ${p.detail || 'that one is too weak.'}`;
    return authMessages[p.code] || p.detail || `Something went wrong (HTTP ${res.status}).`;
  }

  async function signIn(form) {
    const fd = new FormData(form);
    const email = String(fd.get('email') || '').trim();
    const password = String(fd.get('password') || '');
    const chosen = fd.get('mode') === 'token' ? 'token' : 'session';
    const remember = fd.get('remember') === 'on';
    const next = String(fd.get('next') || '/');
    const errorBox = $('#form-error');
    const fail = (msg) => { errorBox.textContent = msg; errorBox.hidden = false; };
    errorBox.hidden = true;
    if (!email || !password) return fail('Enter your email and password.');
    busy(form, true);
    try {
      const json = { 'Content-Type': 'application/json', Accept: 'application/json' };
      if (form.dataset.auth === 'signup') {
        const res = await fetch('/v1/users', { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
        if (res.status !== 201) return fail(authMessage(await problem(res), res));
      }
      const res = await fetch('/v1/login', {
        method: 'POST', headers: json, credentials: 'same-origin',
        body: JSON.stringify({ email, password, mode: chosen, remember }),
      });
      if (!res.ok) return fail(authMessage(await problem(res), res));
      const body = await res.json();
      mode = chosen;
      if (chosen === 'token') {
        await tokens.set(body.refresh_token);
        store.set(MODE_KEY, 'token');
        store.del(REMEMBER_KEY);
        setHint(true);
        setAccess(body.access_token, body.expires_in);
      } else {
        await tokens.del();
        store.set(MODE_KEY, 'session');
        store.set(REMEMBER_KEY, remember ? '1' : '0');
        setHint(false);
      }
      // The cart filled as a guest joins the account's cart.
      const merged = await call('POST', '/api/cart/merge');
      if (merged.ok) {
        const m = await merged.json();
        if (m.merged > 0) flash(`Welcome back! The ${m.merged === 1 ? 'article' : `${m.merged} articles`} from your guest cart ${m.merged === 1 ? 'is' : 'are'} now in your account's cart.`);
      }
      if (chosen === 'token') {
        await loadPage(next, true);
        renderPanel();
      } else {
        location.assign(next);
      }
    } catch (err) {
      console.error(err);
      fail('Could not reach the shop. Check your connection and try again.');
    } finally {
      busy(form, false);
    }
  }

  async function signOut() {
    try {
      if (mode === 'token') {
        await call('POST', '/v1/logout', { body: { refresh_token: (await tokens.get()) || undefined } });
      } else if (mode === 'session') {
        await fetch('/v1/logout', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
      }
    } catch (err) {
      console.warn('sign-out call failed', err);
    }
    clearTokens();
    store.del(MODE_KEY);
    store.del(REMEMBER_KEY);
    location.assign('/signin?signed_out=1');
  }

  // ---- Forms in token mode -------------------------------------------------

  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (form.matches('[data-auth]')) { e.preventDefault(); signIn(form); return; }
    if (form.matches('[data-signout]')) { e.preventDefault(); signOut(); return; }
    if (mode !== 'token' || !form.dataset.api) return; // a plain form post
    e.preventDefault();
    const [method, path] = form.dataset.api.split(' ');
    const body = {};
    for (const [k, v] of new FormData(form)) {
      if (k !== 'next') body[k] = k === 'quantity' ? Number(v) : v;
    }
    busy(form, true);
    try {
      const res = await call(method, path, { body: Object.keys(body).length ? body : undefined });
      if (!res.ok) {
        const p = await problem(res);
        toast(p.detail || `That did not work (HTTP ${res.status}).`);
        return;
      }
      let next = form.dataset.next || location.pathname + location.search;
      if (next.includes('{')) {
        const j = await res.json();
        next = next.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(j[k]));
      }
      if (form.hasAttribute('data-signout-current')) {
        clearTokens();
        location.assign(next);
        return;
      }
      await loadPage(next, next !== location.pathname + location.search);
      renderPanel();
    } catch (err) {
      if (err instanceof SignedOut) authLost(err);
      else { console.error(err); toast('Could not reach the shop. Try again.'); }
    } finally {
      busy(form, false);
    }
  });

  // A link followed while this tab's refresh is in flight waits for it:
  // leaving the page would drop the new refresh token the server has
  // already issued. (A reload or a typed address cannot wait; Gatehouse's
  // short refresh grace covers that one case.)
  document.addEventListener('click', (e) => {
    if (mode !== 'token' || !refreshing || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest('a[href]');
    if (!a || a.target) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    e.preventDefault();
    refreshing.finally(() => location.assign(url.href));
  });

  document.addEventListener('change', (e) => {
    if (e.target.matches('[data-autosubmit]')) e.target.form.requestSubmit();
  });

  window.addEventListener('popstate', () => {
    if (mode === 'token') loadPage(location.href, false).catch((err) => authLost(err));
  });

  // Another tab signed out (or its refresh was refused): follow it.
  window.addEventListener('storage', (e) => {
    if (e.key === MODE_KEY && e.newValue !== 'token' && mode === 'token') authLost(new SignedOut('signed out in another tab'));
  });

  // ---- Little things ---------------------------------------------------------

  function busy(form, on) {
    for (const b of form.querySelectorAll('button')) b.disabled = on;
  }

  function flash(msg) { try { sessionStorage.setItem(FLASH_KEY, msg); } catch { /* ignore */ } }

  function showFlash() {
    let msg = null;
    try { msg = sessionStorage.getItem(FLASH_KEY); sessionStorage.removeItem(FLASH_KEY); } catch { /* ignore */ }
    if (!msg) return;
    const p = el('p', { class: 'flash', role: 'status' }, msg);
    $('#main').prepend(p);
  }

  function toast(msg) {
    const t = el('div', { class: 'toast', role: 'alert' }, msg);
    document.body.append(t);
    setTimeout(() => t.remove(), 5000);
  }

  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) n.append(c);
    return n;
  }

  // enhance makes the server's page a little nicer: local times, the demo
  // account button.
  function enhance() {
    for (const t of document.querySelectorAll('time[datetime]')) {
      const d = new Date(t.getAttribute('datetime'));
      if (!isNaN(d)) t.textContent = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
    }
    const fill = $('#fill-demo');
    if (fill) {
      fill.hidden = false;
      fill.onclick = () => {
        $('#email').value = $('#demo-email').textContent;
        $('#password').value = $('#demo-password').textContent;
      };
    }
  }

  // ---- The "How am I remembered?" panel -------------------------------------

  function dl(rows) {
    const d = el('dl');
    for (const [k, v] of rows) d.append(el('dt', null, k), el('dd', null, v));
    return d;
  }

  function card(title, ...children) {
    return el('div', { class: 'pcard' }, el('h3', null, title), ...children);
  }

  function wideCard(title, ...children) {
    const c = card(title, ...children);
    c.classList.add('wide');
    return c;
  }

  function pre(obj) { return el('pre', null, JSON.stringify(obj, null, 2)); }

  function p(text, cls) { return el('p', cls ? { class: cls } : null, text); }

  function until(ms) {
    let s = Math.max(0, Math.round(ms / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d > 0) return `${d} d ${h} h ${m} min`;
    if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min ${String(s).padStart(2, '0')} s`;
    if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
    return `${s} s`;
  }

  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  }

  async function fetchJSON(path) {
    const res = await call('GET', path);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }

  // startCountdown updates the live countdowns every second.
  function startCountdown(parts) {
    clearInterval(panelTick);
    const tick = () => {
      const now = Date.now();
      const head = $('#panel-countdown');
      if (head) head.textContent = parts.head ? `${parts.head.label} ${until(parts.head.at - now)}` : '';
      for (const n of document.querySelectorAll('[data-until]')) n.textContent = until(Number(n.dataset.until) - now);
    };
    tick();
    panelTick = setInterval(tick, 1000);
  }

  let panelSeq = 0;
  async function renderPanel() {
    const body = $('#panel-body');
    const modeLabel = $('#panel-mode');
    if (!body) return;
    const seq = ++panelSeq;
    const app = $('#app');
    if (mode === 'guest') {
      modeLabel.textContent = 'guest';
      const hasCart = app.dataset.guest === 'true';
      body.replaceChildren(
        p('You are not signed in. Gatehouse holds nothing for you; the shop remembers your cart by a cookie of its own.'),
        card('What your browser holds', dl([
          ['Cookie', hasCart ? 'shop_guest: a random id that names your guest cart, HttpOnly, SameSite=Lax' : 'none yet: the shop sets shop_guest when you add something'],
          ['Gatehouse', 'no cookie, no token'],
        ])),
        card('What the server holds', dl([
          ['Shop', hasCart ? 'your guest cart, in its database' : 'nothing'],
          ['Gatehouse', 'nothing'],
        ])),
        wideCard('When it ends', p('An untouched guest cart is forgotten after 30 days. When you sign in, either way, it is merged into your account\'s cart and the guest cookie is deleted.')),
      );
      startCountdown({});
      return;
    }
    modeLabel.textContent = mode === 'token' ? 'tokens' : 'session cookie';
    let me = null;
    let current = null;
    let failed = null;
    try {
      const [m, s] = await Promise.all([fetchJSON('/v1/me'), fetchJSON('/v1/sessions')]);
      me = m;
      current = (s.sessions || []).find((x) => x.current) || null;
    } catch (err) {
      failed = err;
    }
    if (seq !== panelSeq) return; // a newer render started
    const server = card('What the server holds', el('div', { class: 'pcols' },
      el('div', null, p('Gatehouse\'s record of this login, from GET /v1/sessions:', 'muted'),
        current ? pre(current) : p(failed ? `Could not ask Gatehouse: ${failed.message}` : 'not found')),
      el('div', null, p('Who you are for this request, from GET /v1/me:', 'muted'),
        me ? pre({ user: me.user.email, roles: me.user.roles, permissions: me.permissions, auth: me.auth }) : p('—'))));
    server.classList.add('wide');
    // How this login was made: its assurance level and methods (RFC 8176).
    const assurance = card('How you signed in', me ? dl([
      ['Assurance', me.auth.aal === 2 ? 'level 2: two factors' : 'level 1: one factor (a password)'],
      ['Methods', (me.auth.amr || []).join(', ') || '—'],
    ]) : p('—'));
    // The login's end: the session record's (in token mode /v1/me's
    // auth.expires_at is the access token's).
    const loginEnds = Date.parse((current && current.expires_at) || (me && me.auth.expires_at) || '');
    const loginEndsAt = current ? when(current.expires_at) : '—';
    if (mode === 'session') {
      const remembered = store.get(REMEMBER_KEY) === '1';
      const len = app.dataset.cookieLength;
      body.replaceChildren(
        p('You are signed in with a session: Gatehouse keeps it on the server, your browser keeps only a cookie that names it.'),
        wideCard('What your browser holds', dl([
          ['Cookie', app.dataset.cookieName || 'gatehouse'],
          ['Value', `hidden: ${len ? `${len} characters, ` : ''}a 256-bit random secret`],
          ['HttpOnly', 'yes: no script can read it, this one included (its name and length come from the server)'],
          ['SameSite', 'Lax: other sites\' forms and scripts do not get it'],
          ['Path', '/'],
          ['Secure', 'no: plain-HTTP demo (over HTTPS it is __Host-gatehouse, Secure)'],
          ['Lifetime', remembered ? 'Max-Age: kept until the session\'s end, across browser restarts' : 'a browser-session cookie: gone when the browser closes'],
        ])),
        card('When it expires', dl([
          ['Session ends in', el('span', { 'data-until': String(loginEnds) }, '…')],
          ['At', loginEndsAt],
          ['Idle', 'also ends after a while without activity (30 min by default); every visit extends it'],
        ])),
        card('Revocation', p('Signing out, here or from another device on the logins page, deletes the session on the server. The shop asks Gatehouse about the cookie on every request, so the very next request is refused: at once.'),
          p(el('a', { href: '/account/logins' }, 'Your logins →'))),
        assurance,
        server,
      );
      startCountdown({ head: isNaN(loginEnds) ? null : { label: 'session ends in', at: loginEnds } });
      return;
    }

    // token mode
    const a = access;
    body.replaceChildren(
      p('You are signed in with tokens: a signed access token the shop checks by itself, and a refresh token that trades for new ones.'),
      wideCard('What your browser holds', el('div', { class: 'pcols' },
        dl([
          ['Access token', 'in this tab\'s memory only (a script variable): a JWT, its header and claims decoded here'],
          ['Refresh token', 'in IndexedDB (database gatehouse, store tokens); never shown here. Single use: each refresh retires it'],
          ['Refreshed', `${refreshCount} time${refreshCount === 1 ? '' : 's'} in this tab, under a Web Lock shared by every tab`],
          ['Sent as', 'Authorization: Bearer …, by this script only: other sites cannot make the browser send it'],
        ]),
        a ? pre({ header: a.header, claims: a.claims }) : p('no access token yet'))),
      card('When it expires', dl([
        ['Access token expires in', a ? el('span', { 'data-until': String(a.expiresAt) }, '…') : '—'],
        ['Next refresh in', a ? el('span', { 'data-until': String(a.refreshAt) }, '…') : '—'],
        ['Login ends in', el('span', { 'data-until': String(loginEnds) }, '…')],
        ['Login ends at', loginEndsAt],
      ])),
      card('Revocation',
        p('The shop verifies the token\'s signature itself, without asking Gatehouse. When this login is signed out from another device, Gatehouse\'s revocation feed tells the shop within about a second; a service that does not follow the feed would accept the access token until it expires (at most its lifetime). The refresh token stops working at once, so the next refresh fails and this page signs you out.'),
        p(el('a', { href: '/account/logins' }, 'Your logins →'))),
      assurance,
      server,
    );
    startCountdown({ head: a ? { label: 'access token expires in', at: a.expiresAt } : null });
  }

  // ---- Start -------------------------------------------------------------------

  async function start() {
    const app = $('#app');
    const serverMode = app.dataset.mode;
    const pending = app.dataset.pending === 'true';
    enhance();
    if (serverMode === 'session') {
      mode = 'session';
      if (store.get(MODE_KEY) !== 'session') { store.set(MODE_KEY, 'session'); }
    } else if (store.get(MODE_KEY) === 'token' && await tokens.get().catch(() => null)) {
      mode = 'token';
      setHint(true);
      try {
        await refresh();
        await loadPage(location.href, false);
      } catch (err) {
        if (!(err instanceof SignedOut)) {
          console.error(err);
          toast('Could not reach the shop to sign you in. Reload to try again.');
          renderPanel();
          ready(true);
          return;
        }
        authLost(err);
        return;
      }
    } else {
      mode = 'guest';
      if (store.get(MODE_KEY)) store.del(MODE_KEY); // whatever it was, it ended
      if (pending) { // a hint without tokens: show the guest's page
        setHint(false);
        location.reload();
        return;
      }
    }
    showFlash();
    renderPanel();
    ready(true);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
