// @ts-check
// Ingest health: GET /api/v1/health every 10 s (and on every reconnect of the live feed); a
// banner under the header says why while the server reports `degraded`, hidden when ok.

/** @typedef {import('./types').Health} Health */

export const HEALTH_POLL_MS = 10000;

/**
 * What the banner shows for a health answer: nothing when ok (or not known), else the reasons
 * (the server's, or one derived from its flags when it gives none).
 * @param {Readonly<Health> | null | undefined} health
 * @returns {{show: boolean, reasons: string[]}}
 */
export function healthBanner(health) {
  if (!health || health.status !== 'degraded') return { show: false, reasons: [] };
  const reasons = Array.isArray(health.reasons) ? health.reasons.filter((r) => typeof r === 'string' && r) : [];
  if (!reasons.length && health.mqtt_connected === false) reasons.push('mqtt_disconnected');
  return { show: true, reasons };
}
