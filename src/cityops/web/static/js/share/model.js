// @ts-check
// Agency shares without the DOM: the link's token in the address, a share's status and time
// left, why the server refused a link, the durations an operator is offered, the order shares
// are listed in, and labels in the interface language. Both the recipient's page (share/main.js)
// and the operator's incident panel (details/shares.js) use it; Node imports it in tests.

/** @typedef {import('../types').ShareView} ShareView */
/** @typedef {'active' | 'expired' | 'revoked'} ShareStatus */
/** @typedef {'missing' | 'invalid' | 'expired' | 'revoked' | 'unavailable'} ShareFailure */

/** The server makes tokens with secrets.token_urlsafe(32): 43 URL-safe base64 characters. */
const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

/**
 * The link's token from the address's fragment (`share.html#<token>`), or null when there is
 * none or it cannot be one (never sent to the server then).
 * @param {string} hash location.hash, with or without its '#'
 * @returns {string | null}
 */
export function tokenFromHash(hash) {
  let raw = hash.startsWith('#') ? hash.slice(1) : hash;
  // a link pasted from a mail client may carry "token=" or trailing punctuation and spaces
  if (raw.startsWith('token=')) raw = raw.slice('token='.length);
  raw = raw.trim().replace(/[.,;:!?)\]>'"]+$/, '');
  return TOKEN.test(raw) ? raw : null;
}

/**
 * The status of a share at `now`: revoked wins over expired (the server's rule too).
 * @param {{expires_at: string, revoked_at: string | null}} share
 * @param {number} now ms since the epoch
 * @returns {ShareStatus}
 */
export function shareStatus(share, now) {
  if (share.revoked_at) return 'revoked';
  const end = Date.parse(share.expires_at);
  if (!Number.isFinite(end) || end <= now) return 'expired';
  return 'active';
}

/**
 * Milliseconds left until `expiresAt` (0 once it has passed or when it cannot be read).
 * @param {string} expiresAt
 * @param {number} now
 */
export function msLeft(expiresAt, now) {
  const end = Date.parse(expiresAt);
  if (!Number.isFinite(end)) return 0;
  return Math.max(0, end - now);
}

/**
 * A ticking countdown: "4:05" under an hour, "1:04:05" under a day, "2 d 03:04:05" beyond
 * (language-neutral: the page puts it in a translated sentence).
 * @param {number} ms
 */
export function countdown(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  if (hours === 0) return `${m}:${pad(s)}`;
  if (hours < 24) return `${hours}:${pad(m)}:${pad(s)}`;
  return `${Math.floor(hours / 24)} d ${pad(hours % 24)}:${pad(m)}:${pad(s)}`;
}

/**
 * Why the server refused a link: 404 the token is unknown (or not this kind of thing), 410 the
 * share has ended (the body says whether it expired or was revoked), 400/401/403/422 a token it
 * will never accept; anything else (429, 5xx, no answer) is worth trying again.
 * @param {number} status HTTP status, 0 when there was no answer
 * @param {unknown} body the answer's JSON, if any
 * @returns {ShareFailure}
 */
export function failureOf(status, body) {
  if (status === 410) return endedHow(body) === 'revoked' ? 'revoked' : 'expired';
  if (status === 404 || status === 400 || status === 401 || status === 403 || status === 422) return 'invalid';
  return 'unavailable';
}

/**
 * 'revoked' or 'expired' from a 410's body: {status}, {detail: "revoked"}, {detail: {status}}
 * or a sentence naming it.
 * @param {unknown} body
 * @returns {'revoked' | 'expired' | null}
 */
function endedHow(body) {
  /** @type {unknown[]} */
  const found = [];
  const look = (/** @type {unknown} */ v, depth = 0) => {
    if (typeof v === 'string') found.push(v);
    else if (v && typeof v === 'object' && depth < 3) {
      const o = /** @type {Record<string, unknown>} */ (v);
      for (const k of ['status', 'reason', 'detail']) if (k in o) look(o[k], depth + 1);
    }
  };
  look(body);
  const text = found.join(' ').toLowerCase();
  if (text.includes('revoked')) return 'revoked';
  if (text.includes('expired')) return 'expired';
  return null;
}

