// The console's deep links (js/deeplink.js): the dispatch e-mail's `#/m/<mid>/incidents/<id>`.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { incidentLink, incidentLinkOf } from '../../src/cityops/web/static/js/deeplink.js';

test('an incident link gives its municipality and number', () => {
  assert.deepEqual(incidentLinkOf('#/m/kazanlak/incidents/42'), { mid: 'kazanlak', id: 42 });
  assert.deepEqual(incidentLinkOf('#/m/st%20zagora/incidents/7'), { mid: 'st zagora', id: 7 });
});

test('anything else is no link', () => {
  for (const hash of ['', '#', '#sso-error=denied', '#/m/kazanlak', '#/m/kazanlak/incidents/', '#/m/kazanlak/incidents/0',
    '#/m/kazanlak/incidents/-1', '#/m/kazanlak/incidents/1.5', '#/m/kazanlak/incidents/99999999999', '#/m//incidents/3',
    '#/m/%E0%A4%A/incidents/3', '#/m/kazanlak/incidents/3/extra', '#/m/a/b/incidents/3', '#/m/kazanlak/incidents/2147483648']) {
    assert.equal(incidentLinkOf(hash), null, hash);
  }
  assert.deepEqual(incidentLinkOf('#/m/kazanlak/incidents/2147483647'), { mid: 'kazanlak', id: 2147483647 });
});

test('a link written is a link read', () => {
  for (const [mid, id] of [['kazanlak', 1], ['град с интервал', 123456], ['a/b?c#d', 9]]) {
    assert.deepEqual(incidentLinkOf(incidentLink(mid, id)), { mid, id });
  }
});

test('any hash at all: never an exception, and a link read is one written (seeded fuzz)', () => {
  let seed = 20261203;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pieces = ['#', '/', 'm', 'incidents', '%', '%E0', '%2F', 'kazanlak', '0', '7', '42', '2147483647', '9999999999', '?', '#', 'ж', ' ', '-', '..'];
  for (let i = 0; i < 5000; i += 1) {
    const n = Math.floor(rand() * 8);
    let hash = rand() < 0.5 ? '#/m/' : '';
    for (let k = 0; k < n; k += 1) hash += pieces[Math.floor(rand() * pieces.length)];
    if (rand() < 0.3) hash += `/incidents/${Math.floor(rand() * 1e6)}`;
    const got = incidentLinkOf(hash);
    if (got === null) continue;
    assert.ok(got.mid.length > 0 && got.mid.length <= 64, hash);
    assert.ok(Number.isInteger(got.id) && got.id >= 1 && got.id <= 2 ** 31 - 1, hash);
    assert.deepEqual(incidentLinkOf(incidentLink(got.mid, got.id)), got, hash);
  }
});
