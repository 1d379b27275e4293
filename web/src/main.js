// Lookout operations-room client: wiring of the map, the feed, the panels.
// Each part lives in its own module; this file creates them and connects
// their callbacks (what happens on a click, a message, a key).

import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import './style.css';
import { api, Feed, getToken, setToken } from './api.js';
import { viewBoxes, nearLon } from './geo.js';
import { VesselLayer, LEGEND } from './vessels.js';
import { addBasemap, drawGraticule, ZoneLayer } from './basemap.js';
import { esc } from './html.js';
import { AlertsPanel } from './alerts.js';
import { CriticalBanner } from './banner.js';
import { Alarm } from './sound.js';
import { showVessel, showNearest, closePanel } from './panel.js';
import { SarLayer } from './sar.js';
import { IncidentPanel } from './incident-panel.js';
import { showContact, reportContactForm } from './contact-panel.js';
import { VesselSearch } from './search.js';
import { NauticalScale } from './scale.js';
import { StatusBar } from './status.js';
import { installKeys } from './keys.js';

const $ = (id) => document.getElementById(id);

const map = L.map('map', {
  center: [35.2, 14.0],
  zoom: 7,
  minZoom: 2,
  maxZoom: 14,
  zoomAnimation: false, // vessels are on our own canvas: redraw, do not scale
  fadeAnimation: false,
  worldCopyJump: true,
  preferCanvas: true,
  attributionControl: true,
});
map.attributionControl.setPrefix('Leaflet');
new NauticalScale().addTo(map);

const app = {
  map,
  subscribes: [], // every subscribe sent (tests and debugging)
  messages: { snapshot: 0, update: 0, alert: 0, zones: 0, sources: 0, error: 0 },
  status: null,
  sources: [],
  connection: 'connecting',
  sar: null, // { lat, lon, results }
  track: null,
  selection: null, // what `c` centres on: { type: 'alert' | 'vessel' | 'contact' | 'point', … }
};
window.lookout = app;

/** Centre the map on a position, keeping the zoom unless it is below `minZoom`. */
function centreOn(lat, lon, minZoom = 0) {
  map.setView([lat, nearLon(lon, map.getCenter().lng)], Math.max(map.getZoom(), minZoom));
}

// Layers -----------------------------------------------------------------

const trackLayer = L.layerGroup().addTo(map);
const vessels = new VesselLayer(map, {
  drawUnder: drawGraticule,
  drawOver: (ctx, layer) => {
    sarLayer.draw(ctx, layer);
    drawSar(ctx, layer);
  },
  // Vessel names keep off the zone names and the contacts' labels.
  obstacles: (layer) => [
    ...zones.labelBoxes().map(({ box }) => [box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2]),
    ...zones.controlBoxes,
    ...sarLayer.labelBoxes(layer.ctx, (lat, lon) => layer.project(lat, lon)),
  ],
});
app.vessels = vessels;

const DISTRESS = new Set(['ais_sart', 'mob', 'epirb_ais']);

/** What a zone name must not cover: contacts and their labels, beacons, the selection, the SAR point. */
function keepClear() {
  const project = (lat, lon) => {
    const p = map.latLngToContainerPoint([lat, nearLon(lon, map.getCenter().lng)]);
    return [p.x, p.y];
  };
  const ring = ([x, y]) => [x - 16, y - 16, x + 16, y + 16];
  const boxes = sarLayer.labelBoxes(vessels.ctx, project).concat(
    [...vessels.vessels.values()].filter((v) => DISTRESS.has(v.class) || v.mmsi === vessels.selected).map((v) => ring(project(v.lat, v.lon))),
  );
  if (app.sar) boxes.push(ring(project(app.sar.lat, app.sar.lon)));
  return boxes;
}
const zones = new ZoneLayer(map, $('zone-kinds'), { onPlaced: () => vessels.redraw(), avoid: keepClear });
app.zones = zones;

$('show-labels').onchange = (e) => {
  vessels.showLabels = e.target.checked;
  vessels.redraw();
};
$('zone-kinds').insertAdjacentHTML('afterend',
  `<ul class="legend">${LEGEND.map(([c, t]) => `<li><i style="background:${c}"></i>${esc(t)}</li>`).join('')}
   <li><i style="background:#9aa5b1;opacity:.5"></i>stale (faded)</li><li><i style="background:#9aa5b1;opacity:.25"></i>lost</li></ul>`);

// Alerts, the critical banner and its alarm -----------------------------------

