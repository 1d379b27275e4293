// The incident panel (in the side panel): an incident run from the map.
// Everything an operator does here is one action of the incident's log,
// `POST /api/incidents/{id}/actions` (docs/protocol.md, "Incidents"):
//
// - assign an asset (a vessel from "who can reach it first", or a unit
//   without AIS by name) and release it;
// - change the status (rescued, closed, reopened; assigning the first asset
//   and releasing the last move it between open and assets assigned by
//   themselves), with an optional reason;
// - add a note;
// - plan the search (docs/protocol.md, "Search planning"): compute a search
//   area from the contact's drift (`POST …/search-area`), plan a pattern for
//   an assigned vessel (`POST …/patterns`), see them on the map with the
//   swept region and the coverage so far (`GET …/coverage`), and download a
//   pattern as GPX, KML or NMEA for the searching unit.
//
// The answer (the whole incident) redraws the panel; a change made elsewhere
// arrives on the `incidents` channel and the panel fetches the incident
// again. The form to open a new incident (from an alert, a contact or a
// vessel: `POST /api/incidents`) is here too.

import L from 'leaflet';
import { esc } from './html.js';
import { STATUS } from './sar.js';
import { getToken } from './api.js';

/** Search objects (leeway categories, crates/sar/data/leeway.csv) offered in the form. */
const OBJECTS = [
  ['rubber_boat_overloaded', 'Overloaded rubber boat'],
  ['person_in_water', 'Person in water'],
  ['life_raft_no_drogue', 'Life raft, no drogue'],
  ['life_raft_drogue', 'Life raft with drogue'],
  ['small_wooden_boat', 'Small wooden boat'],
  ['small_boat_swamped', 'Small boat, swamped'],
  ['fishing_vessel', 'Fishing vessel'],
  ['sailboat', 'Sailboat'],
];
/** How often the coverage is asked again while the panel shows a search. */
const COVERAGE_EVERY_MS = 15000;
const fmtNm = (v) => (v == null ? '–' : `${v.toFixed(v < 10 ? 2 : 1)} NM`);
const pct = (p) => `${Math.round(p * 100)} %`;

const fmtMin = (m) => (m == null ? 'cannot reach' : m < 90 ? `${Math.round(m)} min` : `${(m / 60).toFixed(1)} h`);

/** The status changes offered from each status (the lifecycle in docs/protocol.md). */
const NEXT = {
  open: [['closed', 'Close incident']],
  assets_assigned: [['rescued', 'Mark rescued'], ['closed', 'Close incident']],
  rescued: [['closed', 'Close incident']],
  closed: [['open', 'Reopen']],
};

const assetLabel = (a) => (a.name && a.mmsi != null ? `${a.name} (${a.mmsi})` : a.name || String(a.mmsi));
/** An asset as the API names it: by MMSI, or by name when it has none. */
const assetRef = (a) => (a.mmsi != null ? { mmsi: a.mmsi } : { name: a.name });

function logText(e) {
  const what = e.text || e.title || e.contact_id || e.alert_id || e.mmsi
    || (e.asset && assetLabel(e.asset))
    || (e.status && `${STATUS[e.status] || e.status}${e.reason ? ` (${e.reason})` : ''}`) || '';
  return String(what);
}

export class IncidentPanel {
  constructor({ api, panel, body, sar, app, onSelect, onShown }) {
    this.api = api;
    this.panel = panel;
    this.body = body;
    this.sar = sar;
    this.app = app;
    this.onSelect = onSelect; // (mmsi, lat, lon): show a vessel
    this.onShown = onShown || (() => {}); // (incident, intercepts)
    this.incident = null;
    this.intercepts = null;
    /** The search shown: `{ id, area, patterns, coverage }` (tests read it). */
    this.search = null;
    this.searchLayer = null;
    this.coverageTimer = null;
  }

  /** Is the panel showing this incident now (not replaced by another panel)? */
  showing(id) {
    return !this.panel.hidden && this.body.querySelector(`.incident-panel[data-id="${CSS.escape(id)}"]`) != null;
  }

