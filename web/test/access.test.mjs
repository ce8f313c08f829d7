// What the console offers each role, from GET /auth/me: permissions per municipality, expired
// memberships, the municipality switcher, the views, the CSRF refusal and single sign-on errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  can, incidentRights, isCsrfRefusal, membershipIn, ssoErrorOf, viewsFor, visibleMunicipalities,
} from '../../src/cityops/web/static/js/access.js';

const NOW = new Date('2026-12-03T10:00:00Z');
const OPERATE = ['incidents.read', 'incidents.act', 'incidents.note', 'sources.read', 'video.view', 'system.read'];

/** @param {object[]} memberships */
const me = (memberships) => ({ username: 'u', display_name: 'U', installation_admin: false, via: 'session', csrf: 'c', memberships });
const member = (municipality, role, permissions, expires_at = null, agency = null) => ({
  municipality, role, agency, expires_at, unmasked_video: false, permissions,
});

test('permissions come from the membership in that municipality only', () => {
  const m = me([member('kazanlak', 'operator', OPERATE), member('shipka', 'analyst', ['incidents.read', 'sources.read', 'system.read'])]);
  assert.equal(can(m, 'kazanlak', 'incidents.act', NOW), true);
  assert.equal(can(m, 'shipka', 'incidents.act', NOW), false);
  assert.equal(can(m, 'shipka', 'incidents.read', NOW), true);
  assert.equal(can(m, 'elsewhere', 'incidents.read', NOW), false);
  assert.equal(can(null, 'kazanlak', 'incidents.read', NOW), false);
  assert.deepEqual(incidentRights(m, 'shipka', NOW), { act: false, note: false, foreign: false });
  assert.deepEqual(incidentRights(m, 'kazanlak', NOW), { act: true, note: true, foreign: false });
  // handed over from shipka to kazanlak: kazanlak may add notes, shipka acts on it
  assert.deepEqual(incidentRights(m, 'kazanlak', NOW, 'shipka'), { act: false, note: true, foreign: true });
  assert.deepEqual(incidentRights(m, 'kazanlak', NOW, 'kazanlak'), { act: true, note: true, foreign: false });
});

test('an expired membership counts for nothing, also in the switcher', () => {
  const m = me([member('kazanlak', 'liaison', ['incidents.read', 'incidents.note'], '2026-12-03T09:59:59Z', 'police'), member('shipka', 'operator', OPERATE)]);
  assert.equal(membershipIn(m, 'kazanlak', NOW), null);
  assert.equal(can(m, 'kazanlak', 'incidents.read', NOW), false);
  const list = [{ id: 'kazanlak' }, { id: 'shipka' }, { id: 'other' }];
  assert.deepEqual(visibleMunicipalities(m, list, NOW).map((x) => x.id), ['shipka']);
  assert.equal(can(m, 'kazanlak', 'incidents.read', new Date('2026-12-03T09:00:00Z')), true);
});

test('views per role: the auditor sees only the audit, the liaison no overview', () => {
  const views = (role, permissions) => viewsFor(me([member('m', role, permissions)]), 'm', NOW);
  assert.deepEqual(views('operator', OPERATE), ['ops', 'wall', 'overview']);
  assert.deepEqual(views('admin', [...OPERATE, 'audit.read']), ['ops', 'wall', 'overview', 'audit']);
  assert.deepEqual(views('auditor', ['audit.read']), ['audit']);
  assert.deepEqual(views('liaison', ['incidents.read', 'incidents.note', 'sources.read', 'video.view']), ['ops', 'wall']);
  assert.deepEqual(views('analyst', ['incidents.read', 'sources.read', 'system.read']), ['ops', 'overview']);
});

test('the CSRF refusal is told apart from other 403s', () => {
  assert.equal(isCsrfRefusal(403, 'a write through the console needs the X-CSRF-Token header'), true);
  assert.equal(isCsrfRefusal(403, 'incidents.act is needed in kazanlak'), false);
  assert.equal(isCsrfRefusal(401, 'X-CSRF-Token'), false);
  assert.equal(isCsrfRefusal(403, null), false);
});

test('a refused single sign-on comes back as #sso-error=<reason>', () => {
  assert.equal(ssoErrorOf('#sso-error=no_role'), 'no_role');
  assert.equal(ssoErrorOf('#incident=4&sso-error=state'), 'state');
  assert.equal(ssoErrorOf('#sso-error=<script>'), null);
  assert.equal(ssoErrorOf(''), null);
});