function focusAlert(a) {
  if (!a) return;
  app.selection = { type: 'alert', id: a.id };
  if (a.lat == null) return;
  centreOn(a.lat, a.lon, 10);
  if (a.mmsi && vessels.vessels.has(a.mmsi)) selectVessel(a.mmsi, { keepSelection: true });
}

const alarm = new Alarm({ button: $('alarm-toggle') });
app.alarm = alarm;
const banner = new CriticalBanner({
  el: $('banner'),
  alarm,
  onFocus: focusAlert,
  onAck: (id, button) => alerts.ack(id, button),
});
app.banner = banner;

const alerts = new AlertsPanel({
  list: $('alert-list'),
  count: $('alert-count'),
  filters: $('alert-filters'),
  onFocus: focusAlert,
  onNearest: (lat, lon) => runNearest(lat, lon),
  onIncident: (a) => {
    clearSelection();
    incidentPanel.newForm({ title: a.message, alerts: [a.id] });
  },
  onChange: (all) => banner.update(all),
  zoneName: (id) => zones.nameOf(id),
});
app.alerts = alerts;

// Contacts and incidents -------------------------------------------------------

const sarLayer = new SarLayer({
  list: $('incident-list'),
  count: $('incident-count'),
  onFocus: (p, incident) => {
    if (p) centreOn(p.lat, p.lon, 9);
    if (!incident) return;
    clearSelection();
    incidentPanel.open(incident);
  },
  onIncident: (i) => incidentPanel.changed(i),
  locate: {
    alert: (id) => {
      const a = alerts.alerts.get(id);
      return a?.lat != null ? { lat: a.lat, lon: a.lon } : null;
    },
    vessel: (m) => {
      const v = vessels.vessels.get(m);
      return v ? { lat: v.lat, lon: v.lon } : null;
    },
  },
  redraw: () => {
    zones.placeLabels(); // zone names make way for new contacts
    vessels.redraw();
  },
});
app.sarLayer = sarLayer;

const incidentPanel = new IncidentPanel({
  api,
  panel: $('panel'),
  body: $('panel-body'),
  sar: sarLayer,
  app,
  onSelect: (m, la, lo) => {
    centreOn(la, lo, 9);
    selectVessel(m);
  },
  // The intercept lines: from the incident's position to the five first.
  onShown: (i, data) => {
    const p = sarLayer.incidentPosition(i);
    if (p) app.sar = { lat: p.lat, lon: p.lon, results: data?.vessels || [] };
    vessels.redraw();
  },
});
app.incidents = incidentPanel;

function openContact(id) {
  const c = sarLayer.contacts.get(id);
  if (!c) return;
  clearSelection();
  sarLayer.selected = id;
  app.selection = { type: 'contact', id };
  vessels.redraw();
  showContact(c, {
    api,
    panel: $('panel'),
    body: $('panel-body'),
    incidents: sarLayer.incidentsWith({ contact: id }),
    onNewIncident: (x) => incidentPanel.newForm({ title: x.description, contacts: [x.id] }),
    onOpenIncident: (i) => sarLayer.onFocus(sarLayer.incidentPosition(i), i),
    onSelect: (m, la, lo) => {
      centreOn(la, lo, 9);
      selectVessel(m);
    },
  });
}
app.openContact = openContact;

// Feed and subscription ----------------------------------------------------

function currentBoxes() {
  const b = map.getBounds().pad(0.1);
  return viewBoxes(b.getWest(), b.getSouth(), b.getEast(), b.getNorth());
}

function subscribe() {
  const boxes = currentBoxes();
  const msg = {
    type: 'subscribe',
    id: 'map',
    max_rate_hz: 2,
    channels: ['vessels', 'alerts', 'zones', 'sources'],
  };
  if (boxes.length === 1) msg.bbox = boxes[0];
  else msg.bboxes = boxes;
  if (feed.send(msg)) app.subscribes.push(msg);
}

/** Contacts and incidents are not by area: one subscription, sent once per connection. */
function subscribeSar() {
  const msg = { type: 'subscribe', id: 'sar', channels: ['contacts', 'incidents'] };
  if (feed.send(msg)) app.subscribes.push(msg);
}

const statusBar = new StatusBar({ api, app, vessels, $ });

