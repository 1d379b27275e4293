// Unit tests of the geometry helpers (antimeridian handling).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { viewBoxes, cutLine, cutPolygon, clipRingToBox, nearLon } from '../src/geo.js';

test('viewBoxes: plain, across the antimeridian, whole world', () => {
  assert.deepEqual(viewBoxes(11, 33, 16.5, 37.5), [[11, 33, 16.5, 37.5]]);
  assert.deepEqual(viewBoxes(170, -20, 190, -10), [[170, -20, 180, -10], [-180, -20, -170, -10]]);
  assert.deepEqual(viewBoxes(-190, -20, -170, -10), [[170, -20, 180, -10], [-180, -20, -170, -10]]);
  assert.deepEqual(viewBoxes(190, 0, 200, 10), [[-170, 0, -160, 10]]);
  assert.deepEqual(viewBoxes(-300, -80, 300, 80), [[-180, -80, 180, 80]]);
});

test('cutLine splits at the antimeridian with no segment wider than 180°', () => {
  const parts = cutLine([[170, 0], [179, 1], [-179, 2], [-170, 3]]);
  assert.equal(parts.length, 2);
  assert.deepEqual(parts[0].at(-1), [180, 1.5]);
  assert.deepEqual(parts[1][0], [-180, 1.5]);
});

test('cutPolygon: a ring across 180° becomes two rings inside [-180, 180]', () => {
  const polys = cutPolygon([[[170, -10], [-170, -10], [-170, 10], [170, 10], [170, -10]]]);
  assert.equal(polys.length, 2);
  for (const [ring] of polys) {
    for (const [x] of ring) assert.ok(x >= -180 && x <= 180);
    for (let i = 1; i < ring.length; i++) assert.ok(Math.abs(ring[i][0] - ring[i - 1][0]) <= 180);
  }
});

test('cutPolygon closes a ring around the pole along the pole', () => {
  const ring = [[-180, -70], [-90, -72], [0, -70], [90, -72], [180, -70]];
  const polys = cutPolygon([[...ring.slice(0, 4), [179.9, -70], [-180, -70]]]);
  assert.ok(polys.length >= 1);
  assert.ok(polys.some(([r]) => r.some(([, y]) => y === -90)));
});

test('clipRingToBox and nearLon', () => {
  const r = clipRingToBox([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [5, -5, 15, 5]);
  assert.deepEqual(r[0], r.at(-1));
  const key = (p) => p.join(',');
  assert.deepEqual(new Set(r.map(key)), new Set(['5,0', '10,0', '10,5', '5,5']));
  assert.equal(nearLon(-179, 179), 181);
  assert.equal(nearLon(10, 0), 10);
});
