import { test } from 'node:test';
import assert from 'node:assert/strict';
import { areaCentre, circleArea, personBody, photoProblem, sortedPersons } from '../../src/cityops/web/static/js/persons/model.js';

/** great-circle distance in metres */
function metres(a, b) {
  const R = 6371008.8;
  const r = Math.PI / 180;
  const dφ = (b[1] - a[1]) * r;
  const dλ = (b[0] - a[0]) * r;
  const s = Math.sin(dφ / 2) ** 2 + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.sin(dλ / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(s));
}

const VALID = { kind: 'child', name: ' Maria P. ', guardian_name: 'Elena P.', guardian_phone: '+359 88 123 4567', device_id: 'tracker-1', notes: '', area: [] };

test('a circle becomes a polygon whose corners lie on the circle', () => {
  const area = circleArea(25.39, 42.62, 250);
  assert.equal(area.length, 32);
  for (const c of area) assert.ok(Math.abs(metres([25.39, 42.62], c) - 250) < 0.5, `${c}`);
  const centre = areaCentre(area);
  assert.ok(centre && metres(centre, [25.39, 42.62]) < 1);
});

test('circle corners stay on the circle anywhere (a seeded sweep of places and radii)', () => {
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 500; i += 1) {
    const lon = -179 + next() * 358;
    const lat = -80 + next() * 160;
    const r = 5 + next() * 19995;
    const area = circleArea(lon, lat, r, 12);
    assert.equal(area.length, 12);
    for (const c of area) {
      assert.ok(c[0] >= -180 && c[0] <= 180 && c[1] >= -90 && c[1] <= 90);
      assert.ok(Math.abs(metres([lon, lat], c) - r) < Math.max(0.5, r * 1e-4), `${lon} ${lat} ${r} ${c}`);
    }
  }
});

test('no circle without a radius or a place', () => {
  assert.deepEqual(circleArea(25, 42, 0), []);
  assert.deepEqual(circleArea(25, 42, -5), []);
  assert.deepEqual(circleArea(Number.NaN, 42, 100), []);
  assert.equal(areaCentre([]), null);
});

test('the person body is trimmed and needs what the server needs', () => {
  const ok = personBody(VALID);
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.body.name, 'Maria P.');
  assert.deepEqual(ok.body.safe_area, []);
  const bad = personBody({ ...VALID, kind: 'adult', name: ' ', guardian_name: '', guardian_phone: '+3', device_id: '', area: [[1, 2], [3, 4]] });
  assert.deepEqual(bad.problems, [
    'persons_registry.need_kind',
    'persons_registry.need_name',
    'persons_registry.need_guardian',
    'persons_registry.need_phone',
    'persons_registry.need_device',
    'persons_registry.need_corners',
  ]);
  const area = personBody({ ...VALID, area: circleArea(25, 42, 100, 8) });
  assert.equal(area.body.safe_area.length, 8);
  assert.deepEqual(area.problems, []);
});

test('a photo must be a JPEG or PNG within the size', () => {
  assert.equal(photoProblem({ type: 'image/png', size: 1000 }), null);
  assert.equal(photoProblem({ type: 'image/gif', size: 1000 }), 'persons_registry.photo_type');
  assert.equal(photoProblem({ type: 'image/jpeg', size: 10 }, 5), 'persons_registry.photo_size');
});

test('the list reads by name', () => {
  const list = [{ id: 3, name: 'Zora' }, { id: 1, name: 'Ana' }, { id: 2, name: 'Ana' }];
  assert.deepEqual(sortedPersons(list).map((p) => p.id), [1, 2, 3]);
});

test('the registry tab is offered with persons.view, last', async () => {
  const { viewsFor } = await import('../../src/cityops/web/static/js/access.js');
  const member = (permissions) => ({ username: 'u', display_name: 'u', installation_admin: false, via: 'session', csrf: null, memberships: [{ municipality: 'm', role: 'operator', agency: null, expires_at: null, unmasked_video: false, permissions }] });
  assert.deepEqual(viewsFor(member(['incidents.read', 'persons.view']), 'm'), ['ops', 'persons']);
  assert.deepEqual(viewsFor(member(['incidents.read', 'audit.read', 'persons.view', 'persons.manage']), 'm'), ['ops', 'audit', 'persons']);
  assert.deepEqual(viewsFor(member(['incidents.read']), 'm'), ['ops']);
  assert.deepEqual(viewsFor(member(['persons.view']), 'other'), []);
});
