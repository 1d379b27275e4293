// Contacts and incidents (SAR) on the map and in the side panel.
//
// Fed by the `contacts` and `incidents` WebSocket channels (a snapshot of
// the live ones and those closed in the last 24 h, possibly in parts, then
// each change with a growing `version`; an older version than the one held
// is ignored). Channel messages are bounded: a contact carries its last 100
// sightings (`sightings_total`), an incident change only its new log entries
// (`log_total`), merged here by `seq`; the incident panel fetches the whole
// log from GET /api/incidents/{id}. Drawn on the vessel canvas,
// above the vessels: each active contact as an orange diamond inside its
// uncertainty circle, with its track of sightings; each open incident as
// dashed lines from its contacts to its assigned assets (vessels in the
// picture). The "Incidents" section lists the open ones.

import { esc } from './basemap.js';

const CONTACT = '#ff9100';
const CLOSED = 'rgba(255,145,0,0.35)';
const ASSET_LINE = '#18ffff';
const M_PER_DEG_LAT = 111_320;

const STATUS = { open: 'open', assets_assigned: 'assets assigned', rescued: 'rescued', closed: 'closed' };

/** Log entries an incident keeps on the client (the panel asks for all). */
const LOG_KEPT = 200;

/** Two runs of log entries merged by `seq` (later copy wins), in order. */
export function mergeLog(a = [], b = []) {
  const bySeq = new Map();
  for (const e of [...a, ...b]) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq).slice(-LOG_KEPT);
}

export class SarLayer {
  constructor({ list, count, onFocus, redraw }) {
    this.list = list;
    this.count = count;
    this.onFocus = onFocus;
    this.redraw = redraw;
    this.contacts = new Map();
    this.incidents = new Map();
  }

  /**
   * A channel snapshot replaces everything of that kind; its later parts
   * (`part` 1, 2, …) add to it. Snapshots hold the live ones and those
   * closed in the last 24 h (older ones: GET /api/incidents?status=closed).
   */
  setContacts(list, part) {
    if (!part) this.contacts = new Map();
    for (const c of list) this.contacts.set(c.id, c);
    this.changed();
  }

  setIncidents(list, part) {
    if (!part) this.incidents = new Map();
    for (const i of list) this.incidents.set(i.id, i);
    this.changed();
  }

  upsertContact(c) {
    const had = this.contacts.get(c.id);
    if (had && had.version > c.version) return;
    this.contacts.set(c.id, c);
    this.changed();
  }

  /**
   * A change carries the incident's state and only the log entries added
   * since the previous version: merge them (by `seq`) into what we hold,
   * keeping the last LOG_KEPT; the panel fetches the whole log over HTTP.
   */
  upsertIncident(i) {
    const had = this.incidents.get(i.id);
    if (had && had.version > i.version) return;
    this.incidents.set(i.id, { ...i, log: mergeLog(had?.log, i.log) });
    this.changed();
  }

  changed() {
    this.render();
    this.redraw();
  }

  /** Where an incident is: its first contact with a position. */
  incidentPosition(i) {
    for (const id of i.contacts) {
      const c = this.contacts.get(id);
      if (c) return { lat: c.lat, lon: c.lon };
    }
    return null;
  }

