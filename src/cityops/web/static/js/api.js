// HTTP client for /api/v1. Every write carries the operator's name in X-CityOps-Operator.

const meta = document.querySelector('meta[name="cityops-api"]');
export const API_BASE = (meta && meta.content) || '/api/v1';

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

let operatorProvider = async () => null;

/** `fn` resolves to the operator's name, asking for it when none is stored yet. */
export function setOperatorProvider(fn) {
  operatorProvider = fn;
}

function url(path, params) {
  const u = new URL(API_BASE + path, window.location.origin);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, item);
      else u.searchParams.set(k, v);
    }
  }
  return u.pathname + u.search;
}

async function parse(res) {
  if (res.ok) {
    if (res.status === 204) return null;
    return res.json();
  }
  let detail = null;
  try {
    const body = await res.json();
    detail = body && body.detail !== undefined ? body.detail : body;
  } catch {
    detail = null;
  }
  if (Array.isArray(detail)) detail = detail.map((d) => d.msg || JSON.stringify(d)).join('; ');
  throw new ApiError(res.status, detail);
}

export async function getJSON(path, params, { signal } = {}) {
  const res = await fetch(url(path, params), { headers: { Accept: 'application/json' }, signal });
  return parse(res);
}

/**
 * POST JSON. The operator header is percent-encoded UTF-8 (encodeURIComponent), because HTTP
 * header values cannot carry Cyrillic directly: the server decodes it with urllib.parse.unquote.
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

export function mpath(mid, rest = '') {
  return `/m/${encodeURIComponent(mid)}${rest}`;
}

/** The camera's MJPEG live view (privacy masks applied by the server). */
export function liveViewUrl(mid, cameraId) {
  return API_BASE + mpath(mid, `/cameras/${encodeURIComponent(cameraId)}/live.mjpg`);
}

export function snapshotUrl(mid, cameraId, bust) {
  const u = API_BASE + mpath(mid, `/cameras/${encodeURIComponent(cameraId)}/snapshot`);
  return bust ? `${u}?t=${bust}` : u;
}
