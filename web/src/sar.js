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
// picture). The "Incidents" section lists the open ones. Clicking a
// contact on the map opens it (`hitContact`); the panels are in
// src/contact-panel.js and src/incident-panel.js.

import { esc } from './html.js';

const CONTACT = '#ff9100';
const CLOSED = 'rgba(255,145,0,0.35)';
const ASSET_LINE = '#18ffff';
const M_PER_DEG_LAT = 111_320;
const LABEL_FONT = '11px system-ui, sans-serif';
const contactLabel = (c) => `${c.id} ${c.description}`.slice(0, 48);

export const STATUS = { open: 'open', assets_assigned: 'assets assigned', rescued: 'rescued', closed: 'closed' };

/** Log entries an incident keeps on the client (the panel asks for all). */
const LOG_KEPT = 200;

/** Two runs of log entries merged by `seq` (later copy wins), in order. */
export function mergeLog(a = [], b = []) {
  const bySeq = new Map();
  for (const e of [...a, ...b]) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq).slice(-LOG_KEPT);
}

export class SarLayer {
  constructor({ list, count, onFocus, redraw, onIncident, locate }) {
    this.list = list;
    this.count = count;
    this.onFocus = onFocus;
    this.redraw = redraw;
    this.onIncident = onIncident || (() => {}); // an incident changed (the open panel follows)
    this.locate = locate || {}; // { alert(id), vessel(mmsi) } -> {lat, lon} | null
    this.contacts = new Map();
    this.incidents = new Map();
    this.hits = []; // [x, y, contact id] of the last frame
    this.selected = null; // the contact whose panel is open (ringed)
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
    this.onIncident(this.incidents.get(i.id));
  }

  changed() {
    this.render();
    this.redraw();
  }

  /** Where an incident is: its first contact, else its first alert or vessel with a position. */
  incidentPosition(i) {
    for (const id of i.contacts) {
      const c = this.contacts.get(id);
      if (c) return { lat: c.lat, lon: c.lon };
    }
    for (const id of i.alerts || []) {
      const p = this.locate.alert?.(id);
      if (p) return p;
    }
    for (const m of i.vessels || []) {
      const p = this.locate.vessel?.(m);
      if (p) return p;
    }
    return null;
  }

  /** Open incidents that hold a contact, alert or vessel. */
  incidentsWith({ contact, alert, mmsi }) {
    return [...this.incidents.values()].filter((i) => i.status !== 'closed'
      && ((contact && i.contacts.includes(contact)) || (alert && (i.alerts || []).includes(alert)) || (mmsi && (i.vessels || []).includes(mmsi))));
  }

  /** The contact drawn nearest a container point, within `r` px (or null). */
  hitContact(px, py, r = 12) {
    let best = null, bd = r * r;
    for (const [x, y, id] of this.hits) {
      const d = (x - px) ** 2 + (y - py) ** 2;
      if (d <= bd) {
        bd = d;
        best = id;
      }
    }
    return best;
  }

  /** The contacts and their labels (container px; `project(lat, lon)` -> [x, y]), for other labels to keep off. */
  labelBoxes(ctx, project) {
    ctx.save();
    ctx.font = LABEL_FONT;
    const boxes = [];
    for (const c of this.contacts.values()) {
      const [x, y] = project(c.lat, c.lon);
      const w = ctx.measureText(contactLabel(c)).width;
      boxes.push([x - 9, y - 18, x + 12 + w, y + 9]);
    }
    ctx.restore();
    return boxes;
  }

  /** Draw on the vessel canvas (called by the vessel layer after vessels). */
  draw(ctx, layer) {
    ctx.save();
    this.hits = [];
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
    this.hits.push([x, y, c.id]);
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
    if (c.id === this.selected) {
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, 14, 0, 7);
      ctx.stroke();
    }
    ctx.font = LABEL_FONT;
    ctx.fillStyle = colour;
    ctx.fillText(contactLabel(c), x + 10, y - 6);
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