  /** Open the panel on an incident (an object held, or just its id). */
  async open(i) {
    this.panel.hidden = false;
    this.incident = typeof i === 'string' ? this.sar.incidents.get(i) || { id: i, title: '', status: 'open', contacts: [], alerts: [], vessels: [], assets: [], log: [] } : i;
    this.intercepts = null;
    this.skeleton();
    this.render();
    this.app.incidentPanel = { id: this.incident.id, data: null };
    this.clearSearch();
    await Promise.all([this.refresh(), this.loadIntercepts()]);
    await this.loadSearch();
  }

  /** Fetch the incident again (the channel carries only the latest log entries). */
  async refresh() {
    const id = this.incident.id;
    try {
      const full = await this.api(`/api/incidents/${encodeURIComponent(id)}`);
      if (!this.showing(id) || full.version < (this.incident.version ?? 0)) return;
      this.incident = full;
      this.render();
    } catch (e) {
      this.message(e.message, true);
    }
  }

  /** The channel says this incident changed: follow it if it is newer than what is shown. */
  changed(i) {
    if (this.incident && i.id === this.incident.id && this.showing(i.id) && i.version > (this.incident.version ?? 0)) {
      const assetsBefore = JSON.stringify(this.incident.assets);
      const searchBefore = this.searchKey();
      this.refresh().then(() => {
        if (JSON.stringify(this.incident.assets) !== assetsBefore) this.loadIntercepts();
        if (this.searchKey() !== searchBefore) this.loadSearch();
      });
    }
  }

  skeleton() {
    const i = this.incident;
    this.body.innerHTML = `<div class="incident-panel" data-id="${esc(i.id)}">
      <h2><span class="inc-id">${esc(i.id)}</span> · <span class="inc-status"></span></h2>
      <p class="inc-title"></p>
      <p class="muted inc-links"></p>
      <div class="inc-status-actions"><input class="inc-reason" placeholder="reason (optional)" maxlength="2000"> <span class="inc-next"></span></div>
      <h3>Assets</h3>
      <ul class="inc-assets"></ul>
      <form class="inc-assign-named"><input class="inc-unit" placeholder="unit without AIS, e.g. HELO 21" maxlength="200" required> <button type="submit">Assign</button></form>
      <h3>Who can reach it first</h3><div class="intercepts muted">asking…</div>
      <h3>Search</h3>
      <div class="inc-search"><p class="inc-area muted">no search area yet</p><p class="inc-drift" hidden><label>Drift at <input class="inc-datum-time" type="range" min="0" max="0" step="1" value="0"> <span class="inc-datum-at"></span></label></p><p class="inc-coverage muted"></p><ul class="inc-patterns"></ul></div>
      <form class="inc-plan-area report">
        <label>Object <select class="sa-object">${OBJECTS.map(([k, n]) => `<option value="${k}">${esc(n)}</option>`).join('')}</select></label>
        <label>Wind from <input class="sa-wind-from" type="number" min="0" max="360" step="1" required style="width:4.5em">° <input class="sa-wind-kn" type="number" min="0" max="150" step="0.1" required style="width:4em"> kn</label>
        <label>Current to <input class="sa-cur-set" type="number" min="0" max="360" step="1" style="width:4.5em">° <input class="sa-cur-kn" type="number" min="0" max="15" step="0.1" style="width:4em"> kn <span class="muted">(blank: from a drifting beacon nearby)</span></label>
        <label>In <input class="sa-ahead" type="number" min="0" max="2880" step="1" value="0" style="width:4.5em"> min <button type="submit">Compute search area</button></label>
      </form>
      <form class="inc-plan-pattern report">
        <label>Pattern <select class="sp-kind"><option value="expanding_square">Expanding square from the datum</option><option value="parallel">Parallel sweep over the area</option></select></label>
        <label>For <select class="sp-asset"></select></label>
        <label>Spacing <input class="sp-spacing" type="number" min="0.1" max="50" step="0.1" value="1" style="width:4em"> NM at <input class="sp-speed" type="number" min="1" max="600" step="1" value="10" style="width:4em"> kn <button type="submit">Plan pattern</button></label>
      </form>
      <h3>Note</h3>
      <form class="inc-note"><textarea class="inc-note-text" rows="2" maxlength="2000" required placeholder="what happened, who was called…"></textarea><button type="submit">Add note</button></form>
      <p class="inc-msg" role="status"></p>
      <h3>Log</h3><ol class="incident-log"></ol></div>`;
    const q = (s) => this.body.querySelector(s);
    q('.inc-assign-named').onsubmit = (e) => {
      e.preventDefault();
      const name = q('.inc-unit').value.trim();
      if (name) this.act({ action: 'assign_asset', asset: { name } }, e.submitter).then((ok) => ok && (q('.inc-unit').value = ''));
    };
    q('.inc-note').onsubmit = (e) => {
      e.preventDefault();
      const text = q('.inc-note-text').value.trim();
      if (text) this.act({ action: 'note', text }, e.submitter).then((ok) => ok && (q('.inc-note-text').value = ''));
    };
    q('.inc-plan-area').onsubmit = (e) => {
      e.preventDefault();
      const num = (c) => (q(c).value.trim() === '' ? null : Number(q(c).value));
      const now = this.app.status?.time_ms || Date.now();
      const body = {
        object: q('.sa-object').value,
        wind: { from_deg: num('.sa-wind-from'), kn: num('.sa-wind-kn') },
        at: now + (num('.sa-ahead') || 0) * 60000,
      };
      const set = num('.sa-cur-set');
      const kn = num('.sa-cur-kn');
      if (set != null || kn != null) body.current = { set_deg: set ?? 0, kn: kn ?? 0 };
      this.plan('search-area', body, e.submitter);
    };
    q('.inc-plan-pattern').onsubmit = (e) => {
      e.preventDefault();
      const area = this.search?.area;
      if (!area) return;
      const kind = q('.sp-kind').value;
      const body = {
        asset: Number(q('.sp-asset').value),
        pattern: kind,
        spacing_nm: Number(q('.sp-spacing').value),
        speed_kn: Number(q('.sp-speed').value),
        start: this.app.status?.time_ms || Date.now(),
      };
      if (kind === 'parallel') body.fill_area = true;
      else Object.assign(body, { csp: area.datum, first_leg_deg: 0, legs: 9 });
      this.plan('patterns', body, e.submitter);
    };
  }

