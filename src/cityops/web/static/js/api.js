// @ts-check
// HTTP client for /api/v1. The session is the HttpOnly cookie the browser sends; every write
// carries the session's CSRF token in X-CSRF-Token. A 401 from any request means the session
// has ended: the session module (session.js) is told, and shows the login screen.

const meta = typeof document === 'undefined' ? null : document.querySelector('meta[name="cityops-api"]');
export const API_BASE = (meta && meta instanceof HTMLMetaElement && meta.content) || '/api/v1';

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status
   * @param {string | null} detail the server's reason
   */
  constructor(status, detail) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

export const CSRF_HEADER = 'X-CSRF-Token';

/** @type {() => string | null} */
let csrfToken = () => null;
/** @type {() => void} */
let sessionEnded = () => {};

/**
 * Who gives the session's CSRF token, and who hears that the session has ended (a 401).
 * @param {{csrf: () => string | null, ended: () => void}} hooks
 */
export function setSessionHooks(hooks) {
  csrfToken = hooks.csrf;
  sessionEnded = hooks.ended;
}

/** @typedef {Record<string, string | number | boolean | null | undefined | (string | number)[]>} Params */

/**
 * @param {string} path
 * @param {Params} [params]
 */
function url(path, params) {
  const u = new URL(API_BASE + path, window.location.origin);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, String(item));
      else u.searchParams.set(k, String(v));
    }
  }
  return u.pathname + u.search;
}

/**
 * @param {Response} res
 * @param {boolean} [quiet] a 401 is the caller's (the login form), not the end of a session
 */
async function parse(res, quiet = false) {
  if (res.status === 401 && !quiet) sessionEnded();
  if (res.ok) {
    if (res.status === 204) return null;
    return res.json();
  }
  /** @type {unknown} */
  let detail = null;
  try {
    const body = await res.json();
    detail = body && body.detail !== undefined ? body.detail : body;
  } catch {
    detail = null;
  }
  if (Array.isArray(detail)) detail = detail.map((d) => (d && d.msg) || JSON.stringify(d)).join('; ');
  throw new ApiError(res.status, typeof detail === 'string' ? detail : detail === null ? null : JSON.stringify(detail));
}

/**
 * GET JSON. The caller names the type it expects (the API's contract, see types.d.ts).
 * @param {string} path
 * @param {Params} [params]
 * @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<any>}
 */
export async function getJSON(path, params, { signal } = {}) {
  const res = await fetch(url(path, params), { headers: { Accept: 'application/json' }, signal: signal ?? null });
  return parse(res);
}

/**
 * POST JSON with the session's CSRF token.
 * @param {string} path
 * @param {unknown} body
 * @param {{quiet?: boolean}} [options] quiet: a 401 does not end the session (the login itself)
 * @returns {Promise<any>}
 */
export async function postJSON(path, body, { quiet = false } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  const csrf = csrfToken();
  if (csrf) headers[CSRF_HEADER] = csrf;
  const res = await fetch(url(path), { method: 'POST', headers, body: JSON.stringify(body ?? {}), credentials: 'same-origin' });
  return parse(res, quiet);
}

/**
 * PUT or DELETE (or POST) with the session's CSRF token: a JSON body, a Blob (sent with its
 * own type, e.g. a photo), or none.
 * @param {'PUT' | 'DELETE' | 'POST'} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function send(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  const csrf = csrfToken();
  if (csrf) headers[CSRF_HEADER] = csrf;
  /** @type {BodyInit | null} */
  let payload = null;
  if (body instanceof Blob) {
    headers['Content-Type'] = body.type || 'application/octet-stream';
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(url(path), { method, headers, body: payload, credentials: 'same-origin' });
  return parse(res);
}

/**
 * @param {string} mid
 * @param {string} [rest]
 */
export function mpath(mid, rest = '') {
  return `/m/${encodeURIComponent(mid)}${rest}`;
}

/**
 * The camera's MJPEG live view (privacy masks applied by the server).
 * @param {string} mid
 * @param {string} cameraId
 */
export function liveViewUrl(mid, cameraId) {
  return API_BASE + mpath(mid, `/cameras/${encodeURIComponent(cameraId)}/live.mjpg`);
}

/**
 * @param {string} mid
 * @param {string} cameraId
 * @param {number} [bust] a cache-busting stamp
 */
export function snapshotUrl(mid, cameraId, bust) {
  const u = API_BASE + mpath(mid, `/cameras/${encodeURIComponent(cameraId)}/snapshot`);
  return bust ? `${u}?t=${bust}` : u;
}