/**
 * Whether two lists hold the same ids, in any order (the shared cameras changed or not).
 * @param {readonly string[]} a
 * @param {readonly string[]} b
 */
export function sameIds(a, b) {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((x) => set.has(x));
}

const STEPS = [15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080];

/**
 * The durations (minutes) offered for a new share or an extension: the usual steps up to
 * `max`, the default among them, ascending, nothing below one minute.
 * @param {number} defaultMinutes
 * @param {number} maxMinutes
 * @returns {number[]}
 */
export function durationChoices(defaultMinutes, maxMinutes) {
  const max = Number.isFinite(maxMinutes) && maxMinutes >= 1 ? Math.floor(maxMinutes) : 1440;
  const choices = new Set(STEPS.filter((m) => m <= max));
  if (Number.isFinite(defaultMinutes) && defaultMinutes >= 1 && defaultMinutes <= max) choices.add(Math.floor(defaultMinutes));
  if (!choices.size) choices.add(max);
  return [...choices].sort((a, b) => a - b);
}

/**
 * The durations an active share can be extended by: the server keeps it for that long from now
 * (never shortening it) and caps its whole life at the maximum, so only durations that end
 * after its present end and within the maximum are offered (none: it cannot be extended).
 * @param {{created_at: string, expires_at: string}} share
 * @param {number} maxMinutes
 * @param {number} now
 * @returns {number[]}
 */
export function extendChoices(share, maxMinutes, now) {
  const created = Date.parse(share.created_at);
  const end = Date.parse(share.expires_at);
  if (!Number.isFinite(created) || !Number.isFinite(end)) return [];
  const room = Math.floor(maxMinutes - (now - created) / 60_000);
  if (room < 1) return [];
  const left = (end - now) / 60_000;
  return durationChoices(room, room).filter((m) => m > left);
}

/**
 * Shares as the incident panel lists them: the active ones first, soonest to end first; then
 * the ended ones, newest first.
 * @template {ShareView} S
 * @param {readonly S[]} shares
 * @param {number} now
 * @returns {S[]}
 */
export function orderShares(shares, now) {
  const active = (/** @type {S} */ s) => shareStatus(s, now) === 'active';
  return shares.slice().sort((a, b) => {
    const aa = active(a);
    const ba = active(b);
    if (aa !== ba) return aa ? -1 : 1;
    if (aa) return Date.parse(a.expires_at) - Date.parse(b.expires_at);
    return Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id;
  });
}

/**
 * A configured item's label in the interface language: `label_local` in Bulgarian when given.
 * @param {{id: string, label?: string | null, label_local?: string | null} | null | undefined} item
 * @param {string} lang
 */
export function labelIn(item, lang) {
  if (!item) return '';
  if (lang !== 'en' && item.label_local) return item.label_local;
  return item.label || item.label_local || item.id;
}

/**
 * GET /sharing's agencies as {id, name, name_local}, whether the server lists ids or objects.
 * @param {readonly (string | {id: string, name?: string | null, name_local?: string | null})[] | null | undefined} agencies
 * @returns {{id: string, name: string, name_local: string | null}[]}
 */
export function agencyOptions(agencies) {
  /** @type {{id: string, name: string, name_local: string | null}[]} */
  const out = [];
  const seen = new Set();
  for (const a of agencies || []) {
    const item = typeof a === 'string' ? { id: a, name: a, name_local: null } : { id: String(a.id), name: a.name || String(a.id), name_local: a.name_local || null };
    if (!item.id || seen.has(item.id)) continue;
    seen.add(item.id);
    out.push(item);
  }
  return out;
}

/**
 * The agency preselected for a new share: the one the incident is assigned to, else the one
 * proposed, when it may receive shares; else the first one.
 * @param {readonly {id: string}[]} options
 * @param {{assigned_agency?: string | null, proposed_agency?: string | null}} inc
 */
export function preferredAgency(options, inc) {
  for (const id of [inc.assigned_agency, inc.proposed_agency]) if (id && options.some((o) => o.id === id)) return id;
  return options.length ? options[0].id : '';
}
