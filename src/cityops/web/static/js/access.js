// @ts-check
// What the signed-in account may do, from GET /auth/me: the permissions of its membership in a
// municipality (expired ones count for nothing), the municipalities it may switch to, the views
// it sees. Pure: Node imports it in tests. The server decides; this only hides what would be
// refused.

/** @typedef {import('./types').Me} Me */
/** @typedef {import('./types').View} View */

/**
 * The account's membership in `mid`, if it has one that has not ended.
 * @param {Readonly<Me> | null} me
 * @param {string | null} mid
 * @param {Date} [now]
 */
export function membershipIn(me, mid, now = new Date()) {
  if (!me || !mid) return null;
  const m = me.memberships.find((x) => x.municipality === mid);
  if (!m) return null;
  if (m.expires_at && Date.parse(m.expires_at) <= now.getTime()) return null;
  return m;
}

/**
 * @param {Readonly<Me> | null} me
 * @param {string | null} mid
 * @param {string} permission e.g. 'incidents.act'
 * @param {Date} [now]
 */
export function can(me, mid, permission, now = new Date()) {
  const m = membershipIn(me, mid, now);
  return Boolean(m && m.permissions.includes(permission));
}

/**
 * The municipalities of `list` the account is a member of (the switcher offers only these).
 * @template {{id: string}} M
 * @param {Readonly<Me> | null} me
 * @param {readonly M[]} list
 * @param {Date} [now]
 * @returns {M[]}
 */
export function visibleMunicipalities(me, list, now = new Date()) {
  return list.filter((m) => membershipIn(me, m.id, now) !== null);
}

/**
 * The views the account sees in `mid`, in tab order: the operations view and the wall with what
 * they need to read, the overview with system.read, the audit view with audit.read (an auditor
 * sees only that), the registry of vulnerable people with persons.view.
 * @param {Readonly<Me> | null} me
 * @param {string | null} mid
 * @param {Date} [now]
 * @returns {View[]}
 */
export function viewsFor(me, mid, now = new Date()) {
  /** @type {View[]} */
  const views = [];
  if (can(me, mid, 'incidents.read', now)) views.push('ops');
  if (can(me, mid, 'video.view', now)) views.push('wall');
  if (can(me, mid, 'system.read', now)) views.push('overview');
  if (can(me, mid, 'audit.read', now)) views.push('audit');
  if (can(me, mid, 'persons.view', now)) views.push('persons');
  return views;
}

/**
 * What the incident panel may offer: acting on the incident (lifecycle, assignment, SOP) and
 * adding notes. An incident handed over from a neighbour (`home` is another municipality) is
 * acted on by its home municipality only; the neighbour may add notes.
 * @param {Readonly<Me> | null} me
 * @param {string | null} mid
 * @param {Date} [now]
 * @param {string | null} [home] the incident's own municipality
 */
export function incidentRights(me, mid, now = new Date(), home = null) {
  const foreign = Boolean(home && mid && home !== mid);
  return { act: !foreign && can(me, mid, 'incidents.act', now), note: can(me, mid, 'incidents.note', now), foreign };
}

/**
 * Whether an API refusal is the CSRF check (a write without this session's X-CSRF-Token).
 * @param {number} status
 * @param {string | null} detail
 */
export function isCsrfRefusal(status, detail) {
  return status === 403 && typeof detail === 'string' && detail.includes('X-CSRF-Token');
}

/**
 * The `#sso-error=<reason>` the server sends a refused single sign-on back with (or null).
 * @param {string} hash location.hash
 */
export function ssoErrorOf(hash) {
  const m = /(?:^#|&)sso-error=([a-z_]{1,40})(?:&|$)/.exec(hash);
  return m ? m[1] ?? null : null;
}
