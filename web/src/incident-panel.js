// The incident panel (in the side panel): an incident run from the map.
// Everything an operator does here is one action of the incident's log,
// `POST /api/incidents/{id}/actions` (docs/protocol.md, "Incidents"):
//
// - assign an asset (a vessel from "who can reach it first", or a unit
//   without AIS by name) and release it;
// - change the status (rescued, closed, reopened; assigning the first asset
//   and releasing the last move it between open and assets assigned by
//   themselves), with an optional reason;
// - add a note.
//
// The answer (the whole incident) redraws the panel; a change made elsewhere
// arrives on the `incidents` channel and the panel fetches the incident
// again. The form to open a new incident (from an alert, a contact or a
// vessel: `POST /api/incidents`) is here too.

import { esc } from './html.js';
import { STATUS } from './sar.js';

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
    await Promise.all([this.refresh(), this.loadIntercepts()]);
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
      this.refresh().then(() => {
        if (JSON.stringify(this.incident.assets) !== assetsBefore) this.loadIntercepts();
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
