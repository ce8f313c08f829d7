// Agency shares without the DOM: the token from the link's fragment, status and time left, the
// server's refusals, the durations offered, the order of the incident's shares, labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  agencyOptions, countdown, durationChoices, extendChoices, failureOf, labelIn, msLeft, orderShares, preferredAgency, sameIds, shareStatus, tokenFromHash,
} from '../../src/cityops/web/static/js/share/model.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const TOKEN = 'Zr1d2uK8m0x_QbqYt-3nVh9c4LwPa7sEoJ5fGi6kTyU'; // secrets.token_urlsafe(32)

test('the token comes from the fragment, as the link carries it', () => {
  assert.equal(tokenFromHash(`#${TOKEN}`), TOKEN);
  assert.equal(tokenFromHash(TOKEN), TOKEN);
  assert.equal(tokenFromHash(`#token=${TOKEN}`), TOKEN);
  // pasted from a mail: a full stop or a bracket after the link, spaces
  assert.equal(tokenFromHash(`#${TOKEN}.`), TOKEN);
  assert.equal(tokenFromHash(`#${TOKEN}>`), TOKEN);
  assert.equal(tokenFromHash(`# ${TOKEN} `), TOKEN);
});

test('what cannot be a token is never sent', () => {
  for (const bad of ['', '#', '#short', '#/m/testtown/incidents/4', `#${TOKEN}&x=1`, `#${TOKEN.slice(0, 10)}<script>`, `#${'a'.repeat(300)}`, '#ab cd efgh ijkl mnop']) {
    assert.equal(tokenFromHash(bad), null, bad);
  }
});

test('random fragments: a token found is always URL-safe base64 of a sane length', () => {
  const alphabet = 'abcXYZ019-_#=.;:!? <>"\'&%/\\\u0430\u00e9\u{1f600}';
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 3000; i += 1) {
    const len = rand(80);
    let s = '';
    for (let j = 0; j < len; j += 1) s += alphabet[rand(alphabet.length)] ?? '';
    const found = tokenFromHash(s);
    if (found !== null) {
      assert.match(found, /^[A-Za-z0-9_-]{16,256}$/);
      assert.ok(s.includes(found));
    }
  }
});

test('status: revoked wins, then expired at the second it ends', () => {
  const share = { expires_at: '2026-12-03T12:00:01Z', revoked_at: null };
  assert.equal(shareStatus(share, NOW), 'active');
  assert.equal(shareStatus(share, NOW + 1000), 'expired');
  assert.equal(shareStatus({ ...share, revoked_at: '2026-12-03T11:00:00Z' }, NOW), 'revoked');
  assert.equal(shareStatus({ expires_at: 'nonsense', revoked_at: null }, NOW), 'expired');
});

test('time left and its countdown', () => {
  assert.equal(msLeft('2026-12-03T12:05:00Z', NOW), 300_000);
  assert.equal(msLeft('2026-12-03T11:00:00Z', NOW), 0);
  assert.equal(msLeft('garbage', NOW), 0);
  assert.equal(countdown(0), '0:00');
  assert.equal(countdown(-5000), '0:00');
  assert.equal(countdown(59_999), '0:59');
  assert.equal(countdown(245_000), '4:05');
  assert.equal(countdown(3_845_000), '1:04:05');
  assert.equal(countdown(2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5000), '2 d 03:04:05');
});

test('why a link was refused: the 410 body says expired or revoked', () => {
  assert.equal(failureOf(410, { detail: 'the share was revoked' }), 'revoked');
  assert.equal(failureOf(410, { detail: { status: 'revoked' } }), 'revoked');
  assert.equal(failureOf(410, { status: 'revoked' }), 'revoked');
  assert.equal(failureOf(410, { detail: 'the share expired at 12:00' }), 'expired');
  assert.equal(failureOf(410, null), 'expired');
  assert.equal(failureOf(404, { detail: 'revoked' }), 'invalid');
  assert.equal(failureOf(422, null), 'invalid');
  assert.equal(failureOf(401, null), 'invalid');
  assert.equal(failureOf(0, null), 'unavailable');
  assert.equal(failureOf(429, null), 'unavailable');
  assert.equal(failureOf(503, { detail: 'revoked' }), 'unavailable');
});

