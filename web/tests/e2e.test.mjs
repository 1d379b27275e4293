// End-to-end: the built client (web/dist) served by `lookout serve --replay`
// of a simulated central-Mediterranean scenario, in headless chromium.
//
// The replay runs at 60x: the scenario's AIS-SART activation (20 min of
// scenario time) happens about 20 s after the server starts.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer, startBrowser, openClient, shot, until, TOKEN } from './harness.mjs';

let server, browser, main;

const state = (page, fn, arg) => page.evaluate(fn, arg);

/** The HTTP API as the test's operator: [status, JSON body]. */
const call = (method, path, body) => fetch(`${server.base}${path}`, {
  method,
  headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
}).then(async (r) => [r.status, await r.json().catch(() => null)]);

const POSITION = /^\d\d°\d\d\.\d'[NS] \d{3}°\d\d\.\d'[EW]$/;
const overlap = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

describe('lookout web client', { timeout: 240000 }, () => {
  before(async () => {
    server = await startServer({ speed: '60', auth: true });
    browser = await startBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('loads the map with vessels in view, no console errors, nothing fetched from outside', async () => {
    main = await openClient(browser.context, server.base);
    const { page, rec } = main;
    await until(() => state(page, () => window.lookout?.connection === 'live'), { what: 'connection' });
    await until(() => state(page, () => window.lookout.vessels.visible > 20), { what: 'vessels on screen' });
    // The base map and the zones are drawn.
    await until(() => page.locator('.leaflet-land-pane canvas, .leaflet-pane canvas').count(), { what: 'land canvas' });
    await until(() => page.locator('.zone-label').count(), { what: 'zone labels' });
    assert.ok(await page.locator('.zone-label', { hasText: 'Malta search and rescue region' }).count());
    const inView = await state(page, () => {
      const b = window.lookout.map.getBounds();
      return [...window.lookout.vessels.vessels.values()].filter((v) => b.contains([v.lat, v.lon])).length;
    });
    assert.ok(inView > 20, `vessels inside the viewport: ${inView}`);
    assert.match(await page.locator('#conn').textContent(), /connected/);
    await until(() => page.locator('#st-mode', { hasText: 'REPLAY 60×' }).count(), { what: 'replay status' });
    assert.match(await page.locator('#st-time').textContent(), /^2026-11-28 \d\d:\d\d:\d\dZ$/);
    await shot(page, '01-loaded');
    const outside = rec.requests.filter((u) => !u.startsWith(`${server.base}/`) && !u.startsWith(`ws://127.0.0.1:${server.port}/`) && !u.startsWith('data:'));
    assert.deepEqual(outside, [], 'every request goes to the local server');
    assert.ok(rec.requests.some((u) => u.startsWith(`ws://127.0.0.1:${server.port}/ws?token=`)), 'WebSocket carries the token');
    assert.deepEqual(rec.errors, []);
  });

  it('vessels move', async () => {
    const { page } = main;
    const before = await state(page, () => Object.fromEntries([...window.lookout.vessels.vessels.values()]
      .filter((v) => v.state === 'live' && v.sog > 2).slice(0, 50).map((v) => [v.mmsi, [v.lat, v.lon]])));
    assert.ok(Object.keys(before).length > 5, 'some vessels under way');
    const moved = await until(() => state(page, (b) => Object.entries(b).filter(([m, [la, lo]]) => {
      const v = window.lookout.vessels.vessels.get(+m);
      return v && (v.lat !== la || v.lon !== lo);
    }).length, before), { what: 'positions to change' });
    assert.ok(moved > 3, `${moved} vessels moved`);
  });

  it('panning sends a new subscription and changes what is received', async () => {
    const { page, rec } = main;
    const subsBefore = rec.sent.filter((m) => m.type === 'subscribe').length;
    const setBefore = await state(page, () => [...window.lookout.vessels.vessels.keys()]);
    const box = await page.locator('#map').boundingBox();
    // Drag the map east by ~3/4 of its width (the view moves west, towards Tunisia).
    await page.mouse.move(box.x + box.width * 0.15, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    const sub = await until(() => rec.sent.filter((m) => m.type === 'subscribe')[subsBefore], { what: 'a new subscribe' });
    assert.equal(sub.id, 'map');
    const first = rec.sent.find((m) => m.type === 'subscribe');
    assert.ok(sub.bbox[0] < first.bbox[0] - 1, `the box moved west: ${first.bbox} -> ${sub.bbox}`);
    // The fresh snapshot holds only vessels inside the new box.
    const snap = await until(() => rec.received.filter((m) => m.type === 'snapshot').at(-1)?.seq > (rec.received.find((m) => m.type === 'snapshot')?.seq ?? 0) && rec.received.filter((m) => m.type === 'snapshot').at(-1), { what: 'a new snapshot' });
    const [w, s, e, n] = sub.bbox;
    assert.ok(snap.vessels.every((v) => v.lon >= w && v.lon <= e && v.lat >= s && v.lat <= n), 'snapshot inside the new box');
    const setAfter = await state(page, () => [...window.lookout.vessels.vessels.keys()]);
    const changed = setAfter.filter((m) => !setBefore.includes(m)).length + setBefore.filter((m) => !setAfter.includes(m)).length;
    assert.ok(changed > 10, `the vessel set changed (${changed})`);
    await shot(page, '02-panned');
  });

  it('handles a view across the antimeridian with two boxes', async () => {
    const { page, rec } = main;
    const n = rec.sent.filter((m) => m.type === 'subscribe').length;
    await state(page, () => window.lookout.map.setView([-17, 180], 5));
    const sub = await until(() => rec.sent.filter((m) => m.type === 'subscribe')[n], { what: 'subscribe' });
    assert.equal(sub.bboxes?.length, 2, JSON.stringify(sub));
    assert.equal(sub.bboxes[0][2], 180);
    assert.equal(sub.bboxes[1][0], -180);
    await page.waitForTimeout(500);
    await shot(page, '03-antimeridian');
    const errs = rec.received.filter((m) => m.type === 'error');
    assert.deepEqual(errs, []);
    await state(page, () => window.lookout.map.setView([35.2, 14.0], 7));
    await until(() => state(page, () => window.lookout.vessels.visible > 20), { what: 'vessels back' });
  });

  it('clicking a vessel opens its panel and draws its track', async () => {
    const { page } = main;
    // A live vessel under way, away from the map edges and the others.
    const target = await until(() => state(page, () => {
      const L = window.lookout.vessels;
      const size = window.lookout.map.getSize();
      const cands = [...L.vessels.values()].filter((v) => v.state === 'live' && v.sog > 3 && v.name && (v.class === 'A' || v.class === 'B'));
      for (const v of cands) {
        const [x, y] = L.project(v.lat, v.lon);
        if (x < 60 || y < 60 || x > size.x - 60 || y > size.y - 60) continue;
        if (L.hit(x, y, 12) === v.mmsi) return { mmsi: v.mmsi, name: v.name, x, y };
      }
      return null;
    }), { what: 'a clickable vessel' });
    const box = await page.locator('#map').boundingBox();
    // Its position now (it moves).
    const [x, y] = await state(page, (m) => {
      const v = window.lookout.vessels.vessels.get(m);
      return window.lookout.vessels.project(v.lat, v.lon);
    }, target.mmsi);
    await page.mouse.click(box.x + x, box.y + y);
    await until(() => page.locator('#panel:not([hidden]) .v-name').count(), { what: 'vessel panel' });
    const selected = await state(page, () => window.lookout.selected);
    assert.ok(selected, 'a vessel is selected');
    const body = await page.locator('#panel-body').textContent();
    assert.match(body, new RegExp(String(selected)));
    assert.match(body, /Last report/);
    assert.match(body, /Zones/);
    const track = await until(() => state(page, () => window.lookout.track), { what: 'track' });
    assert.ok(track.points >= 2, `track of ${track.points} points`);
    await shot(page, '04-vessel-panel');
  });

  it('the nearest-vessels tool lists vessels sorted by distance', async () => {
    const { page } = main;
    await page.click('#sar-tool');
    const box = await page.locator('#map').boundingBox();
    // Off the centre: the map then centres on the position asked about.
    const [px, py] = [box.width * 0.3, box.height * 0.4];
    const asked = await state(page, ([x, y]) => window.lookout.map.containerPointToLatLng([x, y]), [px, py]);
    await page.mouse.click(box.x + px, box.y + py);
    await until(() => page.locator('table.nearest tbody tr').count(), { what: 'nearest list' });
    await until(async () => {
      const c = await state(page, () => window.lookout.map.getCenter());
      return Math.abs(c.lat - asked.lat) < 0.01 && Math.abs(c.lng - asked.lng) < 0.01;
    }, { timeout: 5000, what: 'the map centred on the position asked about' });
    assert.match(await page.locator('#panel .n-pos').textContent(), POSITION);
    const dists = (await page.locator('table.nearest td.dist').allTextContents()).map(Number);
    assert.ok(dists.length >= 5, `${dists.length} vessels listed`);
    assert.deepEqual(dists, [...dists].sort((a, b) => a - b), 'sorted by distance');
    assert.match(await page.locator('table.nearest thead').textContent(), /NM.*Brg.*To reach/);
    await shot(page, '05-nearest');
  });

  it('search finds any vessel in the picture by name, MMSI or call sign, not only those loaded', async () => {
    const { page } = main;
    const name = await state(page, () => [...window.lookout.vessels.vessels.values()].find((v) => v.name && v.class === 'A')?.name);
    await page.fill('#search', name.slice(0, 6));
    await until(() => page.locator('#search-results li', { hasText: name }).count(), { what: 'search results' });
    await page.locator('#search-results li', { hasText: name }).first().click();
    await until(() => page.locator('#panel .v-name', { hasText: name }).count(), { what: 'panel of the search hit' });
    // Far out in the Atlantic nothing is loaded; search still finds a vessel of the picture.
    await state(page, () => window.lookout.map.setView([40, -30], 7));
    await until(() => state(page, () => window.lookout.vessels.vessels.size === 0), { what: 'an empty view' });
    const [, fc] = await call('GET', '/api/vessels');
    const far = fc.features.map((f) => f.properties).find((v) => v.name && v.callsign && v.class === 'A' && v.state === 'live');
    assert.ok(far, 'a named vessel with a call sign in the picture');
    for (const q of [far.name, String(far.mmsi).slice(0, 7), far.callsign]) {
      await page.fill('#search', q);
      await until(() => page.locator(`#search-results li[data-mmsi="${far.mmsi}"]`).count(), { what: `a search hit for ${q}` });
      assert.ok(await page.locator('#search-results li').count() <= 20, 'at most 20 results');
    }
    assert.match(await page.locator(`#search-results li[data-mmsi="${far.mmsi}"] .s-pos`).textContent(), POSITION);
    await page.locator(`#search-results li[data-mmsi="${far.mmsi}"]`).click();
    await until(() => page.locator('#panel .v-name', { hasText: far.name }).count(), { what: 'the panel of the vessel found' });
    const c = await state(page, () => window.lookout.map.getCenter());
    assert.ok(Math.abs(c.lat - far.lat) < 0.2 && Math.abs(c.lng - far.lon) < 0.2, `the map centred on it: ${JSON.stringify(c)} vs ${far.lat},${far.lon}`);
    // Typing in the search box fires no keyboard shortcut.
    await page.fill('#search', '');
    await page.locator('#search').pressSequentially('jkac?');
    assert.equal(await page.locator('#help').isHidden(), true);
    assert.equal(await state(page, () => window.lookout.alerts.selectedKey), null);
    await page.fill('#search', '');
    await page.keyboard.press('Escape');
    await state(page, () => window.lookout.map.setView([35.2, 14.0], 7));
    await until(() => state(page, () => window.lookout.vessels.visible > 20), { what: 'vessels back' });
  });

  it('the status bar shows each feed as it is now; the scale bar is in nautical miles', async () => {
    const { page, rec } = main;
    const [, sources] = await call('GET', '/api/sources');
    assert.ok(sources.length >= 1);
    for (const f of sources) {
      const feed = page.locator(`#st-feeds .feed[data-name="${f.name}"]`);
      await until(async () => (await feed.getAttribute('data-state')) === f.state, { what: `feed ${f.name}: ${f.state}` });
      assert.equal(await feed.textContent(), `${f.name}: ${f.state}`);
    }
    assert.doesNotMatch(await page.locator('#st-feeds').textContent(), /starting/);
    // It keeps asking (the state changes during a session).
    const asked = () => rec.requests.filter((u) => u.includes('/api/sources')).length;
    const n = asked();
    await until(() => asked() >= n + 2, { timeout: 10000, what: 'the feeds asked for again' });
    // The scale bar: a round number of nautical miles, as long as that distance on the map.
    const scale = page.locator('.nm-scale .leaflet-control-scale-line');
    assert.match(await scale.textContent(), /^\d+(\.\d+)? NM$/);
    const { nm, px, metres } = await state(page, () => {
      const el = document.querySelector('.nm-scale .leaflet-control-scale-line');
      const map = window.lookout.map;
      const y = map.getSize().y / 2;
      const px = el.getBoundingClientRect().width;
      return { nm: +el.dataset.nm, px, metres: map.distance(map.containerPointToLatLng([0, y]), map.containerPointToLatLng([px, y])) };
    });
    assert.ok(Math.abs(metres / 1852 - nm) / nm < 0.05, `${nm} NM drawn ${px}px long = ${(metres / 1852).toFixed(2)} NM`);
  });

  it('vessel names overlap neither each other nor the zone names; zone names do not overlap', async () => {
    const { page } = main;
    for (const [lat, lon, z] of [[35.55, 12.55, 9], [35.3, 12.9, 8], [35.0, 13.6, 10]]) {
      await state(page, ([la, lo, zo]) => window.lookout.map.setView([la, lo], zo), [lat, lon, z]);
      await until(() => state(page, () => window.lookout.vessels.labelBoxes.length > 3), { what: `vessel names at zoom ${z}` });
      await page.waitForTimeout(400);
      const { names, zoneBoxes, shown } = await state(page, () => ({
        names: window.lookout.vessels.labelBoxes,
        zoneBoxes: window.lookout.zones.labelBoxes(),
        shown: [...document.querySelectorAll('.zone-label:not(.label-hidden) .zl-inner')].map((e) => {
          const r = e.getBoundingClientRect(), m = document.getElementById('map').getBoundingClientRect();
          return [r.left - m.left, r.top - m.top, r.right - m.left, r.bottom - m.top];
        }),
      }));
      assert.ok(zoneBoxes.length >= 1, 'a zone name on screen');
      assert.equal(shown.length, zoneBoxes.length, 'the zone names shown are those placed');
      for (let i = 0; i < shown.length; i++) {
        for (let j = i + 1; j < shown.length; j++) assert.ok(!overlap(shown[i], shown[j]), `zone names ${i} and ${j} overlap`);
      }
      for (let i = 0; i < names.length; i++) {
        for (let j = i + 1; j < names.length; j++) assert.ok(!overlap(names[i].box, names[j].box), `${names[i].name} overlaps ${names[j].name}`);
        for (const zb of shown) assert.ok(!overlap(names[i].box, zb), `${names[i].name} covers a zone name`);
      }
      await shot(page, `09-labels-z${z}`);
    }
    await state(page, () => window.lookout.map.setView([35.2, 14.0], 7));
  });

  it('a console opened while a critical alert is unacknowledged shows the banner, sounds the alarm and flashes the title', async () => {
    // The demo's AIS-SART activation, known to the server and not acknowledged.
    const crit = await until(async () => {
      const [, list] = await call('GET', '/api/alerts');
      return list.find((a) => a.severity === 'critical' && a.kind === 'distress_beacon' && !a.acknowledged_by);
    }, { timeout: 90000, what: 'the critical alert on the server' });
    // A console opened now, after the alert was raised.
    const fresh = await openClient(browser.context, server.base);
    const { page } = fresh;
    const banner = page.getByRole('alert');
    await until(() => banner.isVisible(), { what: 'the banner on a freshly opened page' });
    assert.equal(await banner.getAttribute('data-id'), crit.id);
    const held = await state(page, (id) => window.lookout.alerts.alerts.get(id), crit.id);
    assert.match(await banner.textContent(), new RegExp(held.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await banner.getAttribute('data-count'), '1');
    // The banner and the list give the same position, formatted alike.
    const row = page.locator(`#alert-list > li[data-id="${crit.id}"]`);
    await until(() => row.count(), { what: 'the alert in the list' });
    await until(async () => (await banner.locator('.b-pos').textContent()) === (await row.locator('.pos').textContent()), { what: 'the same position' });
    assert.match(await banner.locator('.b-pos').textContent(), POSITION);
    // The title flashes.
    await until(async () => (await page.title()).startsWith('⚠ CRITICAL — AIS-SART'), { timeout: 3000, what: 'the flashing title' });
    await until(async () => (await page.title()) === 'Lookout — operations picture', { timeout: 3000, what: 'the title flashing back' });
    // The alarm sounds (once the page has had a gesture, as browsers require).
    await page.locator('#alert-count').click();
    const sound = () => state(page, () => ({ active: window.lookout.alarm.active, muted: window.lookout.alarm.muted, patterns: window.lookout.alarm.patterns, audio: window.lookout.alarm.audioState }));
    const s0 = await sound();
    assert.equal(s0.active, true);
    assert.equal(s0.muted, false);
    await until(async () => (await sound()).patterns > s0.patterns, { timeout: 8000, what: 'the alarm repeating' });
    assert.equal((await sound()).audio, 'running', 'WebAudio running after the click');
    assert.match(await page.locator('#alarm-toggle').getAttribute('class'), /sounding/);
    await shot(page, '10-banner-on-open');
    // Mute: remembered across a reload; the banner stays (not acknowledged).
    await page.locator('#alarm-toggle').click();
    assert.equal((await sound()).muted, true);
    await page.reload();
    await until(() => banner.isVisible(), { what: 'the banner after a reload' });
    assert.equal((await sound()).muted, true, 'still muted after the reload');
    assert.equal(await page.locator('#alarm-toggle').getAttribute('aria-pressed'), 'true');
    await page.keyboard.press('m');
    assert.equal((await sound()).muted, false, 'm unmutes');
    // Dismissing hides it (and silences it) but acknowledges nothing: a reload brings it back.
    const hidden = await state(page, () => {
      document.querySelector('#banner .dismiss').click();
      return { banner: document.getElementById('banner').hidden, alarm: window.lookout.alarm.active };
    });
    assert.deepEqual(hidden, { banner: true, alarm: false });
    const [, after] = await call('GET', '/api/alerts');
    assert.equal(after.find((a) => a.id === crit.id).acknowledged_by, null, 'dismissing is not acknowledging');
    await page.reload();
    await until(() => banner.isVisible(), { what: 'the banner back after a reload' });
    assert.deepEqual(fresh.rec.errors, []);
    await page.close();
  });

  it('alerts rank by severity, state and time; filter by severity and kind; zone enter/exit collapse; INFO of a kind acknowledged at once; keys', async () => {
    const { page, rec } = main;
    const rows = () => state(page, () => [...document.querySelectorAll('#alert-list > li')].map((li) => ({
      id: li.dataset.id, key: li.dataset.key, severity: li.dataset.severity, kind: li.dataset.kind, state: li.dataset.state,
      acked: li.classList.contains('acked'), time: li.dataset.time, count: +li.dataset.count,
    })));
    // Enough alerts: a warning among many INFO zone enter/exit, and a collapsed row.
    await until(async () => {
      const r = await rows();
      return r.some((x) => x.severity === 'warning') && r.filter((x) => x.severity === 'info').length >= 5 && r.some((x) => x.count > 1);
    }, { timeout: 60000, what: 'warnings, INFO alerts and a collapsed row' });
    const list = await rows();
    const sev = { critical: 0, warning: 1, info: 2 };
    const st = (x) => (x.acked ? 2 : 0) + (x.state === 'cleared' ? 1 : 0);
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1], list[i]];
      const order = sev[a.severity] - sev[b.severity] || st(a) - st(b) || (a.time < b.time ? 1 : a.time > b.time ? -1 : 0);
      assert.ok(order <= 0, `row ${i - 1} (${JSON.stringify(a)}) ranks before row ${i} (${JSON.stringify(b)})`);
    }
    assert.equal(list[0].severity, 'critical', 'the critical alert on top');
    const firstInfo = list.findIndex((x) => x.severity === 'info');
    assert.ok(list.findLastIndex((x) => x.severity === 'warning') < firstInfo, 'every warning above every INFO');
    // A collapsed row: every enter/exit of one zone (same severity and state), expandable.
    // (Read in one go, as rendered: alerts keep arriving.)
    const group = await until(() => state(page, () => {
      const panel = window.lookout.alerts;
      if (panel.renderPending) return null;
      const row = panel.rows.find((r) => r.alerts.length > 1);
      const li = document.querySelector(`#alert-list > li[data-key="${row.key}"]`);
      const head = row.alerts[0];
      const same = (a) => a.zone === head.zone && a.severity === head.severity && (a.kind === 'zone_enter' || a.kind === 'zone_exit')
        && !!a.acknowledged_by === !!head.acknowledged_by && (a.state === 'cleared') === (head.state === 'cleared');
      return {
        key: row.key,
        count: row.alerts.length,
        badge: li.querySelector('.count').textContent,
        kind: li.querySelector('.kind').textContent,
        allSame: row.alerts.every(same),
        elsewhere: panel.rows.filter((r) => r !== row).flatMap((r) => r.alerts).filter(same).length,
      };
    }), { what: 'a collapsed row as rendered' });
    assert.equal(group.badge, `×${group.count}`);
    assert.equal(group.kind, 'zone enter/exit');
    assert.ok(group.allSame, 'one zone, one severity, one state');
    assert.equal(group.elsewhere, 0, 'no enter/exit of that zone left on another row');
    const g = page.locator(`#alert-list > li[data-key="${group.key}"]`);
    await g.locator('button.expand').click();
    await until(async () => (await g.locator('.members li').count()) >= group.count, { what: 'the expanded row' });
    await shot(page, '11-alerts-ranked');
    await g.locator('button.expand').click();
    // Severity filter: without INFO only critical and warning rows remain.
    await page.locator('#alert-filters input[value="info"]').uncheck();
    await until(async () => (await rows()).every((x) => x.severity !== 'info'), { what: 'INFO filtered out' });
    assert.ok((await rows()).some((x) => x.severity === 'warning'));
    await page.locator('#alert-filters input[value="info"]').check();
    // Kind filter, then acknowledge every INFO zone enter at once.
    await page.locator('#alert-kind').selectOption('zone_enter');
    await until(async () => (await rows()).every((x) => x.kind === 'zone_enter'), { what: 'only zone enter rows' });
    const ackKind = page.locator('#ack-kind');
    await until(() => ackKind.isVisible(), { what: 'the acknowledge-all button' });
    const before = await state(page, () => [...window.lookout.alerts.alerts.values()]
      .filter((a) => a.kind === 'zone_enter' && a.severity === 'info' && !a.acknowledged_by).map((a) => a.id));
    assert.ok(before.length >= 3, `${before.length} INFO zone enter alerts to acknowledge`);
    assert.match(await ackKind.textContent(), /Ack all \d+ INFO zone enter/);
    await ackKind.click();
    await until(async () => {
      const [, all] = await call('GET', '/api/alerts');
      return before.every((id) => all.find((a) => a.id === id)?.acknowledged_by === 'e2e duty officer');
    }, { what: 'every one acknowledged on the server' });
    await until(async () => (await rows()).filter((x) => before.includes(x.id)).every((x) => x.acked), { what: 'shown acknowledged' });
    await page.locator('#alert-kind').selectOption('');
    // Keyboard: ? help, j/k through the rows, c centres, a acknowledges.
    await page.locator('#alerts h2').click();
    await page.keyboard.press('?');
    await until(() => page.locator('#help').isVisible(), { what: 'the help overlay' });
    assert.match(await page.locator('#help').textContent(), /next alert.*previous alert.*acknowledge.*centre/s);
    await shot(page, '12-help');
    await page.keyboard.press('Escape');
    await until(() => page.locator('#help').isHidden(), { what: 'help closed' });
    const selectedIndex = () => state(page, () => {
      const rowsNow = [...document.querySelectorAll('#alert-list > li')];
      const i = rowsNow.findIndex((li) => li.classList.contains('selected'));
      return i < 0 ? null : { i, id: rowsNow[i].dataset.id, severity: rowsNow[i].dataset.severity, acked: rowsNow[i].classList.contains('acked') };
    });
    await page.keyboard.press('j');
    await until(async () => (await selectedIndex())?.i === 0, { what: 'j selects the first row' });
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const sel = await until(async () => {
      const x = await selectedIndex();
      return x?.i === 1 && x;
    }, { what: 'j j k selects the second row' });
    await page.keyboard.press('c');
    const target = await state(page, (id) => window.lookout.alerts.alerts.get(id), sel.id);
    if (target.lat != null) {
      await until(async () => {
        const c = await state(page, () => window.lookout.map.getCenter());
        return Math.abs(c.lat - target.lat) < 0.02 && Math.abs(c.lng - target.lon) < 0.02;
      }, { timeout: 5000, what: 'c centres on the selected alert' });
    }
    // The second row is a warning (the critical is first): acknowledge it with `a`.
    assert.equal(sel.severity, 'warning');
    assert.equal(sel.acked, false);
    await page.keyboard.press('a');
    await until(async () => {
      const [, all] = await call('GET', '/api/alerts');
      return all.find((a) => a.id === sel.id)?.acknowledged_by === 'e2e duty officer';
    }, { what: 'a acknowledged it on the server' });
    await until(() => page.locator(`#alert-list > li[data-id="${sel.id}"].acked`).count(), { what: 'shown acknowledged' });
    assert.deepEqual(rec.errors, []);
  });

  it('the distress beacon raises a critical alert; acknowledging it updates every client', async () => {
    const { page, rec } = main;
    const second = await openClient(browser.context, server.base);
    await until(() => state(second.page, () => window.lookout?.connection === 'live'), { what: 'second client' });
    const crit = '#alert-list li.sev-critical.alert';
    const beacon = (p) => p.locator(crit, { hasText: 'distress beacon' }).first();
    await until(() => beacon(page).count(), { timeout: 90000, what: 'the AIS-SART alert (page 1)' });
    await until(() => beacon(second.page).count(), { timeout: 10000, what: 'the AIS-SART alert (page 2)' });
    const id = await beacon(page).getAttribute('data-id');
    assert.match(await beacon(page).textContent(), /AIS-SART/);
    // The visual cue.
    assert.equal(await page.getByRole('alert').isVisible(), true);
    assert.match(await page.getByRole('alert').textContent(), /AIS-SART/);
    assert.match(await page.locator('#alert-count').textContent(), /critical/);
    // Click: the map flies to it.
    await beacon(page).click();
    // The map flies there (an animation), and the drifting beacon's alert
    // may move a little meanwhile: wait until the centre matches.
    await until(async () => {
      const alert = await state(page, (i) => window.lookout.alerts.alerts.get(i), id);
      const c = await state(page, () => window.lookout.map.getCenter());
      return Math.abs(c.lat - alert.lat) < 0.02 && Math.abs(c.lng - alert.lon) < 0.02;
    }, { timeout: 5000, what: 'map centred on the alert' });
    await page.waitForTimeout(300);
    await shot(page, '06-critical-alert');
    // Acknowledge on page 1: both pages show it acknowledged.
    await page.locator(`#alert-list li[data-id="${id}"] button.ack`).click();
    for (const p of [page, second.page]) {
      await until(() => p.locator(`#alert-list li[data-id="${id}"][data-state="acknowledged"]`).count(), { what: 'acknowledged state' });
    }
    assert.match(await second.page.locator(`#alert-list li[data-id="${id}"]`).textContent(), /acknowledged by e2e duty officer/);
    // Acknowledged: the banner, the alarm and the flashing title stop on both pages.
    for (const p of [page, second.page]) {
      await until(() => p.locator('#banner').isHidden(), { what: 'the banner gone' });
      await until(async () => (await p.title()) === 'Lookout — operations picture', { what: 'the title steady' });
      assert.equal(await state(p, () => window.lookout.alarm.active), false);
    }
    assert.equal(await second.page.locator(`#alert-list li[data-id="${id}"] button.ack:visible`).count(), 0);
    // Page 2 learnt it from the WebSocket.
    assert.ok(second.rec.received.some((m) => m.type === 'alert' && m.alert.id === id && m.alert.state === 'acknowledged'));
    await shot(second.page, '07-acknowledged-other-client');
    const outside = [...rec.requests, ...second.rec.requests].filter((u) => !u.startsWith(`${server.base}/`) && !u.startsWith(`ws://127.0.0.1:${server.port}/`) && !u.startsWith('data:'));
    assert.deepEqual(outside, []);
    assert.deepEqual([...rec.errors, ...second.rec.errors], []);
    await second.page.close();
  });

  it('a contact created over HTTP is drawn with its uncertainty circle and track; its incident is listed with its asset', async () => {
    const { page, rec } = main;
    // The client subscribed to the SAR channels once.
    assert.ok(rec.sent.some((m) => m.type === 'subscribe' && m.id === 'sar' && m.channels.includes('contacts') && m.channels.includes('incidents')));
    await until(() => rec.received.some((m) => m.type === 'contacts'), { what: 'the contacts snapshot' });
    const [lat, lon] = await state(page, () => {
      const c = window.lookout.map.getCenter();
      return [c.lat - 0.05, c.lng + 0.08];
    });
    const [st, c] = await call('POST', '/api/contacts', {
      description: 'rubber boat, ~60 persons', lat, lon, uncertainty_nm: 3, source: 'aircraft', course_deg: 200, speed_kn: 1.5,
    });
    assert.equal(st, 201, JSON.stringify(c));
    await until(() => state(page, (id) => window.lookout.sarLayer.contacts.has(id), c.id), { what: 'the contact on the client' });
    // Read the canvas: the diamond at the contact's position, and the
    // uncertainty circle 3 NM out, are drawn in the contact colour.
    const orange = ({ lat, lon, dx }) => {
      const L = window.lookout.vessels;
      const [x, y] = L.project(lat, lon);
      const [, y2] = L.project(lat + (dx * 1852) / 111320, lon);
      const r = Math.abs(y - y2);
      const dpr = devicePixelRatio || 1;
      const at = (px, py) => {
        const d = L.ctx.getImageData(Math.round(px * dpr) - 2, Math.round(py * dpr) - 2, 5, 5).data;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] > 100 && d[i + 1] < 190 && d[i + 2] < 90 && d[i + 3] > 150) return true;
        return false;
      };
      return { centre: at(x, y), edge: at(x, y + r) || at(x, y - r), r };
    };
    const drawn = await until(async () => {
      const o = await state(page, orange, { lat: c.lat, lon: c.lon, dx: 3 });
      return o.centre && o.edge && o;
    }, { what: 'the contact and its circle on the canvas' });
    assert.ok(drawn.r > 10, `a 3 NM circle is visible at this zoom: ${drawn.r}px`);
    // A second sighting: the client's contact has a track of two.
    const [st2] = await call('POST', `/api/contacts/${c.id}/sightings`, { lat: lat - 0.02, lon: lon - 0.01, uncertainty_nm: 1, source: 'phone' });
    assert.equal(st2, 201);
    await until(() => state(page, (id) => window.lookout.sarLayer.contacts.get(id)?.track.length === 2, c.id), { what: 'the sighting' });
    // An incident with the contact, and an asset from the vessels in view.
    const helper = await state(page, () => [...window.lookout.vessels.vessels.values()].find((v) => v.class === 'A' && v.state === 'live')?.mmsi);
    assert.ok(helper, 'a vessel in view');
    const [st3, inc] = await call('POST', '/api/incidents', { title: 'Rubber boat adrift', contacts: [c.id] });
    assert.equal(st3, 201, JSON.stringify(inc));
    const item = page.locator(`#incident-list li[data-id="${inc.id}"]`);
    await until(() => item.count(), { what: 'the incident in the panel' });
    assert.match(await item.textContent(), /Rubber boat adrift/);
    const [st4, inc2] = await call('POST', `/api/incidents/${inc.id}/actions`, { action: 'assign_asset', asset: { mmsi: helper } });
    assert.equal(st4, 200, JSON.stringify(inc2));
    await until(async () => /assets assigned/.test(await item.textContent()), { what: 'the assigned status in the panel' });
    assert.match(await item.textContent(), /assets: /);
    assert.match(await page.locator('#incident-count').textContent(), /1 open/);
    // The change carried only its new log entries; the client merged them
    // into the ones it had, by seq.
    const change = rec.received.find((m) => m.type === 'incident' && m.incident.id === inc.id && m.incident.version === inc2.version);
    assert.ok(change, 'the assignment on the channel');
    assert.equal(change.incident.log_total, inc2.version);
    assert.ok(change.incident.log.length < inc2.version, `a log delta, not the whole log: ${JSON.stringify(change.incident.log)}`);
    const merged = await state(page, (id) => window.lookout.sarLayer.incidents.get(id).log.map((e) => e.seq), inc.id);
    assert.deepEqual(merged, Array.from({ length: inc2.version }, (_, k) => k + 1));
    // Its panel: the log with who did what, and who can reach it first.
    await item.click();
    await until(() => page.locator('#panel .intercepts tr[data-i]').count(), { what: 'the intercept list' });
    await until(async () => (await page.locator('#panel .incident-log').getAttribute('data-total')) === String(inc2.version), { what: 'the whole log fetched over HTTP' });
    assert.match(await page.locator('#panel .incident-log').textContent(), /assign asset.*e2e duty officer/s);
    const ranked = await state(page, () => window.lookout.incidentPanel.data.vessels.map((v) => v.time_to_intercept_min));
    const times = ranked.filter((t) => t != null);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'ranked by time to intercept');
    await shot(page, '08-contact-and-incident');
    // An operator reports a contact from the map: the tool, a click, the form.
    await page.locator('#contact-tool').click();
    const mapBox = await page.locator('#map').boundingBox();
    await page.mouse.click(mapBox.x + mapBox.width * 0.3, mapBox.y + mapBox.height * 0.6);
    await until(() => page.locator('#report-contact').count(), { what: 'the report form' });
    await page.locator('#rc-desc').fill('wooden boat, ~20 persons');
    await page.locator('#rc-unc').fill('2');
    await page.locator('#rc-src').selectOption('phone');
    await page.locator('#rc-submit').click();
    const reported = await until(() => state(page, () => [...window.lookout.sarLayer.contacts.values()].find((x) => x.description === 'wooden boat, ~20 persons')), { what: 'the reported contact' });
    assert.equal(reported.created_by, 'e2e duty officer');
    assert.equal(reported.uncertainty_nm, 2);
    assert.equal(reported.source, 'phone');
    const [, stored] = await call('GET', `/api/contacts/${reported.id}`);
    assert.equal(stored.description, 'wooden boat, ~20 persons', 'saved on the server');
    // Closing it takes it off the open list.
    await call('PATCH', `/api/incidents/${inc.id}`, { status: 'closed' });
    await until(async () => (await item.count()) === 0, { what: 'the closed incident to leave the list' });
    assert.deepEqual(rec.errors, []);
  });

  it('a contact clicked opens it; an incident opened from it is assigned, noted and closed from its panel', async () => {
    const { page } = main;
    await state(page, () => window.lookout.map.setView([34.4, 15.3], 9));
    await page.waitForTimeout(300);
    const at = await state(page, () => {
      const m = window.lookout.map, s = m.getSize();
      return m.containerPointToLatLng([s.x * 0.45, s.y * 0.55]);
    });
    const [st, c] = await call('POST', '/api/contacts', { description: 'grey rubber boat, ~40 persons', lat: at.lat, lon: at.lng, uncertainty_nm: 1, source: 'phone' });
    assert.equal(st, 201, JSON.stringify(c));
    await until(() => state(page, (id) => window.lookout.sarLayer.hits.some((h) => h[2] === id), c.id), { what: 'the contact drawn' });
    // Click it on the map: its panel opens.
    const box = await page.locator('#map').boundingBox();
    const [x, y] = await state(page, (id) => window.lookout.sarLayer.hits.find((h) => h[2] === id), c.id);
    await page.mouse.click(box.x + x, box.y + y);
    const cp = page.locator(`#panel .contact-panel[data-id="${c.id}"]`);
    await until(() => cp.count(), { what: 'the contact panel' });
    assert.match(await cp.locator('.c-desc').textContent(), /grey rubber boat/);
    assert.match(await cp.locator('.c-pos').textContent(), POSITION);
    assert.deepEqual(await state(page, () => window.lookout.selection), { type: 'contact', id: c.id });
    await until(() => cp.locator('.intercepts tr[data-i]').count(), { what: 'who can reach the contact' });
    await shot(page, '13-contact-clicked');
    // Open an incident from it.
    await cp.locator('.c-new-incident').click();
    await until(() => page.locator('#new-incident').count(), { what: 'the new-incident form' });
    assert.equal(await page.locator('#ni-title').inputValue(), 'grey rubber boat, ~40 persons');
    await page.locator('#ni-title').fill('Grey rubber boat E of Malta');
    await page.locator('#ni-note').fill('reported by phone');
    await page.locator('#ni-submit').click();
    const ip = page.locator('#panel .incident-panel');
    await until(() => ip.count(), { what: 'the incident panel' });
    const id = await ip.getAttribute('data-id');
    assert.match(await ip.locator('.inc-links').textContent(), new RegExp(`contacts: ${c.id}`));
    const status = () => ip.getAttribute('data-status');
    // Assign the first vessel of "who can reach it first", and a unit without AIS.
    await until(() => ip.locator('.intercepts tr[data-i] button.assign').count(), { what: 'the intercept list' });
    const helper = +(await ip.locator('.intercepts tr[data-i]').first().getAttribute('data-mmsi'));
    await ip.locator('.intercepts tr[data-i] button.assign').first().click();
    await until(() => ip.locator(`.inc-asset[data-mmsi="${helper}"]`).count(), { what: 'the vessel assigned' });
    assert.equal(await status(), 'assets_assigned');
    await until(() => ip.locator(`.intercepts tr[data-mmsi="${helper}"].assigned`).count(), { what: 'the vessel ticked in the intercept list' });
    await ip.locator('.inc-unit').fill('HELO 21');
    await ip.locator('.inc-assign-named button').click();
    await until(() => ip.locator('.inc-asset[data-name="HELO 21"]').count(), { what: 'HELO 21 assigned' });
    // Release the helicopter, add a note, mark rescued, close.
    await ip.locator('.inc-asset[data-name="HELO 21"] button.release').click();
    await until(async () => (await ip.locator('.inc-asset[data-name="HELO 21"]').count()) === 0, { what: 'HELO 21 released' });
    await ip.locator('.inc-note-text').fill('PATROL tasked, ETA 40 min');
    await ip.locator('.inc-note button').click();
    await until(() => ip.locator('.incident-log li[data-action="note"]', { hasText: 'ETA 40 min' }).count(), { what: 'the note in the log' });
    await ip.locator('.inc-reason').fill('all 40 aboard');
    await ip.locator('.inc-set-rescued').click();
    await until(async () => (await status()) === 'rescued', { what: 'rescued' });
    await shot(page, '14-incident-panel');
    await ip.locator('.inc-set-closed').click();
    await until(async () => (await status()) === 'closed', { what: 'closed' });
    assert.equal(await ip.locator('.inc-set-open').count(), 1, 'a closed incident can be reopened');
    await until(async () => (await page.locator(`#incident-list li[data-id="${id}"]`).count()) === 0, { what: 'off the open list' });
    // The server's log: every step, by the operator, in order.
    const [, inc] = await call('GET', `/api/incidents/${id}`);
    assert.equal(inc.status, 'closed');
    assert.deepEqual(inc.contacts, [c.id]);
    assert.deepEqual(inc.log.map((e) => e.action + (e.status ? `:${e.status}` : '')), [
      'create', 'link_contact', 'note', 'assign_asset', 'set_status:assets_assigned', 'assign_asset', 'release_asset',
      'note', 'set_status:rescued', 'set_status:closed',
    ]);
    assert.ok(inc.log.every((e) => e.who === 'e2e duty officer'));
    assert.equal(inc.log[3].asset.mmsi, helper);
    assert.equal(inc.log[5].asset.name, 'HELO 21');
    assert.equal(inc.log[8].reason, 'all 40 aboard');
    assert.equal(await ip.locator('.incident-log').getAttribute('data-total'), String(inc.log.length));
  });

  it('a search planned from the incident panel: the area and a pattern on the map, coverage, a GPX download', async () => {
    const { page } = main;
    await state(page, () => window.lookout.map.setView([35.6, 13.4], 9));
    await page.waitForTimeout(300);
    // A contact in view, an incident with it, a vessel assigned.
    const at = await state(page, () => window.lookout.map.getCenter());
    const [, c] = await call('POST', '/api/contacts', { description: 'rubber boat, ~50 persons', lat: at.lat, lon: at.lng, uncertainty_nm: 1, source: 'aircraft' });
    const [, inc] = await call('POST', '/api/incidents', { title: 'Rubber boat, search', contacts: [c.id] });
    const helper = await state(page, () => [...window.lookout.vessels.vessels.values()].find((v) => v.class === 'A' && v.state === 'live')?.mmsi);
    assert.ok(helper, 'a vessel in view');
    const [st] = await call('POST', `/api/incidents/${inc.id}/actions`, { action: 'assign_asset', asset: { mmsi: helper } });
    assert.equal(st, 200);
    await state(page, (id) => window.lookout.incidents.open(id), inc.id);
    const ip = page.locator(`#panel .incident-panel[data-id="${inc.id}"]`);
    await until(() => ip.count(), { what: 'the incident panel' });
    assert.match(await ip.locator('.inc-area').textContent(), /no search area yet/);
    assert.equal(await ip.locator('.inc-plan-pattern').isVisible(), false, 'no pattern before an area');
    // The search area from the form: wind from the north, a current to the east.
    await ip.locator('.sa-object').selectOption('rubber_boat_overloaded');
    await ip.locator('.sa-wind-from').fill('0');
    await ip.locator('.sa-wind-kn').fill('15');
    await ip.locator('.sa-cur-set').fill('90');
    await ip.locator('.sa-cur-kn').fill('0.5');
    await ip.locator('.sa-ahead').fill('120');
    await ip.locator('.inc-plan-area button').click();
    await until(async () => (await ip.locator('.inc-area').getAttribute('data-n')) === '1', { what: 'the search area in the panel' });
    assert.match(await ip.locator('.inc-area').textContent(), /radius \d+\.\d+ NM/);
    const [, area] = await call('GET', `/api/incidents/${inc.id}/search-area`);
    assert.ok(area.datum.lat < c.lat && area.datum.lon > c.lon, 'the datum moved south-east of the contact');
    // On the map: the area (and its circle) in the search layer, within the view.
    const drawn = await state(page, () => window.lookout.incidents.searchLayer.getLayers().length);
    assert.ok(drawn >= 2, `area and circle drawn: ${drawn}`);
    // The datum track's time slider: at the start (the LKP) the datum is the
    // contact's position; at the end, the area's datum.
    const slider = ip.locator('.inc-datum-time');
    await until(() => slider.isVisible(), { what: 'the drift time slider' });
    const max = Number(await slider.getAttribute('max'));
    assert.ok(max >= 1, `a datum track with several times: ${max}`);
    assert.match(await ip.locator('.inc-datum-at').textContent(), /\d\d:\d\dZ/);
    // Where the datum marker is drawn in the search layer (canvas: no DOM element).
    const marker = () => state(page, () => {
      const m = window.lookout.incidents.searchLayer.getLayers().find((l) => l.options?.className === 'datum-datum');
      return m ? [m.getLatLng().lng, m.getLatLng().lat] : null;
    });
    await slider.fill('0');
    const atLkp = await marker();
    assert.ok(atLkp, 'the datum marker is on the map');
    assert.ok(Math.abs(atLkp[1] - c.lat) < 1e-4 && Math.abs(atLkp[0] - c.lon) < 1e-4, `slider at 0 is the LKP: ${atLkp}`);
    await slider.fill(String(max));
    const atEnd = await marker();
    assert.ok(Math.abs(atEnd[1] - area.datum.lat) < 1e-4 && Math.abs(atEnd[0] - area.datum.lon) < 1e-4, `slider at the end is the datum: ${atEnd}`);
    // A pattern for the assigned vessel.
    await until(() => ip.locator('.inc-plan-pattern').isVisible(), { what: 'the pattern form' });
    assert.equal(await ip.locator('.sp-asset').inputValue(), String(helper));
    await ip.locator('.sp-kind').selectOption('expanding_square');
    await ip.locator('.sp-spacing').fill('1');
    await ip.locator('.sp-speed').fill('12');
    await ip.locator('.inc-plan-pattern button').click();
    const row = ip.locator('.inc-patterns li[data-n="1"]');
    await until(() => row.count(), { what: 'the pattern in the panel' });
    assert.match(await row.textContent(), /^SS /);
    await until(async () => /Coverage \d+\.\d\d · POD \d+ %/.test(await ip.locator('.inc-coverage').textContent()), { what: 'the coverage' });
    const layers = await state(page, () => window.lookout.incidents.searchLayer.getLayers().length);
    assert.ok(layers >= 4, `swept region, area, circle and pattern drawn: ${layers}`);
    const [, patterns] = await call('GET', `/api/incidents/${inc.id}/patterns`);
    assert.equal(patterns.features.length, 1);
    assert.equal(patterns.features[0].properties.asset, helper);
    // The pattern as a GPX file, fetched with the token.
    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('button.dl-gpx').click()]);
    assert.equal(download.suggestedFilename(), `${inc.id}-pattern-1.gpx`);
    const gpx = await readFile(await download.path(), 'utf8');
    assert.match(gpx, /<gpx version="1.1"/);
    assert.equal((gpx.match(/<wpt /g) || []).length, 10);
    // The log has both.
    await until(() => ip.locator('.incident-log li[data-action="search_pattern"]').count(), { what: 'the pattern in the log' });
    assert.match(await ip.locator('.incident-log li[data-action="search_area"]').textContent(), /datum .* radius/);
    await shot(page, '15-search-planning');
    // Closing takes the forms away; another incident takes the search off the map.
    await call('PATCH', `/api/incidents/${inc.id}`, { status: 'closed' });
    await until(async () => (await ip.getAttribute('data-status')) === 'closed', { what: 'closed' });
    assert.equal(await ip.locator('.inc-plan-area').isVisible(), false);
    assert.deepEqual(main.rec.errors, []);
  });

  it('incidents open from an alert and from a vessel too', async () => {
    const { page } = main;
    await state(page, () => window.lookout.map.setView([35.2, 14.0], 7));
    // From an alert: its Incident button.
    // (By id: the list re-ranks as alerts arrive.)
    const alertId = await page.locator('#alert-list > li[data-count="1"]:not(.sev-critical)').first().getAttribute('data-id');
    await page.locator(`#alert-list > li[data-id="${alertId}"] button.to-incident`).click();
    await until(() => page.locator('#new-incident').count(), { what: 'the form' });
    assert.equal(await page.locator('#ni-title').inputValue(), await state(page, (i) => window.lookout.alerts.alerts.get(i).message, alertId));
    await page.locator('#ni-submit').click();
    const ip = page.locator('#panel .incident-panel');
    await until(() => ip.count(), { what: 'the incident panel' });
    const fromAlert = await ip.getAttribute('data-id');
    assert.match(await ip.locator('.inc-links').textContent(), new RegExp(`alerts: ${alertId}`));
    await ip.locator('.inc-set-closed').click();
    await until(async () => (await ip.getAttribute('data-status')) === 'closed', { what: 'closed' });
    // From a vessel: its panel's Open incident button.
    const mmsi = await state(page, () => [...window.lookout.vessels.vessels.values()].find((v) => v.class === 'A' && v.name)?.mmsi);
    await state(page, (m) => window.lookout.selectVessel(m), mmsi);
    await until(() => page.locator('#panel .v-new-incident').count(), { what: 'the vessel panel' });
    await page.locator('#panel .v-new-incident').click();
    await until(() => page.locator('#new-incident').count(), { what: 'the form' });
    assert.match(await page.locator('#ni-title').inputValue(), / in distress$/);
    await page.locator('#ni-submit').click();
    await until(async () => (await ip.count()) && (await ip.getAttribute('data-id')) !== fromAlert, { what: 'the second incident panel' });
    const fromVessel = await ip.getAttribute('data-id');
    await ip.locator('.inc-set-closed').click();
    await until(async () => (await ip.getAttribute('data-status')) === 'closed', { what: 'closed' });
    const [, a] = await call('GET', `/api/incidents/${fromAlert}`);
    const [, v] = await call('GET', `/api/incidents/${fromVessel}`);
    assert.deepEqual([a.alerts, a.status, a.log.map((e) => e.action)], [[alertId], 'closed', ['create', 'link_alert', 'set_status']]);
    assert.deepEqual([v.vessels, v.status, v.log.map((e) => e.action)], [[mmsi], 'closed', ['create', 'link_vessel', 'set_status']]);
    assert.deepEqual(main.rec.errors, []);
  });

  it('without a token the client says a token is required', async () => {
    const { page } = await openClient(browser.context, server.base, { token: '' });
    await page.evaluate(() => sessionStorage.clear());
    await until(() => page.locator('#conn.auth').count(), { what: 'token required state' });
    assert.equal(await page.locator('#token-box').isVisible(), true);
    await page.fill('#token', TOKEN);
    await page.click('#token-set');
    await until(() => page.locator('#conn.live').count(), { what: 'connected with the token' });
    await page.close();
  });

  it('reconnects by itself and subscribes again after the server restarts', async () => {
    const { page, rec } = main;
    const n = rec.sent.filter((m) => m.type === 'subscribe').length;
    await server.halt();
    await until(() => state(page, () => window.lookout.connection !== 'live'), { what: 'disconnect noticed' });
    assert.match(await page.locator('#conn').textContent(), /reconnecting|connecting/);
    await shot(page, '08-reconnecting');
    await server.launch();
    await until(() => state(page, () => window.lookout.connection === 'live'), { timeout: 30000, what: 'reconnected' });
    await until(() => rec.sent.filter((m) => m.type === 'subscribe').length > n, { what: 'resubscribed' });
    await until(() => state(page, () => window.lookout.vessels.visible > 0), { what: 'fresh snapshot' });
  });
});