  /** Draw on the vessel canvas (called by the vessel layer after vessels). */
  draw(ctx, layer) {
    ctx.save();
    for (const c of this.contacts.values()) this.drawContact(ctx, layer, c);
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = ASSET_LINE;
    for (const i of this.incidents.values()) {
      if (i.status === 'closed') continue;
      const at = this.incidentPosition(i);
      if (!at) continue;
      const [x, y] = layer.project(at.lat, at.lon);
      for (const a of i.assets) {
        const v = a.mmsi != null && layer.vessels.get(a.mmsi);
        if (!v) continue;
        const [vx, vy] = layer.project(v.lat, v.lon);
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.lineTo(vx, vy);
        ctx.stroke();
        ctx.beginPath();
        ctx.arc(vx, vy, 9, 0, 7);
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  drawContact(ctx, layer, c) {
    const colour = c.status === 'closed' ? CLOSED : CONTACT;
    const [x, y] = layer.project(c.lat, c.lon);
    // The uncertainty circle: metres to pixels at the contact's latitude.
    const [, y2] = layer.project(c.lat + c.uncertainty_m / M_PER_DEG_LAT, c.lon);
    const r = Math.max(3, Math.abs(y - y2));
    ctx.fillStyle = 'rgba(255,145,0,0.12)';
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 7);
    ctx.fill();
    ctx.stroke();
    // The track of sightings.
    if (c.track?.length > 1) {
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      c.track.forEach((s, k) => {
        const [px, py] = layer.project(s.lat, s.lon);
        if (k) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
      });
      ctx.stroke();
      ctx.setLineDash([]);
      for (const s of c.track) {
        const [px, py] = layer.project(s.lat, s.lon);
        ctx.fillStyle = colour;
        ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
      }
    }
    // Drift arrow.
    if (c.speed_kn > 0 && c.course_deg != null) {
      const a = (c.course_deg * Math.PI) / 180;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + Math.sin(a) * 22, y - Math.cos(a) * 22);
      ctx.stroke();
    }
    // The contact: a solid diamond.
    ctx.fillStyle = colour;
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, y - 8);
    ctx.lineTo(x + 7, y);
    ctx.lineTo(x, y + 8);
    ctx.lineTo(x - 7, y);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = colour;
    ctx.fillText(`${c.id} ${c.description}`.slice(0, 48), x + 10, y - 6);
  }

  /** The open incidents, newest change first. */
  render() {
    const open = [...this.incidents.values()].filter((i) => i.status !== 'closed')
      .sort((a, b) => (a.updated < b.updated ? 1 : a.updated > b.updated ? -1 : 0));
    this.count.textContent = `${open.length} open · ${[...this.contacts.values()].filter((c) => c.status === 'active').length} contacts`;
    this.list.replaceChildren(...open.map((i) => {
      const li = document.createElement('li');
      li.className = `incident st-${i.status}`;
      li.dataset.id = i.id;
      const assets = i.assets.map((a) => esc(a.name || String(a.mmsi))).join(', ');
      const last = i.log[i.log.length - 1];
      li.innerHTML = `<div class="a-head"><b>${esc(i.id)}</b> <span class="status">${esc(STATUS[i.status] || i.status)}</span></div>
        <div class="msg">${esc(i.title)}</div>
        <div class="a-foot">${i.contacts.length} contact(s)${assets ? ` · assets: ${assets}` : ''}${last ? ` · ${esc(last.action.replace(/_/g, ' '))} by ${esc(last.who)}` : ''}</div>`;
      li.onclick = () => {
        const at = this.incidentPosition(i);
        this.onFocus(at, this.incidents.get(i.id));
      };
      return li;
    }));
  }
}

const fmtMin = (m) => (m == null ? 'cannot reach' : m < 90 ? `${Math.round(m)} min` : `${(m / 60).toFixed(1)} h`);

/**
 * The side panel on an incident: status, contacts, assets, the log (latest
 * first) and who can reach it first (`/api/incidents/{id}/intercepts`).
 * Returns the intercept answer (or null).
 */
