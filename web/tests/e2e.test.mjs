// End-to-end: the built client (web/dist) served by `lookout serve --replay`
// of a simulated central-Mediterranean scenario, in headless chromium.
//
// The replay runs at 60x: the scenario's AIS-SART activation (20 min of
// scenario time) happens about 20 s after the server starts.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, openClient, shot, until, TOKEN } from './harness.mjs';

let server, browser, main;

const state = (page, fn, arg) => page.evaluate(fn, arg);

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
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await until(() => page.locator('table.nearest tbody tr').count(), { what: 'nearest list' });
    const dists = (await page.locator('table.nearest td.dist').allTextContents()).map(Number);
    assert.ok(dists.length >= 5, `${dists.length} vessels listed`);
    assert.deepEqual(dists, [...dists].sort((a, b) => a - b), 'sorted by distance');
    assert.match(await page.locator('table.nearest thead').textContent(), /NM.*Brg.*To reach/);
    await shot(page, '05-nearest');
  });

  it('search finds a loaded vessel by name', async () => {
    const { page } = main;
    const name = await state(page, () => [...window.lookout.vessels.vessels.values()].find((v) => v.name && v.class === 'A')?.name);
    await page.fill('#search', name.slice(0, 6));
    await until(() => page.locator('#search-results li', { hasText: name }).count(), { what: 'search results' });
    await page.locator('#search-results li', { hasText: name }).first().click();
    await until(() => page.locator('#panel .v-name', { hasText: name }).count(), { what: 'panel of the search hit' });
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
    assert.equal(await page.locator('#banner.critical').isVisible(), true);
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
    const call = (method, path, body) => fetch(`${server.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => [r.status, await r.json()]);
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
