// The queue's rules: which incidents a filter shows, and in which order.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  compareIncidents, DEFAULT_FILTERS, filteredIncidents, incidentMatchesFilters, incidentQuery, inQuery, isOpenIncident, sanitizeFilters,
} from '../../src/cityops/web/static/js/model.js';
import { incident } from './fixtures.mjs';

const f = (over = {}) => ({ ...DEFAULT_FILTERS, ...over });

test('the default filter shows open incidents of every sector and agency', () => {
  for (const status of ['new', 'acknowledged', 'dispatched', 'on_scene']) {
    assert.equal(incidentMatchesFilters(incident({ status }), f()), true, status);
    assert.equal(isOpenIncident({ status }), true);
  }
  for (const status of ['resolved', 'closed', 'cancelled']) {
    assert.equal(incidentMatchesFilters(incident({ status }), f()), false, status);
    assert.equal(isOpenIncident({ status }), false);
  }
});

test('status filter: one status, or all', () => {
  assert.equal(incidentMatchesFilters(incident({ status: 'resolved' }), f({ status: 'resolved' })), true);
  assert.equal(incidentMatchesFilters(incident({ status: 'new' }), f({ status: 'resolved' })), false);
  assert.equal(incidentMatchesFilters(incident({ status: 'cancelled' }), f({ status: 'all' })), true);
});

test('sector filter', () => {
  assert.equal(incidentMatchesFilters(incident({ sector: 'transport' }), f({ sector: 'transport' })), true);
  assert.equal(incidentMatchesFilters(incident({ sector: 'disaster' }), f({ sector: 'transport' })), false);
});

test('agency filter: the assigned agency, else the proposed one; or unassigned', () => {
  const proposed = incident({ proposed_agency: 'police', assigned_agency: null });
  const assigned = incident({ proposed_agency: 'police', assigned_agency: 'fire' });
  assert.equal(incidentMatchesFilters(proposed, f({ agency: 'police' })), true);
  assert.equal(incidentMatchesFilters(assigned, f({ agency: 'police' })), false);
  assert.equal(incidentMatchesFilters(assigned, f({ agency: 'fire' })), true);
  assert.equal(incidentMatchesFilters(proposed, f({ agency: '__none' })), true);
  assert.equal(incidentMatchesFilters(assigned, f({ agency: '__none' })), false);
});

test('order: most severe first, then the longest waiting, then by number', () => {
  const a = incident({ id: 10, severity: 'minor', created_at: '2026-12-03T07:00:00Z' });
  const b = incident({ id: 11, severity: 'extreme', created_at: '2026-12-03T09:00:00Z' });
  const c = incident({ id: 12, severity: 'severe', created_at: '2026-12-03T08:30:00Z' });
  const d = incident({ id: 13, severity: 'severe', created_at: '2026-12-03T08:00:00Z' });
  const e = incident({ id: 9, severity: 'severe', created_at: '2026-12-03T08:00:00Z' });
  assert.deepEqual([a, b, c, d, e].sort(compareIncidents).map((i) => i.id), [11, 9, 13, 12, 10]);
  assert.equal(compareIncidents(a, a), 0);
});

test('filteredIncidents: filter, then order', () => {
  const list = [
    incident({ id: 1, severity: 'minor' }),
    incident({ id: 2, severity: 'extreme', status: 'resolved' }),
    incident({ id: 3, severity: 'extreme' }),
    incident({ id: 4, severity: 'moderate', sector: 'transport' }),
  ];
  assert.deepEqual(filteredIncidents(list, f()).map((i) => i.id), [3, 4, 1]);
  assert.deepEqual(filteredIncidents(new Map(list.map((i) => [i.id, i])).values(), f({ status: 'all', sector: 'disaster' })).map((i) => i.id), [2, 3, 1]);
  assert.deepEqual(filteredIncidents([], f()), []);
});

test('saved filters are checked: unknown values fall back to the defaults', () => {
  assert.deepEqual(sanitizeFilters(null), DEFAULT_FILTERS);
  assert.deepEqual(sanitizeFilters({ sector: 'transport', status: 'closed', agency: 'police' }), { sector: 'transport', status: 'closed', agency: 'police' });
  assert.deepEqual(sanitizeFilters({ sector: 'nope', status: 42, extra: 1 }), DEFAULT_FILTERS);
});

test('the list query a status filter needs, and what it covers', () => {
  assert.deepEqual(incidentQuery(f()), { limit: 500, open: 'true' });
  assert.deepEqual(incidentQuery(f({ status: 'closed' })), { limit: 500, status: 'closed' });
  assert.deepEqual(incidentQuery(f({ status: 'all' })), { limit: 500 });
  assert.equal(inQuery(incident({ status: 'new' }), { limit: 1, open: 'true' }), true);
  assert.equal(inQuery(incident({ status: 'closed' }), { limit: 1, open: 'true' }), false);
  assert.equal(inQuery(incident({ status: 'closed' }), { limit: 1, status: 'closed' }), true);
  assert.equal(inQuery(incident({ status: 'closed' }), { limit: 1 }), true);
});