  /** Fill the panel from `this.incident` (the note being typed stays). */
  render() {
    const i = this.incident;
    const root = this.body.querySelector('.incident-panel');
    if (!root) return;
    const q = (s) => root.querySelector(s);
    root.dataset.status = i.status;
    root.dataset.version = String(i.version ?? 0);
    q('.inc-status').textContent = STATUS[i.status] || i.status;
    q('.inc-title').textContent = i.title;
    const links = [
      i.contacts?.length && `contacts: ${i.contacts.join(', ')}`,
      i.alerts?.length && `alerts: ${i.alerts.join(', ')}`,
      i.vessels?.length && `vessels in distress: ${i.vessels.join(', ')}`,
    ].filter(Boolean);
    q('.inc-links').textContent = links.join(' · ') || 'nothing linked';
    const closed = i.status === 'closed';
    q('.inc-next').replaceChildren(...(NEXT[i.status] || []).map(([status, label]) => {
      const b = document.createElement('button');
      b.className = `inc-set-${status}`;
      b.dataset.status = status;
      b.textContent = label;
      b.onclick = () => {
        const reason = q('.inc-reason').value.trim();
        this.act({ action: 'set_status', status, ...(reason ? { reason } : {}) }, b).then((ok) => ok && (q('.inc-reason').value = ''));
      };
      return b;
    }));
    q('.inc-assets').replaceChildren(...(i.assets.length ? i.assets : [null]).map((a) => {
      const li = document.createElement('li');
      if (!a) {
        li.className = 'muted';
        li.textContent = 'none assigned';
        return li;
      }
      li.className = 'inc-asset';
      if (a.mmsi != null) li.dataset.mmsi = String(a.mmsi);
      if (a.name) li.dataset.name = a.name;
      li.innerHTML = `${esc(assetLabel(a))} <span class="muted">${a.assigned ? `since ${esc(a.assigned.slice(11, 16))}Z` : ''}</span> `;
      if (!closed) {
        const b = document.createElement('button');
        b.className = 'release';
        b.textContent = 'Release';
        b.onclick = () => this.act({ action: 'release_asset', asset: assetRef(a) }, b);
        li.append(b);
      }
      return li;
    }));
    q('.inc-assign-named').hidden = closed;
    q('.inc-plan-area').hidden = closed;
    const vesselsAssigned = i.assets.filter((a) => a.mmsi != null);
    const sel = q('.sp-asset');
    const chosen = sel.value;
    sel.innerHTML = vesselsAssigned.map((a) => `<option value="${a.mmsi}">${esc(assetLabel(a))}</option>`).join('');
    if (vesselsAssigned.some((a) => String(a.mmsi) === chosen)) sel.value = chosen;
    q('.inc-plan-pattern').hidden = closed || !vesselsAssigned.length || !i.search_areas?.length;
    const log = q('.incident-log');
    log.innerHTML = [...i.log].reverse().map((e) => `<li data-action="${esc(e.action)}"><span class="muted">${esc(e.time.slice(11, 19))}Z</span> <b>${esc(e.action.replace(/_/g, ' '))}</b> ${esc(logText(e))} <span class="muted">— ${esc(e.who)}</span></li>`).join('');
    log.dataset.total = String(i.log.length);
    this.renderIntercepts();
  }