const feed = new Feed({
  onOpen: () => {
    subscribe();
    subscribeSar();
    alerts.load().catch(() => {});
  },
  onState: (state, info) => setConnection(state, info),
  onMessage: (m) => {
    app.messages[m.type] = (app.messages[m.type] || 0) + 1;
    switch (m.type) {
      case 'hello':
        app.hello = m;
        break;
      case 'snapshot':
        if (m.sub === 'map') vessels.reset(m.vessels);
        refreshSelected();
        break;
      case 'update':
        if (m.sub === 'map') vessels.apply(m.vessels, m.removed);
        refreshSelected();
        break;
      case 'alert':
      case 'acked':
        alerts.upsert(m.alert);
        break;
      case 'zones':
        zones.set(m.zones);
        break;
      case 'contacts':
        sarLayer.setContacts(m.contacts, m.part);
        break;
      case 'contact':
        sarLayer.upsertContact(m.contact);
        break;
      case 'incidents':
        sarLayer.setIncidents(m.incidents, m.part);
        break;
      case 'incident':
        sarLayer.upsertIncident(m.incident);
        break;
      case 'coverage':
        incidentPanel.pushCoverage(m.coverage);
        break;
      case 'sources':
        statusBar.fromChannel(m);
        break;
      case 'error':
        if (m.code === 'rate_limited') {
          // Too many subscribes (each costs a snapshot): ask again, with the
          // view as it is then, once the server allows it.
          const again = m.sub === 'sar' ? subscribeSar : subscribe;
          clearTimeout(moveTimer);
          moveTimer = setTimeout(again, (m.retry_after_ms || 1000) + 50);
          break;
        }
        console.warn('lookout server:', m.code, m.message);
        break;
    }
  },
});

let moveTimer = null;
map.on('moveend', () => {
  clearTimeout(moveTimer);
  moveTimer = setTimeout(subscribe, 120);
});

function setConnection(state, info = {}) {
  app.connection = state;
  const el = $('conn');
  el.className = `conn ${state}`;
  el.textContent = {
    connecting: 'connecting…',
    live: 'connected',
    reconnecting: `reconnecting in ${Math.round((info.delay || 0) / 1000)} s`,
    auth: 'token required',
  }[state];
  $('token-box').hidden = state !== 'auth' && !getToken();
  if (state === 'auth') $('token').focus();
}

$('token').value = getToken();
$('token-set').onclick = () => {
  setToken($('token').value);
  feed.connect();
  zones.load().catch(() => {});
};
$('token').onkeydown = (e) => e.key === 'Enter' && $('token-set').onclick();

// Clicks on the map: tools, contacts, vessels --------------------------------------

const wrapLon = (lng) => ((lng + 540) % 360) - 180;

map.on('click', (e) => {
  if (contactArmed) {
    setContactArmed(false);
    clearSelection();
    reportContactForm(e.latlng.lat, wrapLon(e.latlng.lng), {
      api,
      panel: $('panel'),
      body: $('panel-body'),
      onDone: (c) => sarLayer.upsertContact(c),
    });
    return;
  }
  if (sarArmed) {
    setSarArmed(false);
    runNearest(e.latlng.lat, wrapLon(e.latlng.lng));
    return;
  }
  const { x, y } = e.containerPoint;
  // A contact (drawn above the vessels) wins over a vessel under it.
  const c = sarLayer.hitContact(x, y);
  if (c != null) {
    openContact(c);
    return;
  }
  const m = vessels.hit(x, y);
  if (m != null) selectVessel(m);
});
map.on('mousemove', (e) => {
  const armed = sarArmed || contactArmed;
  const { x, y } = e.containerPoint;
  const over = !armed && (sarLayer.hitContact(x, y) != null || vessels.hit(x, y) != null);
  map.getContainer().style.cursor = armed ? 'crosshair' : over ? 'pointer' : '';
});

async function selectVessel(mmsi, { keepSelection = false } = {}) {
  vessels.selected = mmsi;
  sarLayer.selected = null;
  vessels.redraw();
  app.selected = mmsi;
  if (!keepSelection) app.selection = { type: 'vessel', mmsi };
  await showVessel(mmsi, {
    app,
    zones,
    trackLayer,
    onClose: clearSelection,
    onNewIncident: (m, name) => incidentPanel.newForm({ title: `${name || m} in distress`, vessels: [m] }),
  });
}
app.selectVessel = selectVessel;

function clearSelection() {
  vessels.selected = null;
  sarLayer.selected = null;
  app.selected = null;
  trackLayer.clearLayers();
  app.track = null;
  vessels.redraw();
}

function refreshSelected() {
  if (app.selected != null && app.refreshPanel) app.refreshPanel(vessels.vessels.get(app.selected));
}

$('panel-close').onclick = () => {
  closePanel();
  clearSelection();
  app.sar = null;
  vessels.redraw();
};

// Report a contact: arm, then click its position --------------------------------

let contactArmed = false;
function setContactArmed(on) {
  contactArmed = on;
  $('contact-tool').classList.toggle('armed', on);
  $('contact-tool').textContent = on ? 'Click its position…' : 'Report contact';
}
$('contact-tool').onclick = () => setContactArmed(!contactArmed);
addEventListener('keydown', (e) => e.key === 'Escape' && setContactArmed(false));

