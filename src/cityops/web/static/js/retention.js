// @ts-check
// For admins (retention.manage): how long each kind of data is kept and how the scheduled
// retention job last ran (GET /m/{mid}/retention, C's API; docs/PRIVACY.md), as an overview card.

import { getJSON, mpath } from './api.js';
import { h } from './dom.js';
import { fmtDateTime, fmtNumber, t, tMaybe } from './i18n.js';

/** @typedef {import('./types').RetentionView} RetentionView */

/**
 * @param {string} mid
 * @returns {Promise<RetentionView>}
 */
export function loadRetention(mid) {
  return getJSON(mpath(mid, '/retention'));
}

/** @param {number | null | undefined} days */
function keptFor(days) {
  return days === null || days === undefined ? t('retention_card.forever') : t('retention_card.days', { days: fmtNumber(days, 0) });
}

/** @param {RetentionView} data */
export function retentionCard(data) {
  const run = data.last_run;
  const status = !run
    ? h('p', { class: 'muted', dataset: { testid: 'retention-last' } }, t('retention_card.never'))
    : h(
        'p',
        { class: run.ok ? 'ok' : 'error', dataset: { testid: 'retention-last' } },
        t(run.ok ? 'retention_card.last_ok' : 'retention_card.last_failed', { time: fmtDateTime(run.finished_at), error: run.error || '' }),
      );
  const removed = run ? Object.entries(run.removed).filter(([, n]) => n > 0) : [];
  return h(
    'section',
    { class: 'ov-card', dataset: { testid: 'retention-card' } },
    h('h3', { class: 'd-section-title' }, t('retention_card.title')),
    status,
    removed.length
      ? h('p', { class: 'muted' }, t('retention_card.removed', { list: removed.map(([k, n]) => `${tMaybe(`retention_kind.${k}`, k)} ${fmtNumber(n, 0)}`).join(', ') }))
      : null,
    h(
      'dl',
      { class: 'facts' },
      ...Object.entries(data.days).flatMap(([kind, days]) => [h('dt', {}, tMaybe(`retention_kind.${kind}`, kind)), h('dd', {}, keptFor(days))]),
    ),
  );
}
