// @ts-check
// The recipient's side of /api/v1/share-access: the link's token exchanged once for the share
// (the server answers with an HttpOnly cookie scoped to /api/v1/share-access, which every later
// request carries), the share read again from that cookie, and the shared cameras' pictures.
// No account, no CSRF token: the cookie is SameSite=Strict and names one share only.

import { API_BASE } from '../api.js';
import { failureOf } from './model.js';

export const SHARE_API = `${API_BASE}/share-access`;

/** @typedef {import('../types').ShareAccess} ShareAccess */
/** @typedef {import('./model.js').ShareFailure} ShareFailure */
/** @typedef {{status: string, expires_at: string, cameras: string[]}} ShareStatusView */
/** @typedef {{ok: true, access: ShareAccess} | {ok: false, failure: ShareFailure}} Answer */

/**
 * @param {Response} res
 * @returns {Promise<Answer>}
 */
async function answer(res) {
  /** @type {unknown} */
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (res.ok && body && typeof body === 'object' && 'share' in body) return { ok: true, access: /** @type {ShareAccess} */ (body) };
  return { ok: false, failure: res.ok ? 'unavailable' : failureOf(res.status, body) };
}

/**
 * @param {RequestInit} init
 * @returns {Promise<Answer>}
 */
async function call(init) {
  try {
    const res = await fetch(SHARE_API, { credentials: 'same-origin', cache: 'no-store', ...init, headers: { Accept: 'application/json', ...(init.headers || {}) } });
    return await answer(res);
  } catch {
    return { ok: false, failure: 'unavailable' };
  }
}

/**
 * Exchange the link's token for the share (and the cookie).
 * @param {string} token
 */
export function exchange(token) {
  return call({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
}

/** The share again, from the cookie (a reload: audited as an open). */
export function current() {
  return call({ method: 'GET' });
}

/**
 * Whether the share is still open, until when and with which cameras (not audited: it shows
 * nothing; the server also renews the cookie to the new end).
 * @returns {Promise<{ok: true, status: ShareStatusView} | {ok: false, failure: ShareFailure}>}
 */
export async function status() {
  try {
    const res = await fetch(`${SHARE_API}/status`, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    /** @type {unknown} */
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (res.ok && body && typeof body === 'object' && 'expires_at' in body) return { ok: true, status: /** @type {ShareStatusView} */ (body) };
    return { ok: false, failure: res.ok ? 'unavailable' : failureOf(res.status, body) };
  } catch {
    return { ok: false, failure: 'unavailable' };
  }
}

/**
 * A shared camera's masked picture: a snapshot (`bust` defeats the cache) or the MJPEG live view.
 * @param {string} cameraId
 * @param {'snapshot.jpg' | 'live.mjpg'} file
 * @param {number} [bust]
 */
export function cameraUrl(cameraId, file, bust) {
  const u = `${SHARE_API}/cameras/${encodeURIComponent(cameraId)}/${file}`;
  return bust ? `${u}?t=${bust}` : u;
}

/**
 * The offline base map around the share, or null when the server offers none.
 * @returns {Promise<{layers?: Record<string, GeoJSON.FeatureCollection>, bounds?: number[]} | null>}
 */
export async function basemap() {
  try {
    const res = await fetch(`${SHARE_API}/basemap`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}
