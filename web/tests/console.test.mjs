// Unit tests of the console's pure parts: position formatting, alert ranking,
// filters, grouping and the banner's choice, label collisions, search
// matching, point-in-zone, and the "typing in a field" guard of the keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPosition } from '../src/position.js';
import { buildRows, compareAlerts, bannerView, bannerKey, kindCounts, unackedOf, isAcked } from '../src/alert-order.js';
import { Occupancy, overlaps } from '../src/labels.js';
import { pointInGeometry } from '../src/geo.js';
import { typing } from '../src/keys.js';

test('positions read like the server writes them (degrees, decimal minutes)', () => {
  assert.equal(formatPosition(34.7, 13.1), "34°42.0'N 013°06.0'E");
  assert.equal(formatPosition(-1.5, -70.25), "01°30.0'S 070°15.0'W");
  assert.equal(formatPosition(34.70061, 13.10042), "34°42.0'N 013°06.0'E");
  // 59.97' rounds up into the next degree, not to "60.0'".
  assert.equal(formatPosition(35.9995, 12.0), "36°00.0'N 012°00.0'E");
  assert.equal(formatPosition(10, 190), "10°00.0'N 170°00.0'W");
  assert.equal(formatPosition(null, 1), '–');
});

let n = 0;
const alert = (o) => ({
  id: `a-${String(++n).padStart(6, '0')}`, kind: 'zone_enter', severity: 'info', state: 'raised',
  time: '2026-11-28T06:00:00Z', raised_at: '2026-11-28T06:00:00Z', acknowledged_by: null, zone: 'malta_srr', message: 'm', ...o,
});

test('alerts rank by severity, then unacknowledged first, then newest', () => {
  const list = [
    alert({ kind: 'zone_exit', time: '2026-11-28T06:30:00Z', zone: 'a' }),
    alert({ severity: 'warning', kind: 'encounter', time: '2026-11-28T06:01:00Z', zone: null }),
    alert({ severity: 'critical', kind: 'distress_beacon', state: 'acknowledged', acknowledged_by: 'x', zone: null }),
    alert({ severity: 'warning', kind: 'ais_gap', time: '2026-11-28T06:20:00Z', zone: null }),
    alert({ severity: 'warning', kind: 'loitering', state: 'cleared', time: '2026-11-28T06:40:00Z', zone: null }),
    alert({ severity: 'warning', kind: 'loitering', state: 'cleared', acknowledged_by: 'x', time: '2026-11-28T06:50:00Z', zone: null }),
  ];
  const order = [...list].sort(compareAlerts).map((a) => `${a.severity}/${a.kind}/${a.state}${isAcked(a) ? '+ack' : ''}`);
  assert.deepEqual(order, [
    'critical/distress_beacon/acknowledged+ack',
    'warning/ais_gap/raised', 'warning/encounter/raised', 'warning/loitering/cleared', 'warning/loitering/cleared+ack',
    'info/zone_exit/raised',
  ]);
});

test('repeated enter/exit of one zone collapse into one row; filters apply first', () => {
  const list = [
    alert({ zone: 'malta_srr', time: '2026-11-28T06:05:00Z' }),
    alert({ zone: 'malta_srr', kind: 'zone_exit', time: '2026-11-28T06:07:00Z' }),
    alert({ zone: 'malta_srr', time: '2026-11-28T06:01:00Z' }),
    alert({ zone: 'libya_srr', time: '2026-11-28T06:02:00Z' }),
    alert({ zone: 'malta_srr', state: 'acknowledged', acknowledged_by: 'x' }),
    alert({ severity: 'warning', kind: 'zone_exit', zone: 'lampedusa_approaches' }),
  ];
  const rows = buildRows(list);
  assert.deepEqual(rows.map((r) => [r.key.startsWith('g:') ? 'group' : 'one', r.alerts.length]), [
    ['one', 1], // the warning first
    ['group', 3], // malta, unacknowledged, newest first
    ['one', 1], // libya
    ['one', 1], // malta acknowledged: its own row, below
  ]);
  assert.equal(rows[1].alerts[0].kind, 'zone_exit', 'the newest member heads the group');
  const onlyExits = buildRows(list, { kind: 'zone_exit' });
  assert.ok(onlyExits.every((r) => r.alerts.every((a) => a.kind === 'zone_exit')));
  const noInfo = buildRows(list, { severities: new Set(['critical', 'warning']) });
  assert.deepEqual(noInfo.map((r) => r.alerts[0].severity), ['warning']);
  assert.deepEqual(kindCounts(list)[0], ['zone_enter', 4]);
  assert.equal(unackedOf(list, 'info', 'zone_enter').length, 3);
});

test('the banner shows the newest unacknowledged critical alert and how many; dismissing is per version', () => {
  const a1 = alert({ severity: 'critical', kind: 'distress_beacon', raised_at: '2026-11-28T06:20:00Z', time: '2026-11-28T06:20:00Z' });
  const a2 = alert({ severity: 'critical', kind: 'distress_beacon', raised_at: '2026-11-28T06:30:00Z', time: '2026-11-28T06:30:00Z' });
  const info = alert({});
  let v = bannerView([a1, a2, info]);
  assert.equal(v.show, true);
  assert.equal(v.head.id, a2.id);
  assert.equal(v.count, 2);
  // Acknowledging the newest leaves the other on the banner.
  v = bannerView([a1, { ...a2, state: 'acknowledged', acknowledged_by: 'x' }]);
  assert.equal(v.head.id, a1.id);
  assert.equal(v.count, 1);
  // A cleared but unacknowledged critical alert still counts.
  assert.equal(bannerView([{ ...a1, state: 'cleared' }]).show, true);
  // Dismissed: hidden until an update (a new time) or a new alert.
  const dismissed = new Set([bannerKey(a1)]);
  assert.equal(bannerView([a1], dismissed).show, false);
  assert.equal(bannerView([{ ...a1, time: '2026-11-28T06:25:00Z', state: 'updated' }], dismissed).show, true);
  assert.equal(bannerView([a1, a2], dismissed).show, true);
  assert.equal(bannerView([info]).show, false);
});

test('label placement skips a box that overlaps one placed or reserved', () => {
  const occ = new Occupancy();
  occ.add([100, 100, 200, 130]); // a zone name
  assert.equal(occ.place([150, 120, 260, 134]), false);
  assert.equal(occ.place([201, 100, 300, 114]), true);
  assert.equal(occ.place([250, 110, 320, 124]), false, 'overlaps the label just placed');
  assert.equal(occ.place([-50, -20, 10, -6]), true, 'off the top-left edge is fine');
  assert.equal(overlaps([0, 0, 10, 10], [10, 0, 20, 10]), false, 'touching is not overlapping');
});

test('point in zone, and the typing guard of the keyboard shortcuts', () => {
  const square = { type: 'Polygon', coordinates: [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]] };
  assert.equal(pointInGeometry(2, 2, square), true);
  assert.equal(pointInGeometry(5, 5, square), false, 'in the hole');
  assert.equal(pointInGeometry(12, 5, square), false);
  assert.equal(pointInGeometry(12, 5, { type: 'MultiPolygon', coordinates: [square.coordinates, [[[11, 4], [13, 4], [13, 6], [11, 4]]]] }), true);
  assert.equal(typing({ tagName: 'INPUT' }), true);
  assert.equal(typing({ tagName: 'TEXTAREA' }), true);
  assert.equal(typing({ tagName: 'DIV', isContentEditable: true }), true);
  assert.equal(typing({ tagName: 'BUTTON' }), false);
  assert.equal(typing(null), false);
});
