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
