// @ts-check
// The recipient's page (share.html): an agency opens `<public_url>/share.html#<token>`. The
// token is taken from the fragment (never sent in a URL, so no server log or Referer holds it)
// and removed from the address bar and history at once, then exchanged for the share; the
// server's cookie carries the share from then on (a reload works without the token). Each open
// (the exchange, a reload) is audited; then the page asks the share's status (not audited)
// every few seconds and when it comes back into view, so an extension shows up and a
// revocation or the end ends the page; the server refuses the pictures anyway.

import { getLanguage, setLanguage, storedLanguage } from '../i18n.js';
import { current, exchange, status } from './api.js';
import { sameIds, tokenFromHash } from './model.js';
import { showAccess, showScreen, showSummary, stopCameras, tick } from './page.js';

/** @typedef {import('../types').ShareAccess} ShareAccess */
/** @typedef {import('./api.js').Answer} Answer */
/** @typedef {import('./model.js').ShareFailure} ShareFailure */

const RECHECK_MS = 10_000;
const TICK_MS = 1000;

const page = {
  /** @type {ShareAccess | null} */
  access: null,
  /** @type {ShareFailure | null} */
  ended: null,
  /** @type {string | null} the link's token until the server took it (a retry needs it) */
  token: null,
  recheckTimer: 0,
  tickTimer: 0,
  checking: false,
};

/** The token in the address, removed from it (and from the history entry) whatever it is. */
function takeToken() {
  const token = tokenFromHash(window.location.hash);
  if (window.location.hash) window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return token;
}

function stopTimers() {
  clearInterval(page.recheckTimer);
  clearInterval(page.tickTimer);
  page.recheckTimer = 0;
  page.tickTimer = 0;
}

/**
 * @param {ShareFailure} reason
 */
function end(reason) {
  stopTimers();
  page.ended = reason;
  const expiresAt = page.access ? page.access.expires_at : null;
  page.access = null;
  if (reason !== 'unavailable') page.token = null;
  showScreen(reason, { expiresAt, retry: reason === 'unavailable' ? () => openShare(page.token) : null });
}

/**
 * @param {Answer} answer
 * @param {boolean} linkGiven whether this page had a token to exchange
 */
function apply(answer, linkGiven) {
  if (answer.ok) {
    page.token = null; // the cookie carries the share from now on
    page.access = answer.access;
    page.ended = null;
    showAccess(answer.access);
    if (!page.tickTimer) page.tickTimer = window.setInterval(onTick, TICK_MS);
    if (!page.recheckTimer) page.recheckTimer = window.setInterval(recheck, RECHECK_MS);
    return;
  }
  // a share on show stays while the server is briefly unreachable; its pictures say so anyway
  if (answer.failure === 'unavailable' && page.access) return;
  end(answer.failure === 'invalid' && !linkGiven && !page.access ? 'missing' : answer.failure);
}

/**
 * Open the share: exchange the token, or read the share from the cookie.
 * @param {string | null} token
 */
async function openShare(token) {
  page.token = token;
  page.checking = true;
  try {
    apply(token ? await exchange(token) : await current(), token !== null);
  } finally {
    page.checking = false;
  }
}

/** Ask the server whether the share is still open (extended, revoked, ended). */
async function recheck() {
  const shown = page.access;
  if (page.checking || !shown) return;
  page.checking = true;
  try {
    const answer = await status();
    if (!answer.ok) apply(answer, false);
    else if (sameIds(answer.status.cameras, shown.cameras.map((c) => c.id))) {
      if (answer.status.expires_at !== shown.expires_at) apply({ ok: true, access: { ...shown, expires_at: answer.status.expires_at } }, false);
    } else {
      // the shared cameras changed: read the whole share again
      apply(await current(), false);
    }
  } finally {
    page.checking = false;
  }
}

function onTick() {
  if (!page.access) return;
  // at zero the server decides (it may have been extended meanwhile)
  if (!tick(Date.now())) recheck();
}

/** @param {string} code */
async function switchLanguage(code) {
  await setLanguage(code);
  for (const b of document.querySelectorAll('.lang-btn')) {
    if (b instanceof HTMLElement) b.setAttribute('aria-pressed', String(b.dataset.lang === getLanguage()));
  }
  if (page.access) showSummary(page.access);
  else if (page.ended) showScreen(page.ended, { retry: page.ended === 'unavailable' ? () => openShare(page.token) : null });
}

async function start() {
  // first of all: the token leaves the address bar before anything can be shared or logged
  const token = takeToken();
  page.token = token;
  await setLanguage(storedLanguage() || 'bg', { remember: false });
  for (const b of document.querySelectorAll('.lang-btn')) {
    if (!(b instanceof HTMLElement)) continue;
    b.setAttribute('aria-pressed', String(b.dataset.lang === getLanguage()));
    b.addEventListener('click', () => switchLanguage(b.dataset.lang || 'en'));
  }
  // a picture that fails (the share ended on the server) or the page coming back into view:
  // ask the server now rather than at the next round
  document.addEventListener('error', (ev) => {
    if (ev.target instanceof HTMLImageElement && ev.target.closest('#share-cam-grid')) recheck();
  }, true);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') recheck();
  });
  // another link pasted into the same tab
  window.addEventListener('hashchange', () => {
    const next = takeToken();
    if (next) {
      stopCameras();
      openShare(next);
    }
  });
  await openShare(token);
}

start().catch((err) => {
  console.error(err);
  showScreen('unavailable', { retry: () => openShare(page.token) });
});
