// Lookout operations-room client: wiring of the map, the feed, the panels.

import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import './style.css';
import { api, Feed, getToken, setToken } from './api.js';
import { viewBoxes, nearLon } from './geo.js';
import { VesselLayer, LEGEND } from './vessels.js';
import { addBasemap, drawGraticule, ZoneLayer, esc } from './basemap.js';
import { AlertsPanel } from './alerts.js';
import { showVessel, showNearest, closePanel } from './panel.js';
import { SarLayer, showIncident, reportContactForm } from './sar.js';

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
L.control.scale({ imperial: true, metric: false, position: 'bottomleft' }).addTo(map);

const app = {
  map,
  subscribes: [], // every subscribe sent (tests and debugging)
  messages: { snapshot: 0, update: 0, alert: 0, zones: 0, sources: 0, error: 0 },
  status: null,
  sources: [],
  connection: 'connecting',
  sar: null, // { lat, lon, results }
  track: null,
};
window.lookout = app;

// Layers -----------------------------------------------------------------

const trackLayer = L.layerGroup().addTo(map);
const vessels = new VesselLayer(map, {
  drawUnder: drawGraticule,
  drawOver: (ctx, layer) => {
    sarLayer.draw(ctx, layer);
    drawSar(ctx, layer);
  },
});
app.vessels = vessels;
const zones = new ZoneLayer(map, $('zone-kinds'));
app.zones = zones;

$('show-labels').onchange = (e) => {
  vessels.showLabels = e.target.checked;
  vessels.redraw();
};
$('zone-kinds').insertAdjacentHTML('afterend',
  `<ul class="legend">${LEGEND.map(([c, t]) => `<li><i style="background:${c}"></i>${esc(t)}</li>`).join('')}
   <li><i style="background:#9aa5b1;opacity:.5"></i>stale (faded)</li><li><i style="background:#9aa5b1;opacity:.25"></i>lost</li></ul>`);

// Alerts -----------------------------------------------------------------

const alerts = new AlertsPanel({
  list: $('alert-list'),
  count: $('alert-count'),
  banner: $('banner'),
  onFocus: (a) => {
    if (a?.lat == null) return;
    map.setView([a.lat, a.lon], Math.max(map.getZoom(), 10));
    if (a.mmsi && vessels.vessels.has(a.mmsi)) selectVessel(a.mmsi);
  },
  onNearest: (lat, lon) => runNearest(lat, lon),
});
app.alerts = alerts;

// Contacts and incidents -------------------------------------------------------

const sarLayer = new SarLayer({
  list: $('incident-list'),
  count: $('incident-count'),
  onFocus: async (p, incident) => {
    if (p) map.setView([p.lat, p.lon], Math.max(map.getZoom(), 9));
    if (!incident) return;
    clearSelection();
    const data = await showIncident(incident, {
      api,
      panel: $('panel'),
      body: $('panel-body'),
      onSelect: (m, la, lo) => {
        map.setView([la, lo], Math.max(map.getZoom(), 9));
        selectVessel(m);
      },
    });
    // The intercept lines: from the incident's position to the five first.
    if (p) app.sar = { lat: p.lat, lon: p.lon, results: data?.vessels || [] };
    app.incidentPanel = { id: incident.id, data };
    vessels.redraw();
  },
  redraw: () => vessels.redraw(),
});
app.sarLayer = sarLayer;

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
        alerts.upsert(m.alert);
        break;
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
      case 'sources':
        // The server sends {status, sources}; older shape: a plain list.
        if (Array.isArray(m.sources)) app.sources = m.sources;
        else {
          app.sources = m.sources.sources || [];
          if (m.sources.status) app.status = m.sources.status;
        }
        renderStatus();
        break;
      case 'error':
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

// Vessel selection ---------------------------------------------------------

map.on('click', (e) => {
  if (contactArmed) {
    setContactArmed(false);
    clearSelection();
    reportContactForm(e.latlng.lat, ((e.latlng.lng + 540) % 360) - 180, {
      api,
      panel: $('panel'),
      body: $('panel-body'),
      onDone: (c) => sarLayer.upsertContact(c),
    });
    return;
  }
  if (sarArmed) {
    setSarArmed(false);
    runNearest(e.latlng.lat, ((e.latlng.lng + 540) % 360) - 180);
    return;
  }
  const m = vessels.hit(e.containerPoint.x, e.containerPoint.y);
  if (m != null) selectVessel(m);
});
map.on('mousemove', (e) => {
  const armed = sarArmed || contactArmed;
  const over = !armed && vessels.hit(e.containerPoint.x, e.containerPoint.y) != null;
  map.getContainer().style.cursor = armed ? 'crosshair' : over ? 'pointer' : '';
});

