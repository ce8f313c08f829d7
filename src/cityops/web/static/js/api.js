// @ts-check
// HTTP client for /api/v1. Every write carries the operator's name in X-CityOps-Operator.

const meta = typeof document === 'undefined' ? null : document.querySelector('meta[name="cityops-api"]');
export const API_BASE = (meta instanceof HTMLMetaElement && meta.content) || '/api/v1';

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status; 0: no operator name (the request was not sent)
   * @param {string | null} detail the server's reason
   */
  constructor(status, detail) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

/** @type {() => Promise<string | null>} */
let operatorProvider = async () => null;

/**
 * `fn` resolves to the operator's name, asking for it when none is stored yet.
 * @param {() => Promise<string | null>} fn
 */
export function setOperatorProvider(fn) {
  operatorProvider = fn;
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

/** @param {Response} res */
async function parse(res) {
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
 * POST JSON. The operator header is percent-encoded UTF-8 (encodeURIComponent), because HTTP
 * header values cannot carry Cyrillic directly: the server decodes it with urllib.parse.unquote.
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<any>}
 */
export async function postJSON(path, body) {
  const operator = await operatorProvider();
  if (!operator) throw new ApiError(0, null);
  const res = await fetch(url(path), {
    method: 'POST',
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'X-CityOps-Operator': encodeURIComponent(operator),
    },
    body: JSON.stringify(body ?? {}),
  });
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