  /** Who can reach it first: `/api/incidents/{id}/intercepts` (409 while it has no position). */
  async loadIntercepts() {
    const id = this.incident.id;
    let data = null;
    try {
      data = await this.api(`/api/incidents/${encodeURIComponent(id)}/intercepts?k=8`);
    } catch (e) {
      if (!this.showing(id)) return;
      const box = this.body.querySelector('.intercepts');
      box.className = 'intercepts muted';
      box.textContent = e.status === 409 ? 'no position yet: link a contact, an alert or a vessel' : e.message;
      return;
    }
    if (!this.showing(id)) return;
    this.intercepts = data;
    this.app.incidentPanel = { id, data };
    this.renderIntercepts();
    this.onShown(this.incident, data);
  }

  renderIntercepts() {
    const data = this.intercepts;
    const box = this.body.querySelector('.intercepts');
    if (!data || !box) return;
    const i = this.incident;
    const closed = i.status === 'closed';
    const assigned = new Set(i.assets.filter((a) => a.mmsi != null).map((a) => a.mmsi));
    const rows = data.vessels.map((r, k) => {
      const v = r.vessel;
      const on = assigned.has(v.mmsi);
      return `<tr data-i="${k}" data-mmsi="${v.mmsi}" class="${on ? 'assigned' : ''}"><td>${esc(v.name || v.mmsi)}${on ? ' ✓' : ''}<br><span class="muted">${esc(v.class)} · ${v.sog ?? '–'} kn</span></td>
        <td class="num">${r.distance_nm.toFixed(1)}</td><td class="num ttr">${fmtMin(r.time_to_intercept_min)}</td><td class="num">${r.steer_deg == null ? '–' : `${Math.round(r.steer_deg)}°`}</td>
        <td>${closed ? '' : `<button class="${on ? 'release' : 'assign'}">${on ? 'Release' : 'Assign'}</button>`}</td></tr>`;
    });
    box.className = 'intercepts';
    box.innerHTML = `<table class="nearest"><thead><tr><th>Vessel</th><th>NM</th><th>Intercept</th><th>Steer</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>
      <p class="muted">Time to intercept at each vessel's speed, the contact drifting; ✓ assigned.</p>`;
    box.querySelectorAll('tr[data-i]').forEach((tr) => {
      const v = data.vessels[+tr.dataset.i].vessel;
      tr.onclick = () => this.onSelect(v.mmsi, v.lat, v.lon);
      const b = tr.querySelector('button');
      if (b) {
        b.onclick = (e) => {
          e.stopPropagation();
          const action = b.classList.contains('assign') ? 'assign_asset' : 'release_asset';
          this.act({ action, asset: { mmsi: v.mmsi } }, b);
        };
      }
    });
  }

  // ---- search planning ----