async function selectVessel(mmsi) {
  vessels.selected = mmsi;
  vessels.redraw();
  app.selected = mmsi;
  await showVessel(mmsi, { app, zones, trackLayer, onClose: clearSelection });
}
app.selectVessel = selectVessel;

function clearSelection() {
  vessels.selected = null;
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

async function runNearest(lat, lon) {
  app.sar = { lat, lon, results: null };
  vessels.redraw();
  const data = await showNearest(lat, lon, { app, onSelect: (m, la, lo) => { map.setView([la, lo], Math.max(map.getZoom(), 9)); selectVessel(m); } });
  app.sar = { lat, lon, results: data?.vessels || [] };
  vessels.redraw();
}
app.runNearest = runNearest;

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

const searchBox = $('search'), results = $('search-results');
searchBox.addEventListener('input', () => runSearch(searchBox.value));
searchBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') results.querySelector('li')?.click();
  if (e.key === 'Escape') results.hidden = true;
});

async function runSearch(q) {
  q = q.trim().toUpperCase();
  if (q.length < 2) {
    results.hidden = true;
    return;
  }
  const hits = [];
  for (const v of vessels.vessels.values()) {
    if (String(v.mmsi).startsWith(q) || v.name?.toUpperCase().includes(q) || v.callsign?.toUpperCase().includes(q)) {
      hits.push(v);
      if (hits.length >= 30) break;
    }
  }
  // An exact MMSI not in view: ask the server.
  if (/^\d{9}$/.test(q) && !hits.some((v) => String(v.mmsi) === q)) {
    try {
      const d = await api(`/api/vessels/${q}`);
      if (d?.position) hits.unshift({ mmsi: d.mmsi, name: d.info?.name, callsign: d.info?.callsign, lat: d.position.lat, lon: d.position.lon, class: d.class });
    } catch {
      /* not known */
    }
  }
  if (searchBox.value.trim().toUpperCase() !== q) return; // typed on meanwhile
  results.replaceChildren(...(hits.length ? hits : [null]).map((v) => {
    const li = document.createElement('li');
    if (!v) {
      li.textContent = 'No vessel loaded matches';
      li.className = 'none';
      return li;
    }
    li.innerHTML = `<b>${esc(v.name || '(no name)')}</b> <span>${v.mmsi}</span> <span>${esc(v.callsign || '')}</span>`;
    li.onclick = () => {
      results.hidden = true;
      map.setView([v.lat, nearLon(v.lon, map.getCenter().lng)], Math.max(map.getZoom(), 10));
      selectVessel(v.mmsi);
    };
    return li;
  }));
  results.hidden = false;
}
document.addEventListener('click', (e) => {
  if (!results.contains(e.target) && e.target !== searchBox) results.hidden = true;
});

// Status bar --------------------------------------------------------------------

async function pollStatus() {
  try {
    app.status = await api('/api/status');
    if (!app.sources.length) app.sources = await api('/api/sources');
  } catch {
    /* shown by the connection state */
  }
  renderStatus();
}
setInterval(pollStatus, 2000);

function renderStatus() {
  const s = app.status;
  if (s) {
    const replay = s.mode === 'replay';
    $('st-mode').textContent = replay ? `REPLAY ${s.replay_speed > 0 ? `${s.replay_speed}×` : 'max speed'}` : 'LIVE';
    $('st-mode').className = replay ? 'replay' : 'live';
    $('st-mode').title = s.replay || '';
    $('st-time').textContent = s.time ? `${s.time.slice(0, 10)} ${s.time.slice(11, 19)}Z` : 'no data yet';
    $('st-rate').textContent = `${Math.round(s.messages_per_s)} msg/s`;
    $('st-count').textContent = `${vessels.visible.toLocaleString()} in view · ${vessels.vessels.size.toLocaleString()} subscribed · ${(s.vessels ?? 0).toLocaleString()} in picture`;
  }
  const feeds = app.sources || [];
  $('st-feeds').innerHTML = feeds
    .map((f) => {
      const ok = ['connected', 'listening', 'reading', 'finished'].includes(f.state);
      return `<span class="feed ${ok ? 'ok' : 'bad'}" title="${esc(f.kind)} · ${f.lines} lines · ${f.messages} messages${f.last_error ? ` · ${esc(f.last_error)}` : ''}">${esc(f.name)}: ${esc(f.state)}</span>`;
    })
    .join(' ');
}

// Start -------------------------------------------------------------------------

addBasemap(map).catch((e) => console.error('base map', e));
zones.load().catch(() => {});
alerts.load().catch(() => {});
pollStatus();
feed.connect();