test('durations offered: steps up to the maximum, the default among them', () => {
  assert.deepEqual(durationChoices(120, 480), [15, 30, 60, 120, 240, 480]);
  assert.deepEqual(durationChoices(90, 240), [15, 30, 60, 90, 120, 240]);
  assert.deepEqual(durationChoices(600, 240), [15, 30, 60, 120, 240]); // a default beyond the maximum is not offered
  assert.deepEqual(durationChoices(5, 10), [5]);
  assert.deepEqual(durationChoices(Number.NaN, Number.NaN).at(-1), 1440);
  for (const [d, m] of [[60, 60], [30, 45], [1, 1], [240, 10080]]) {
    const c = durationChoices(d, m);
    assert.ok(c.every((x) => x >= 1 && x <= m), `${d}/${m}: ${c}`);
    assert.deepEqual(c, [...c].sort((a, b) => a - b));
  }
});

test('the incident\'s shares: active ones first, soonest to end; then ended ones, newest first', () => {
  const s = (id, created, expires, revoked = null) => ({ id, created_at: created, expires_at: expires, revoked_at: revoked });
  const list = [
    s(1, '2026-12-03T08:00:00Z', '2026-12-03T09:00:00Z'), // expired
    s(2, '2026-12-03T11:00:00Z', '2026-12-03T15:00:00Z'),
    s(3, '2026-12-03T11:30:00Z', '2026-12-03T13:00:00Z'),
    s(4, '2026-12-03T10:00:00Z', '2026-12-03T18:00:00Z', '2026-12-03T10:30:00Z'), // revoked
  ];
  assert.deepEqual(orderShares(list, NOW).map((x) => x.id), [3, 2, 4, 1]);
  assert.deepEqual(list.map((x) => x.id), [1, 2, 3, 4]); // the input is left as it was
});

test('labels in the interface language, agencies as ids or objects', () => {
  const p = { id: 'theft', label: 'Theft', label_local: 'Кражба' };
  assert.equal(labelIn(p, 'bg'), 'Кражба');
  assert.equal(labelIn(p, 'en'), 'Theft');
  assert.equal(labelIn({ id: 'x', label: 'X', label_local: null }, 'bg'), 'X');
  assert.equal(labelIn({ id: 'only-id' }, 'en'), 'only-id');
  assert.equal(labelIn(null, 'en'), '');
  const options = agencyOptions(['police', { id: 'fire', name: 'Fire 119', name_local: 'Пожарна' }, 'police', { id: '' }]);
  assert.deepEqual(options, [
    { id: 'police', name: 'police', name_local: null },
    { id: 'fire', name: 'Fire 119', name_local: 'Пожарна' },
  ]);
  assert.equal(preferredAgency(options, { assigned_agency: 'fire', proposed_agency: 'police' }), 'fire');
  assert.equal(preferredAgency(options, { assigned_agency: 'traffic', proposed_agency: 'police' }), 'police');
  assert.equal(preferredAgency(options, { assigned_agency: null, proposed_agency: 'civil' }), 'police');
  assert.equal(preferredAgency([], { assigned_agency: 'fire' }), '');
});

test('the shared cameras changed or not, in any order', () => {
  assert.equal(sameIds(['cam-a', 'cam-b'], ['cam-b', 'cam-a']), true);
  assert.equal(sameIds([], []), true);
  assert.equal(sameIds(['cam-a'], ['cam-a', 'cam-b']), false);
  assert.equal(sameIds(['cam-a', 'cam-a'], ['cam-a', 'cam-b']), false);
  assert.equal(sameIds(['cam-a', 'cam-b'], ['cam-a', 'cam-c']), false);
});

test('extending: from now, never shorter than now, the whole life within the maximum', () => {
  // made 30 min ago for 1 h (30 min left), maximum 6 h: 1 h .. 5 h 30 from now
  const share = { created_at: '2026-12-03T11:30:00Z', expires_at: '2026-12-03T12:30:00Z' };
  assert.deepEqual(extendChoices(share, 360, NOW), [60, 120, 240, 330]);
  // 5 h 50 of 6 h used, 5 min left: only 10 min more from now fits
  const old = { created_at: '2026-12-03T06:10:00Z', expires_at: '2026-12-03T12:05:00Z' };
  assert.deepEqual(extendChoices(old, 360, NOW), [10]);
  assert.deepEqual(extendChoices({ created_at: '2026-12-03T06:00:00Z', expires_at: '2026-12-03T12:00:30Z' }, 360, NOW), []);
  assert.deepEqual(extendChoices({ created_at: 'x', expires_at: 'y' }, 360, NOW), []);
});
