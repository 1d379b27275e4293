// The side panel: a vessel's identity, static and voyage data, last report
// age, zones and track, and "Open incident" for it; or the SAR "nearest
// vessels" list.

import L from 'leaflet';
import { api } from './api.js';
import { esc } from './html.js';
import { nearLon } from './geo.js';
import { formatPosition } from './position.js';

const $ = (id) => document.getElementById(id);

const NAV = ['under way using engine', 'at anchor', 'not under command', 'restricted manoeuvrability',
  'constrained by draught', 'moored', 'aground', 'engaged in fishing', 'under way sailing',
  'reserved (HSC)', 'reserved (WIG)', 'towing astern', 'pushing ahead / towing alongside', 'reserved',
  'AIS-SART / MOB / EPIRB active', 'not defined'];

export function shipTypeName(t) {
  if (t == null) return '–';
  const special = { 30: 'fishing', 31: 'towing', 32: 'towing (large)', 33: 'dredging / underwater ops', 34: 'diving ops',
    35: 'military ops', 36: 'sailing', 37: 'pleasure craft', 50: 'pilot vessel', 51: 'search and rescue vessel',
    52: 'tug', 53: 'port tender', 54: 'anti-pollution', 55: 'law enforcement', 58: 'medical transport', 59: 'noncombatant' };
  if (special[t]) return `${special[t]} (${t})`;
  const decade = { 2: 'wing in ground', 4: 'high-speed craft', 6: 'passenger', 7: 'cargo', 8: 'tanker', 9: 'other type' }[Math.floor(t / 10)];
  return decade ? `${decade} (${t})` : `type ${t}`;
}