  /** What the search shown depends on: the numbers of areas and patterns. */
  searchKey() {
    const i = this.incident;
    return `${i?.id}/${i?.search_areas?.length ?? 0}/${i?.patterns?.length ?? 0}`;
  }

  /** Take the search off the map (another incident, or another panel). */
  clearSearch() {
    clearInterval(this.coverageTimer);
    this.coverageTimer = null;
    this.search = null;
    this.searchLayer?.clearLayers();
  }

  /**
   * The incident's current search area, its patterns and the coverage so
   * far (only asked for when the incident has them: no 404s), drawn on the
   * map and listed in the panel.
   */
  async loadSearch() {
    const i = this.incident;
    const id = i.id;
    const base = `/api/incidents/${encodeURIComponent(id)}`;
    if (!i.search_areas?.length) {
      this.clearSearch();
      this.renderSearch();
      return;
    }
    try {
      const [area, patterns] = await Promise.all([
        this.api(`${base}/search-area`),
        i.patterns?.length ? this.api(`${base}/patterns`) : Promise.resolve({ features: [] }),
      ]);
      if (!this.showing(id)) return;
      this.search = { id, area, patterns: patterns.features, coverage: this.search?.id === id ? this.search.coverage : null };
      await this.loadCoverage();
    } catch (e) {
      if (this.showing(id)) this.message(e.message, true);
      return;
    }
    clearInterval(this.coverageTimer);
    this.coverageTimer = setInterval(() => {
      if (!this.showing(id) || this.search?.id !== id) this.clearSearch();
      else this.loadCoverage().catch(() => {});
    }, COVERAGE_EVERY_MS);
  }

  /**
   * Coverage pushed on the incidents channel (`{"type":"coverage"}`) as
   * the assets' positions arrive: shown at once for the incident on screen
   * (the periodic `GET …/coverage` stays as a fallback).
   */
  pushCoverage(c) {
    const s = this.search;
    if (!c || !s || s.id !== c.incident || !this.showing(s.id)) return;
    s.coverage = c;
    this.renderSearch();
    this.drawSearch();
  }

  async loadCoverage() {
    const s = this.search;
    if (!s) return;
    s.coverage = await this.api(`/api/incidents/${encodeURIComponent(s.id)}/coverage`);
    if (this.search === s && this.showing(s.id)) {
      this.renderSearch();
      this.drawSearch();
    }
  }

  renderSearch() {
    const root = this.body.querySelector('.incident-panel');
    if (!root) return;
    const q = (sel) => root.querySelector(sel);
    const s = this.search;
    const areaBox = q('.inc-area');
    const covBox = q('.inc-coverage');
    const list = q('.inc-patterns');
    if (!s) {
      areaBox.textContent = 'no search area yet';
      covBox.textContent = '';
      list.replaceChildren();
      return;
    }
    const a = s.area;
    const p = a.area.properties;
    const cur = p.current?.source === 'beacon' ? ` · current from beacon ${p.current.mmsi}` : '';
    areaBox.className = 'inc-area';
    areaBox.dataset.n = String(p.n);
    areaBox.textContent = `Area ${p.n}: datum ${a.datum.lat.toFixed(4)}, ${a.datum.lon.toFixed(4)} · radius ${fmtNm(a.radius_nm)} (E ${fmtNm(a.error_nm)}) · ${p.length_nm.toFixed(1)} × ${p.width_nm.toFixed(1)} NM · drift ${a.drift.kn.toFixed(2)} kn to ${Math.round(a.drift.deg)}°${cur}`;
    this.renderDrift(root);
    const c = s.coverage;
    covBox.textContent = c ? `Coverage ${c.coverage_factor.toFixed(2)} · POD ${pct(c.pod)}${c.cumulative_pod > c.pod + 1e-9 ? ` (all searches ${pct(c.cumulative_pod)})` : ''} · until ${c.until.slice(11, 16)}Z` : '';
    list.replaceChildren(...s.patterns.map((f) => {
      const pp = f.properties;
      const li = document.createElement('li');
      li.className = 'inc-pattern';
      li.dataset.n = String(pp.n);
      li.innerHTML = `${esc(pp.code)} ${esc(pp.asset_name || pp.asset || '')} <span class="muted">${pp.length_nm.toFixed(1)} NM, ${esc(pp.start.slice(11, 16))}–${esc(pp.end.slice(11, 16))}Z</span> `;
      for (const fmt of ['gpx', 'kml', 'nmea']) {
        const b = document.createElement('button');
        b.className = `dl-${fmt}`;
        b.textContent = fmt.toUpperCase();
        b.onclick = () => this.download(pp.n, fmt, b);
        li.append(b, ' ');
      }
      return li;
    }));
  }

