// Geometry of the map: destinations, distances, bearings, camera cones.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { angleBetween, bearingDeg, cameraSees, compassKey, destination, distanceM, fovCone } from '../../src/cityops/web/static/js/geo.js';

const SOFIA = [42.6977, 23.3219];
const close = (a, b, eps, msg) => assert.ok(Math.abs(a - b) <= eps, `${msg ?? ''} ${a} ≉ ${b} (±${eps})`);

test('one degree of latitude is about 111.2 km', () => {
  close(distanceM(42, 23, 43, 23), 111195, 5);
  assert.equal(distanceM(...SOFIA, ...SOFIA), 0);
});

test('destination goes the given distance in the given direction', () => {
  for (const bearing of [0, 45, 90, 180, 270, 359]) {
    const [lat, lon] = destination(...SOFIA, bearing, 500);
    close(distanceM(...SOFIA, lat, lon), 500, 0.01, `bearing ${bearing}`);
    close(angleBetween(bearingDeg(...SOFIA, lat, lon), bearing), 0, 1e-6, `bearing ${bearing}`);
  }
  const [north] = destination(...SOFIA, 0, 1000);
  assert.ok(north > SOFIA[0]);
});

test('destination wraps longitude across the antimeridian', () => {
  const [, lon] = destination(0, 179.999, 90, 1000);
  assert.ok(lon < -179.99 && lon >= -180, String(lon));
});

test('bearings: north, east, south, west', () => {
  close(bearingDeg(42, 23, 43, 23), 0, 1e-9);
  close(bearingDeg(42, 23, 42, 24), 90, 0.5);
  close(bearingDeg(43, 23, 42, 23), 180, 1e-9);
  close(bearingDeg(42, 24, 42, 23), 270, 0.5);
});

test('angleBetween takes the short way round', () => {
  assert.equal(angleBetween(350, 10), 20);
  assert.equal(angleBetween(10, 350), 20);
  assert.equal(angleBetween(90, 270), 180);
  assert.equal(angleBetween(0, 720), 0);
});

test('compass keys', () => {
  assert.deepEqual([0, 44, 46, 90, 180, 225, 270, 315, 337, 338, -45, 720].map(compassKey), ['n', 'ne', 'ne', 'e', 's', 'sw', 'w', 'nw', 'nw', 'n', 'nw', 'n']);
});

test('a field-of-view cone starts at the camera and spans the field of view', () => {
  const cone = fovCone(...SOFIA, 90, 60, 100, 6);
  assert.deepEqual(cone[0], SOFIA);
  assert.equal(cone.length, 1 + 11); // camera + 10 steps + 1
  for (const p of cone.slice(1)) close(distanceM(...SOFIA, ...p), 100, 0.01);
  close(bearingDeg(...SOFIA, ...cone[1]), 60, 0.01);
  close(bearingDeg(...SOFIA, ...cone[cone.length - 1]), 120, 0.01);
});

test('a 360° camera is a circle, and nonsense inputs are clamped', () => {
  const circle = fovCone(...SOFIA, 0, 360, 50);
  assert.notDeepEqual(circle[0], SOFIA);
  close(distanceM(...circle[0], ...circle[circle.length - 1]), 0, 0.01);
  const tiny = fovCone(...SOFIA, Number.NaN, 0, 0);
  assert.ok(tiny.length >= 3);
  for (const p of tiny.slice(1)) close(distanceM(...SOFIA, ...p), 1, 0.01);
});

test('cameraSees: within range and within half the field of view', () => {
  const cam = { position: { lat: SOFIA[0], lon: SOFIA[1] }, heading_deg: 90, fov_deg: 60, range_m: 100 };
  const at = (bearing, dist) => destination(...SOFIA, bearing, dist);
  assert.equal(cameraSees(cam, ...at(90, 50)), true);
  assert.equal(cameraSees(cam, ...at(119, 50)), true);
  assert.equal(cameraSees(cam, ...at(121, 50)), false);
  assert.equal(cameraSees(cam, ...at(90, 101)), false);
  assert.equal(cameraSees(cam, ...at(270, 50)), false);
  assert.equal(cameraSees({ ...cam, fov_deg: 360 }, ...at(270, 50)), true);
  assert.equal(cameraSees({ ...cam, position: null }, ...SOFIA), false);
});