// SAR: who can reach a point first ------------------------------------------

let sarArmed = false;
function setSarArmed(on) {
  sarArmed = on;
  $('sar-tool').classList.toggle('armed', on);
  $('sar-tool').textContent = on ? 'Click the position…' : 'SAR: nearest';
}
$('sar-tool').onclick = () => setSarArmed(!sarArmed);
addEventListener('keydown', (e) => e.key === 'Escape' && setSarArmed(false));

/** The nearest vessels to a position: the map centres on it, then zooms out until the five first are in view. */
async function runNearest(lat, lon) {
  app.sar = { lat, lon, results: null };
  app.selection = { type: 'point', lat, lon };
  centreOn(lat, lon);
  vessels.redraw();
  const data = await showNearest(lat, lon, { app, onSelect: (m, la, lo) => { centreOn(la, lo, 9); selectVessel(m); } });
  app.sar = { lat, lon, results: data?.vessels || [] };
  fitAround(lat, lon, app.sar.results.slice(0, 5).map((r) => r.vessel));
  vessels.redraw();
}
app.runNearest = runNearest;

/** Zoom out (centre kept) until every one of `points` is on screen, not below zoom 5. */
function fitAround(lat, lon, points) {
  const size = map.getSize();
  let z = map.getZoom();
  const fits = (zoom) => {
    const c = map.project([lat, lon], zoom);
    return points.every((v) => {
      const p = map.project([v.lat, nearLon(v.lon, lon)], zoom);
      return Math.abs(p.x - c.x) < size.x / 2 - 20 && Math.abs(p.y - c.y) < size.y / 2 - 20;
    });
  };
  while (z > 5 && !fits(z)) z--;
  if (z !== map.getZoom()) map.setView([lat, nearLon(lon, map.getCenter().lng)], z);
}

function drawSar(ctx, layer) {
  const s = app.sar;
  if (!s) return;
  const [x, y] = layer.project(s.lat, s.lon);
  ctx.save();
  if (s.results) {
    ctx.strokeStyle = 'rgba(255,214,0,0.55)';
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 4]);
    for (const r of s.results.slice(0, 5)) {
      const v = layer.vessels.get(r.vessel.mmsi) || r.vessel;
      const [vx, vy] = layer.project(v.lat, v.lon);
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(vx, vy);
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  ctx.strokeStyle = '#ffd600';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(x, y, 10, 0, 7);
  ctx.moveTo(x - 16, y); ctx.lineTo(x + 16, y);
  ctx.moveTo(x, y - 16); ctx.lineTo(x, y + 16);
  ctx.stroke();
  ctx.restore();
}

// Search ----------------------------------------------------------------------

const search = new VesselSearch({
  api,
  input: $('search'),
  results: $('search-results'),
  onPick: (v) => {
    centreOn(v.lat, v.lon, 10);
    selectVessel(v.mmsi);
  },
});
app.search = search;

// Keyboard ----------------------------------------------------------------------

/** `c`: centre on what was selected last (an alert, a vessel, a contact, a position). */
async function centreOnSelection() {
  const s = app.selection;
  if (!s) return;
  let p = null;
  if (s.type === 'alert') p = alerts.alerts.get(s.id);
  else if (s.type === 'contact') p = sarLayer.contacts.get(s.id);
  else if (s.type === 'point') p = s;
  else if (s.type === 'vessel') {
    p = vessels.vessels.get(s.mmsi);
    if (!p) p = (await api(`/api/vessels/${s.mmsi}`).catch(() => null))?.position;
  }
  if (p?.lat != null) centreOn(p.lat, p.lon);
}

/** `j` / `k`: select the next / previous alert row and say what it is. */
function stepAlert(delta) {
  const sel = alerts.move(delta);
  if (sel) app.selection = { type: 'alert', id: sel[0].id };
}

installKeys({
  help: $('help'),
  actions: {
    next: () => stepAlert(1),
    prev: () => stepAlert(-1),
    ack: () => alerts.ackSelected(),
    centre: centreOnSelection,
    mute: () => alarm.setMuted(!alarm.muted),
    search: () => $('search').focus(),
  },
});
$('help-open').onclick = () => { $('help').hidden = false; $('help').querySelector('button.close').focus(); };

// Start -------------------------------------------------------------------------

addBasemap(map).catch((e) => console.error('base map', e));
zones.load().catch(() => {});
alerts.load().catch(() => {});
statusBar.start();
feed.connect();