  /**
   * The datum track's time slider: from the last known position (left) to
   * the time of interest (right, where it starts); moving it shows where
   * the datum and the left and right divergence datums were at that time.
   */
  renderDrift(root) {
    const box = root.querySelector('.inc-drift');
    const slider = root.querySelector('.inc-datum-time');
    const t = this.datumTrack();
    box.hidden = !t;
    if (!t) return;
    const last = t.times.length - 1;
    if (slider.max !== String(last)) {
      slider.max = String(last);
      slider.value = String(last);
    }
    const show = () => {
      const i = Number(slider.value);
      root.querySelector('.inc-datum-at').textContent = `${t.times[i].slice(11, 16)}Z · datum ${t.datum[i][1].toFixed(4)}, ${t.datum[i][0].toFixed(4)}`;
      this.datumIndex = i;
      this.drawSearch();
    };
    slider.oninput = show;
    root.querySelector('.inc-datum-at').textContent = `${t.times[Number(slider.value)].slice(11, 16)}Z`;
    this.datumIndex = Number(slider.value);
  }

  /** `{ times, datum, left, right }` ([lon, lat] per time) of the shown area's datum track, or null. */
  datumTrack() {
    const fc = this.search?.area?.track;
    const line = (side) => fc?.features?.find((f) => f.properties?.side === side);
    const d = line('datum');
    if (!d || d.geometry?.type !== 'LineString') return null;
    const times = d.properties.times || [];
    if (!times.length) return null;
    return { times, datum: d.geometry.coordinates, left: line('left')?.geometry.coordinates, right: line('right')?.geometry.coordinates };
  }

  /** The area (dashed), the datum circle, the patterns and the swept region on the map. */
  drawSearch() {
    const map = this.app.map;
    if (!map) return;
    if (!this.searchLayer) this.searchLayer = L.layerGroup().addTo(map);
    const g = this.searchLayer;
    g.clearLayers();
    const s = this.search;
    if (!s) return;
    const opts = { interactive: false };
    if (s.coverage?.swept) g.addLayer(L.geoJSON(s.coverage.swept, { ...opts, style: { color: '#3ddc84', weight: 0, fillOpacity: 0.3 } }));
    g.addLayer(L.geoJSON(s.area.area, { ...opts, style: { color: '#ffb347', weight: 2, dashArray: '6 4', fillOpacity: 0.05 } }));
    const circle = s.area.area.properties?.circle;
    if (circle) g.addLayer(L.geoJSON(circle, { ...opts, style: { color: '#ffb347', weight: 1, fill: false } }));
    for (const f of s.patterns) g.addLayer(L.geoJSON(f, { ...opts, style: { color: '#7fd4ff', weight: 1.5, dashArray: '3 3' } }));
    // The datum track, and the datums at the slider's time.
    const t = this.datumTrack();
    if (t) {
      const ll = (c) => [c[1], c[0]];
      g.addLayer(L.polyline(t.datum.map(ll), { ...opts, color: '#ffb347', weight: 1, dashArray: '2 4' }));
      const i = Math.min(this.datumIndex ?? t.times.length - 1, t.times.length - 1);
      for (const [pts, cls] of [[t.left, 'left'], [t.right, 'right'], [t.datum, 'datum']]) {
        if (!pts?.[i]) continue;
        g.addLayer(L.circleMarker(ll(pts[i]), { ...opts, radius: cls === 'datum' ? 5 : 3, color: '#ffb347', fillOpacity: cls === 'datum' ? 0.9 : 0.4, className: `datum-${cls}` }));
      }
    }
  }

