// @ts-check
// Links into the console: `<public_url>/#/m/<municipality>/incidents/<id>` opens that incident
// (the dispatch e-mail's link, docs/DISPATCH.md). Pure: main.js acts on what this reads.

const INCIDENT_LINK = /^#\/m\/([^/?#]{1,400})\/incidents\/([1-9]\d{0,9})$/;

/**
 * The incident a location hash points at, or null for anything else (a malformed or foreign
 * hash is ignored, never an error).
 * @param {string} hash location.hash
 * @returns {{mid: string, id: number} | null}
 */
export function incidentLinkOf(hash) {
  const m = INCIDENT_LINK.exec(hash);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  let mid;
  try {
    mid = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  const id = Number(m[2]);
  if (!mid || mid.length > 64 || !Number.isSafeInteger(id) || id > 2 ** 31 - 1) return null;
  return { mid, id };
}

/**
 * The console's link to an incident (as the server's dispatch/message.py writes it).
 * @param {string} mid
 * @param {number} id
 */
export function incidentLink(mid, id) {
  return `#/m/${encodeURIComponent(mid)}/incidents/${id}`;
}