export async function showIncident(i, { api, panel, body, onSelect }) {
  panel.hidden = false;
  const logItems = (entries) => [...entries].reverse().map((e) => {
    const what = e.text || e.title || e.contact_id || e.alert_id || e.mmsi || (e.asset && (e.asset.name || e.asset.mmsi)) || (e.status && (STATUS[e.status] || e.status)) || '';
    return `<li><span class="muted">${esc(e.time.slice(11, 19))}Z</span> <b>${esc(e.action.replace(/_/g, ' '))}</b> ${esc(String(what))} <span class="muted">— ${esc(e.who)}</span></li>`;
  }).join('');
  body.innerHTML = `<h2>${esc(i.id)} · ${esc(STATUS[i.status] || i.status)}</h2><p>${esc(i.title)}</p>
    <p class="muted">contacts: ${esc(i.contacts.join(', ') || '–')} · assets: ${esc(i.assets.map((a) => a.name || a.mmsi).join(', ') || '–')}</p>
    <h3>Who can reach it first</h3><div class="intercepts muted">asking…</div>
    <h3>Log</h3><ol class="incident-log">${logItems(i.log)}</ol>`;
  // The channel carries only the latest entries: the whole log is over HTTP.
  api(`/api/incidents/${encodeURIComponent(i.id)}`).then((full) => {
    const ol = body.querySelector('.incident-log');
    if (ol && full?.log) {
      ol.innerHTML = logItems(full.log);
      ol.dataset.total = String(full.log.length);
    }
  }).catch(() => {});
  let data = null;
  try {
    data = await api(`/api/incidents/${encodeURIComponent(i.id)}/intercepts?k=8`);
  } catch (e) {
    body.querySelector('.intercepts').textContent = e.message;
    return null;
  }
  const rows = data.vessels.map((r, k) => {
    const v = r.vessel;
    return `<tr data-i="${k}" class="${r.assigned ? 'assigned' : ''}"><td>${esc(v.name || v.mmsi)}${r.assigned ? ' ✓' : ''}<br><span class="muted">${esc(v.class)} · ${v.sog ?? '–'} kn</span></td>
      <td class="num">${r.distance_nm.toFixed(1)}</td><td class="num ttr">${fmtMin(r.time_to_intercept_min)}</td><td class="num">${r.steer_deg == null ? '–' : `${Math.round(r.steer_deg)}°`}</td></tr>`;
  });
  const box = body.querySelector('.intercepts');
  box.className = 'intercepts';
  box.innerHTML = `<table class="nearest"><thead><tr><th>Vessel</th><th>NM</th><th>Intercept</th><th>Steer</th></tr></thead><tbody>${rows.join('')}</tbody></table>
    <p class="muted">Time to intercept at each vessel's speed, the contact drifting; ✓ assigned.</p>`;
  box.querySelectorAll('tr[data-i]').forEach((tr) => {
    tr.onclick = () => {
      const v = data.vessels[+tr.dataset.i].vessel;
      onSelect(v.mmsi, v.lat, v.lon);
    };
  });
  return data;
}

/**
 * The "report a contact" form in the side panel, at a clicked position:
 * POST /api/contacts (operator role). `onDone(contact)` after it is saved.
 */
export function reportContactForm(lat, lon, { api, panel, body, onDone }) {
  panel.hidden = false;
  body.innerHTML = `<h2>Report a contact</h2>
    <form id="report-contact" class="report">
      <label>What <input id="rc-desc" required maxlength="2000" placeholder="rubber boat, ~60 persons"></label>
      <label>Latitude <input id="rc-lat" type="number" step="any" value="${lat.toFixed(5)}"></label>
      <label>Longitude <input id="rc-lon" type="number" step="any" value="${lon.toFixed(5)}"></label>
      <label>Uncertainty (NM) <input id="rc-unc" type="number" step="any" min="0" value="1"></label>
      <label>Source <select id="rc-src"><option>phone</option><option>aircraft</option><option>vessel</option><option>other</option></select></label>
      <label>Drift course (°) <input id="rc-cog" type="number" step="any" min="0" max="359.9"></label>
      <label>Drift speed (kn) <input id="rc-sog" type="number" step="any" min="0"></label>
      <label>Note <input id="rc-note" maxlength="2000"></label>
      <button id="rc-submit" type="submit">Save contact</button> <span class="rc-msg muted"></span>
    </form>`;
  const form = body.querySelector('form');
  const num = (id) => {
    const v = body.querySelector(id).value.trim();
    return v === '' ? undefined : Number(v);
  };
  form.onsubmit = async (e) => {
    e.preventDefault();
    const msg = body.querySelector('.rc-msg');
    const req = {
      description: body.querySelector('#rc-desc').value,
      lat: num('#rc-lat'),
      lon: num('#rc-lon'),
      uncertainty_nm: num('#rc-unc'),
      source: body.querySelector('#rc-src').value,
      course_deg: num('#rc-cog'),
      speed_kn: num('#rc-sog'),
      note: body.querySelector('#rc-note').value.trim() || undefined,
    };
    msg.textContent = 'saving…';
    try {
      const c = await api('/api/contacts', { method: 'POST', body: req });
      msg.textContent = `saved as ${c.id}`;
      onDone(c);
    } catch (err) {
      msg.textContent = err.status === 401 || err.status === 403 ? 'reporting needs an operator token' : err.message;
      msg.className = 'rc-msg error';
    }
  };
  body.querySelector('#rc-desc').focus();
}
