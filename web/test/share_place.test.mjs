// A share of a place without the DOM: the radii offered, the cameras the server would share
// (they see the point and stand within the radius), point shares among a municipality's.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { destination } from '../../src/cityops/web/static/js/geo.js';
import {
  activePointShares, camerasSharedAt, countWithin, defaultRadius, RADIUS_MAX_M, radiusChoices, radiusLimit,
} from '../../src/cityops/web/static/js/share/place.js';

const POINT = { lat: 42.6194, lon: 25.3925 };

/** A camera `dist` metres from the point in direction `from`, looking at `heading`. */
function cam(id, from, dist, heading, fov = 60, range = 150) {
  const [lat, lon] = destination(POINT.lat, POINT.lon, from, dist);
  return { id, position: { lat, lon }, heading_deg: heading, fov_deg: fov, range_m: range };
}

test('the radius offered never passes the server limit and holds the default', () => {
  assert.equal(radiusLimit(null), RADIUS_MAX_M);
  assert.equal(radiusLimit({ max_radius_m: 500 }), 500);
  assert.equal(radiusLimit({ max_radius_m: 99999 }), RADIUS_MAX_M);
  assert.equal(radiusLimit({ max_radius_m: -1 }), RADIUS_MAX_M);
  assert.deepEqual(radiusChoices(200, 300), [25, 50, 100, 150, 200, 300]);
  assert.deepEqual(radiusChoices(120, 300), [25, 50, 100, 120, 150, 200, 300]);
  assert.ok(radiusChoices(5000, 2000).every((r) => r <= 2000));
  assert.equal(defaultRadius(5000, 2000), 2000);
  assert.equal(defaultRadius(null, 2000), 150);
  assert.equal(defaultRadius(0, 2000), 150);
  assert.equal(defaultRadius(200, 2000), 200);
});

test('only cameras that see the point within the radius are shared, nearest first', () => {
  const west = cam('west', 270, 60, 90); // 60 m west, looking east at the point
  const north = cam('north', 0, 40, 180); // 40 m north, looking south at it
  const away = cam('away', 90, 30, 90); // 30 m east, looking further east: does not see it
  const far = cam('far', 180, 120, 0, 60, 300); // 120 m south looking north: sees it, beyond 100 m
  const blind = { id: 'blind', position: null };
  const got = (r) => camerasSharedAt(POINT, [west, north, away, far, blind], r).map((x) => x.camera.id);
  assert.deepEqual(got(100), ['north', 'west']);
  assert.deepEqual(got(50), ['north']);
  assert.deepEqual(got(200), ['north', 'west', 'far']);
  assert.deepEqual(got(10), []);
  const [first] = camerasSharedAt(POINT, [north], 100);
  assert.ok(Math.abs(first.distance_m - 40) < 0.5);
});

test('a camera beyond its own range does not see the point whatever the radius', () => {
  const short = cam('short', 270, 60, 90, 60, 50);
  assert.deepEqual(camerasSharedAt(POINT, [short], 2000), []);
  const round = cam('dome', 270, 40, 0, 360, 100); // a 360° camera sees all around it
  assert.deepEqual(camerasSharedAt(POINT, [round], 50).map((x) => x.camera.id), ['dome']);
});

test("an incident's cameras within a radius", () => {
  const seeing = [{ distance_m: 20 }, { distance_m: 80 }, { distance_m: 150 }];
  assert.equal(countWithin(seeing, 100), 2);
  assert.equal(countWithin(seeing, 150), 3);
  assert.equal(countWithin([], 150), 0);
});

test('point shares active now, not those of incidents or ended ones', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  const base = { incident_id: null, expires_at: '2026-12-03T13:00:00Z', revoked_at: null };
  const list = [
    { id: 1, ...base },
    { id: 2, ...base, incident_id: 7 },
    { id: 3, ...base, expires_at: '2026-12-03T11:59:59Z' },
    { id: 4, ...base, revoked_at: '2026-12-03T11:00:00Z' },
  ];
  assert.deepEqual(activePointShares(list, now).map((s) => s.id), [1]);
});