export function age(s) {
  if (s == null || !Number.isFinite(s)) return '–';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

const row = (k, v) => (v == null || v === '' ? '' : `<tr><th>${k}</th><td>${v}</td></tr>`);

export function closePanel() {
  $('panel').hidden = true;
  $('panel-body').replaceChildren();
}

/** Open the panel on a vessel and draw its track. */
export async function showVessel(mmsi, { app, zones, trackLayer, onNewIncident }) {
  $('panel').hidden = false;
  const body = $('panel-body');
  body.innerHTML = `<h2>${mmsi}</h2><p class="muted">loading…</p>`;
  let d, track;
  try {
    [d, track] = await Promise.all([api(`/api/vessels/${mmsi}`), api(`/api/vessels/${mmsi}/track`).catch(() => null)]);
  } catch (e) {
    body.innerHTML = `<h2>${mmsi}</h2><p class="error">${esc(e.message)}</p>`;
    return;
  }
  if (app.selected !== mmsi) return;
  const info = d.info || {};
  const dims = info.dimensions;
  const eta = info.eta && info.eta.month ? `${String(info.eta.day ?? '–').padStart(2, '0')}/${String(info.eta.month).padStart(2, '0')} ${String(info.eta.hour ?? 0).padStart(2, '0')}:${String(info.eta.minute ?? 0).padStart(2, '0')}Z` : null;
  const zoneList = (d.zones || []).map((z) => `<li>${esc(z.name)} <span class="muted">${esc(z.kind.replace('_', ' '))}</span></li>`).join('');
  body.innerHTML = `
    <h2 class="v-name">${esc(info.name || '(no name)')}</h2>
    <div class="v-sub"><span class="pill">${esc(d.class)}</span> <span class="pill state-${esc(d.state_name)}">${esc(d.state_name)}</span></div>
    <table class="kv">
      ${row('MMSI', d.mmsi)}${row('Call sign', esc(info.callsign))}${row('IMO', info.imo)}
      ${row('Type', esc(shipTypeName(info.ship_type)))}
      ${row('Size', dims ? `${dims.to_bow + dims.to_stern} × ${dims.to_port + dims.to_starboard} m` : null)}
      ${row('Draught', info.draught_m != null ? `${info.draught_m.toFixed(1)} m` : null)}
      ${row('Destination', esc(info.destination))}${row('ETA', eta)}
      ${row('Nav status', d.nav_status != null ? esc(NAV[d.nav_status] || d.nav_status) : null)}
      <tbody id="v-dyn"></tbody>
      ${row('First seen', d.first_seen?.replace('T', ' ').slice(0, 19))}
      ${row('Messages', d.messages)}
    </table>
    <h3>Zones</h3><ul class="zones">${zoneList || '<li class="muted">none</li>'}</ul>
    <p class="muted" id="v-track-info"></p>
    <p><button class="v-new-incident" title="Open an incident for this vessel (in distress)">Open incident</button></p>`;
  body.querySelector('.v-new-incident').onclick = () => onNewIncident?.(d.mmsi, info.name);
  const dyn = (v, ageS) => {
    $('v-dyn').innerHTML = `${row('Position', v ? `<span class="v-pos">${formatPosition(v.lat, v.lon)}</span>` : '–')}
      ${row('SOG / COG', v ? `${v.sog ?? '–'} kn / ${v.cog ?? '–'}°` : '–')}${row('Heading', v?.heading != null ? `${v.heading}°` : null)}
      ${row('Last report', `<span id="v-age">${age(ageS)}</span> ago`)}`;
  };
  const pos = d.position;
  dyn(pos && { lat: pos.lat, lon: pos.lon, sog: d.sog_kn?.toFixed(1), cog: d.cog_deg?.toFixed(1), heading: d.heading_deg }, d.last_report_age_s);
  // Keep position and age current from the feed while the panel is open.
  app.refreshPanel = (v) => {
    if (!v || app.selected !== v.mmsi || !$('v-dyn')) return;
    // The picture's clock (status is polled, so never behind this report).
    const seen = Date.parse(v.last_seen);
    const now = Math.max(app.status?.time_ms || 0, seen);
    dyn(v, (now - seen) / 1000);
  };

  trackLayer.clearLayers();
  const coords = track?.geometry?.coordinates || [];
  if (coords.length >= 2) {
    // Unwrap longitudes so a track across the antimeridian is continuous.
    const ref = app.map.getCenter().lng;
    let prev = nearLon(coords[0][0], ref);
    const latlngs = coords.map(([lon, lat]) => {
      prev = nearLon(lon, prev);
      return [lat, prev];
    });
    L.polyline(latlngs, { color: '#ffffff', weight: 2, opacity: 0.75, dashArray: '1 0', interactive: false }).addTo(trackLayer);
    for (const p of latlngs.filter((_, i) => i % Math.ceil(latlngs.length / 40) === 0)) {
      L.circleMarker(p, { radius: 2, color: '#fff', weight: 1, fillOpacity: 1, interactive: false }).addTo(trackLayer);
    }
    const times = track.properties?.times || [];
    $('v-track-info').textContent = `Track: ${coords.length} points${times.length ? ` since ${times[0].slice(11, 19)}Z` : ''}`;
  } else {
    $('v-track-info').textContent = 'No track yet';
  }
  app.track = { mmsi, points: coords.length };
}

/** Nearest vessels to a point: who can help first. */
export async function showNearest(lat, lon, { app, onSelect }) {
  app.selected = null;
  $('panel').hidden = false;
  const body = $('panel-body');
  body.innerHTML = `<h2>Nearest vessels</h2><p>${formatPosition(lat, lon)}</p><p class="muted">asking…</p>`;
  let data;
  try {
    data = await api(`/api/nearest?lat=${lat.toFixed(5)}&lon=${lon.toFixed(5)}&k=10`);
  } catch (e) {
    body.querySelector('.muted').textContent = e.message;
    return null;
  }
  const rows = data.vessels.map((r, i) => {
    const v = r.vessel;
    const ttr = r.time_to_reach_min == null ? 'not under way' : r.time_to_reach_min < 90 ? `${Math.round(r.time_to_reach_min)} min` : `${(r.time_to_reach_min / 60).toFixed(1)} h`;
    return `<tr data-mmsi="${v.mmsi}" data-i="${i}"><td>${esc(v.name || v.mmsi)}<br><span class="muted">${esc(v.class)} · ${v.sog ?? '–'} kn</span></td>
      <td class="num dist">${r.distance_nm.toFixed(1)}</td><td class="num">${Math.round(r.bearing_deg)}°</td><td class="num">${ttr}</td></tr>`;
  });
  body.innerHTML = `<h2>Nearest vessels</h2><p>to <span class="n-pos">${formatPosition(lat, lon)}</span></p>
    <table class="nearest"><thead><tr><th>Vessel</th><th>NM</th><th>Brg</th><th>To reach</th></tr></thead><tbody>${rows.join('')}</tbody></table>
    <p class="muted">Bearing from the position to the vessel; time at the vessel's current speed.</p>`;
  body.querySelectorAll('tr[data-mmsi]').forEach((tr) => {
    tr.onclick = () => {
      const r = data.vessels[+tr.dataset.i];
      onSelect(r.vessel.mmsi, r.vessel.lat, r.vessel.lon);
    };
  });
  return data;
}