  /** Download pattern `n` as a file (fetched with the token, which a plain link cannot send). */
  async download(n, fmt, button) {
    const id = this.incident.id;
    button.disabled = true;
    try {
      const headers = getToken() ? { Authorization: `Bearer ${getToken()}` } : {};
      const r = await fetch(`/api/incidents/${encodeURIComponent(id)}/patterns/${n}?format=${fmt}`, { headers });
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
      const url = URL.createObjectURL(await r.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `${id}-pattern-${n}.${fmt}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      this.message(e.message, true);
    } finally {
      button.disabled = false;
    }
  }

  /** A planning request (`search-area`, `patterns`); the incident changes with it. */
  async plan(route, body, button) {
    const id = this.incident.id;
    if (button) button.disabled = true;
    this.message('computing…');
    try {
      await this.api(`/api/incidents/${encodeURIComponent(id)}/${route}`, { method: 'POST', body });
      if (!this.showing(id)) return;
      this.message('');
      await this.refresh();
      await this.loadSearch();
    } catch (e) {
      const auth = e.status === 401 || e.status === 403;
      this.message(auth ? 'this needs an operator token' : e.message, true);
    } finally {
      if (button?.isConnected) button.disabled = false;
    }
  }

  /** Run one action; the answer (the whole incident) is shown. True when done. */
  async act(body, button) {
    const id = this.incident.id;
    if (button) button.disabled = true;
    this.message('saving…');
    try {
      const inc = await this.api(`/api/incidents/${encodeURIComponent(id)}/actions`, { method: 'POST', body });
      if (!this.showing(id)) {
        this.sar.upsertIncident(inc);
        return true;
      }
      const assetsChanged = JSON.stringify(inc.assets) !== JSON.stringify(this.incident.assets);
      this.incident = inc; // first, so the channel's echo of this change is not fetched again
      this.sar.upsertIncident(inc);
      this.render();
      this.message('');
      if (assetsChanged) this.loadIntercepts();
      return true;
    } catch (e) {
      const auth = e.status === 401 || e.status === 403;
      this.message(auth ? 'this needs an operator token' : e.message, true);
      if (button?.isConnected) button.disabled = false;
      return false;
    }
  }

  message(text, error = false) {
    const m = this.body.querySelector('.inc-msg');
    if (!m) return;
    m.textContent = text;
    m.className = `inc-msg${error ? ' error' : ' muted'}`;
  }

  /**
   * The form that opens a new incident, linked to what it came from:
   * `{ title, contacts, alerts, vessels }` (POST /api/incidents).
   */
  newForm({ title = '', contacts = [], alerts = [], vessels = [] }) {
    this.panel.hidden = false;
    this.clearSearch();
    const links = [
      ...contacts.map((c) => `contact ${c}`), ...alerts.map((a) => `alert ${a}`), ...vessels.map((m) => `vessel ${m}`),
    ];
    this.body.innerHTML = `<h2>New incident</h2>
      <form id="new-incident" class="report">
        <label>Title <input id="ni-title" required maxlength="200"></label>
        <p class="muted">Linked: ${esc(links.join(', ') || 'nothing')}</p>
        <label>Note <input id="ni-note" maxlength="2000" placeholder="optional"></label>
        <button id="ni-submit" type="submit">Open incident</button> <span class="ni-msg muted"></span>
      </form>`;
    const q = (s) => this.body.querySelector(s);
    q('#ni-title').value = title.slice(0, 200);
    q('#new-incident').onsubmit = async (e) => {
      e.preventDefault();
      const note = q('#ni-note').value.trim();
      q('#ni-submit').disabled = true;
      q('.ni-msg').textContent = 'saving…';
      try {
        const inc = await this.api('/api/incidents', {
          method: 'POST',
          body: { title: q('#ni-title').value.trim(), contacts, alerts, vessels, ...(note ? { note } : {}) },
        });
        this.sar.upsertIncident(inc);
        await this.open(inc);
      } catch (err) {
        q('#ni-submit').disabled = false;
        q('.ni-msg').className = 'ni-msg error';
        q('.ni-msg').textContent = err.status === 401 || err.status === 403 ? 'opening an incident needs an operator token' : err.message;
      }
    };
    q('#ni-title').focus();
  }
}
