// @ts-check
// The console's session: the login screen (password, or single sign-on with a municipality's
// identity provider), logout, and the end of a session. Any 401 (a request, or the live feed's
// probe) shows the login screen over the console as it is: the operator signs in again and goes
// on where they were (same view, same incident). Another account signing in starts afresh.

import { API_BASE, ApiError, getJSON, postJSON, setSessionHooks } from './api.js';
import { can, membershipIn, ssoErrorOf } from './access.js';
import { byId, byIdAs, h } from './dom.js';
import { getLanguage, t, tMaybe } from './i18n.js';
import { on, setMe, state } from './state.js';

/** @typedef {import('./types').Me} Me */

/** @type {((me: Me) => void) | null} */
let waiting = null;
/** @type {() => void} */
let onEnded = () => {};

function screen() {
  return byId('login-screen');
}

export function loginShown() {
  return !screen().hidden;
}

/** @param {boolean} on */
function setConsoleInert(on) {
  for (const el of document.querySelectorAll('.topbar, .views')) {
    if (on) el.setAttribute('inert', '');
    else el.removeAttribute('inert');
  }
}

/**
 * @param {string} key an i18n key, '' for none
 * @param {Record<string, string>} [params]
 */
function showMessage(key, params) {
  const el = byId('login-error');
  el.hidden = !key;
  // re-translated on a language switch only without parameters (the switch knows no params)
  if (!key || params) delete el.dataset.i18n;
  else el.dataset.i18n = key;
  el.textContent = key ? t(key, params) : '';
}

/** @param {string} [messageKey] */
function showLogin(messageKey = '') {
  screen().hidden = false;
  setConsoleInert(true);
  showMessage(messageKey);
  const user = byIdAs('login-username', HTMLInputElement);
  const pass = byIdAs('login-password', HTMLInputElement);
  pass.value = '';
  if (state.me) user.value = state.me.username;
  (user.value ? pass : user).focus();
  loadProviders();
}

function hideLogin() {
  screen().hidden = true;
  setConsoleInert(false);
  showMessage('');
}

/** The single sign-on buttons: one link per configured identity provider. */
async function loadProviders() {
  const list = byId('sso-list');
  /** @type {import('./types').SsoProvider[]} */
  let providers = [];
  try {
    providers = await getJSON('/auth/oidc/providers');
  } catch {
    providers = [];
  }
  const next = `/${location.hash}`;
  list.replaceChildren(
    ...providers.map((p) => {
      const title = typeof p.title === 'string' ? p.title : p.title[getLanguage()] || Object.values(p.title)[0] || p.id;
      const href = `${API_BASE}/auth/oidc/${encodeURIComponent(p.id)}/login?next=${encodeURIComponent(next)}`;
      return h('a', { class: 'btn sso-btn', href, dataset: { provider: p.id } }, t('login.sso_with', { provider: title }));
    }),
  );
  byId('sso-block').hidden = providers.length === 0;
}

/** @param {Me} me */
function signedIn(me) {
  const previous = state.me;
  if (previous && previous.username !== me.username) {
    // another account: nothing of the previous one's console may stay
    location.reload();
    return;
  }
  setMe(me);
  hideLogin();
  showUser();
  const resolve = waiting;
  waiting = null;
  if (resolve) resolve(me);
}

/** @param {SubmitEvent} ev */
async function submit(ev) {
  ev.preventDefault();
  const username = byIdAs('login-username', HTMLInputElement).value.trim();
  const password = byIdAs('login-password', HTMLInputElement).value;
  if (!username || !password) return;
  const button = byIdAs('login-submit', HTMLButtonElement);
  button.disabled = true;
  try {
    await postJSON('/auth/login', { username, password }, { quiet: true });
    /** @type {Me} */
    const me = await getJSON('/auth/me');
    signedIn(me);
  } catch (err) {
    const status = err instanceof ApiError ? err.status : 0;
    showMessage(status === 401 ? 'login.wrong' : status === 429 ? 'login.too_many' : 'login.failed');
    byIdAs('login-password', HTMLInputElement).select();
  } finally {
    button.disabled = false;
  }
}

/** The account's name, and its role in the municipality shown (the header's user box). */
export function showUser() {
  const me = state.me;
  byId('user-name').textContent = me ? me.display_name : '';
  const m = membershipIn(me, state.mid);
  byId('user-role').textContent = m ? t(`role.${m.role}`) : '';
  byId('btn-logout').hidden = !me;
}

/** End this session at the server, then start a fresh console (nothing of it stays in memory). */
export async function logout() {
  try {
    await postJSON('/auth/logout', {}, { quiet: true });
  } catch (err) {
    console.warn('logout', err);
  }
  location.replace('/');
}

/** A 401: the session ended (expired, logged out elsewhere, the account disabled). */
function ended() {
  if (loginShown()) return;
  onEnded();
  showLogin(state.me ? 'login.expired' : '');
}

/**
 * Wire the login screen and the API's session hooks.
 * @param {{ended: () => void}} hooks ended: the console stops what needs a session (the live feed)
 */
export function initSession(hooks) {
  onEnded = hooks.ended;
  setSessionHooks({ csrf: () => (state.me ? state.me.csrf : null), ended });
  byIdAs('login-form', HTMLFormElement).addEventListener('submit', submit);
  byId('btn-logout').addEventListener('click', () => logout());
  on('lang', () => {
    if (loginShown()) loadProviders(); // the buttons' words
    showUser(); // the role's name
  });
  const reason = ssoErrorOf(location.hash);
  if (reason) {
    history.replaceState(null, '', location.pathname + location.search);
    showLogin('');
    showMessage('login.sso_refused', { reason: tMaybe(`sso_error.${reason}`, reason) });
  }
}

/**
 * The signed-in account: at once when the session cookie is valid, else after the operator
 * signs in on the login screen.
 * @returns {Promise<Me>}
 */
export async function ensureSession() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      /** @type {Me} */
      const me = await getJSON('/auth/me');
      setMe(me);
      hideLogin();
      showUser();
      return me;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) break;
      // the server is not reachable (yet): try again, as the configuration load does
      console.warn('session', err);
      await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** attempt)));
    }
  }
  return new Promise((resolve) => {
    waiting = resolve;
    if (!loginShown()) showLogin();
  });
}

/**
 * After the live feed failed (it cannot tell why): a 401 here means the session ended; a
 * session whose membership in the municipality shown has ended (a liaison's time is up) or was
 * taken away starts the console afresh, so nothing it may no longer see stays on the screen.
 * @returns {Promise<void>}
 */
export async function probeSession() {
  if (!state.me || loginShown()) return;
  /** @type {Me} */
  let fresh;
  try {
    fresh = await getJSON('/auth/me');
  } catch {
    return; // a 401 was handled by the hook; anything else is the network, which the feed retries
  }
  if (state.mid && !can(fresh, state.mid, 'incidents.read')) location.reload();
}
