// The alerts panel: every alert held (GET /api/alerts, then `alert` messages,
// same id = updated in place), ranked by severity, then state
// (unacknowledged first), then time (src/alert-order.js); filters by
// severity and kind; repeated zone enter/exit alerts of one zone collapsed
// into one row with a count (expandable); acknowledge one alert, a collapsed
// row, or every INFO alert of the chosen kind at once. The keyboard
// (src/keys.js) moves a selection through the rows.

import { api } from './api.js';
import { esc } from './html.js';
import { formatPosition } from './position.js';
import { SEVERITIES, buildRows, kindCounts, unackedOf, isAcked, isActive } from './alert-order.js';

const MAX_ROWS = 300;
const ACK_PARALLEL = 4;
const kindName = (k) => k.replace(/_/g, ' ');
const hhmmss = (t) => (t ? `${t.slice(11, 19)}Z` : '');

export class AlertsPanel {
  constructor({ list, count, filters, onFocus, onNearest, onIncident, onChange, zoneName }) {
    this.list = list;
    this.count = count;
    this.onFocus = onFocus;
    this.onNearest = onNearest;
    this.onIncident = onIncident;
    this.onChange = onChange || (() => {});
    this.zoneName = zoneName || ((z) => z);
    this.alerts = new Map();
    this.filter = { severities: new Set(SEVERITIES), kind: '' };
    this.expanded = new Set(); // keys of collapsed rows shown expanded
    this.rows = []; // the rows as last rendered
    this.nodes = new Map(); // row key -> { li, json }
    this.selectedKey = null;
    this.renderPending = false;
    this.buildFilters(filters);
  }

  async load() {
    const list = await api('/api/alerts');
    for (const a of list) this.alerts.set(a.id, a);
    this.changed();
  }

  /** An `alert` or `acked` message (new or an update of one we have). */
  upsert(a) {
    this.alerts.set(a.id, a);
    this.changed();
  }

  changed() {
    this.onChange(this.alerts.values());
    this.render();
  }

  // Filters ------------------------------------------------------------------

  buildFilters(box) {
    box.innerHTML = `${SEVERITIES.map((s) => `<label class="sev-filter sev-${s}" title="Show ${s} alerts"><input type="checkbox" value="${s}" checked> ${s} <span class="n"></span></label>`).join('')}
      <select id="alert-kind" title="Show one kind of alert"><option value="">all kinds</option></select>
      <button id="ack-kind" hidden></button>`;
    box.querySelectorAll('input[type=checkbox]').forEach((cb) => {
      cb.onchange = () => {
        if (cb.checked) this.filter.severities.add(cb.value);
        else this.filter.severities.delete(cb.value);
        this.render();
      };
    });
    this.kindSelect = box.querySelector('#alert-kind');
    this.kindSelect.onchange = () => {
      this.filter.kind = this.kindSelect.value;
      this.render();
    };
    this.ackKindButton = box.querySelector('#ack-kind');
    this.ackKindButton.onclick = () => {
      const ids = unackedOf(this.alerts.values(), 'info', this.filter.kind).map((a) => a.id);
      this.ackMany(ids, this.ackKindButton);
    };
    this.filterBox = box;
  }

  renderFilters(all) {
    const counts = { critical: 0, warning: 0, info: 0 };
    for (const a of all) if (!isAcked(a) && isActive(a)) counts[a.severity] = (counts[a.severity] || 0) + 1;
    this.filterBox.querySelectorAll('.sev-filter').forEach((l) => {
      const n = counts[l.querySelector('input').value];
      l.querySelector('.n').textContent = n ? String(n) : '';
    });
    // The kind list: those present, with counts; the chosen one stays.
    const kinds = kindCounts(all);
    const want = ['', ...kinds.map(([k]) => k)];
    if (this.filter.kind && !want.includes(this.filter.kind)) want.push(this.filter.kind);
    const sel = this.kindSelect;
    const opts = want.map((k) => (k ? `${kindName(k)} (${kinds.find(([x]) => x === k)?.[1] ?? 0})` : 'all kinds'));
    if ([...sel.options].map((o) => o.textContent).join('|') !== opts.join('|')) {
      sel.replaceChildren(...want.map((k, i) => new Option(opts[i], k)));
      sel.value = this.filter.kind;
    }
    // "Acknowledge every INFO alert of this kind" once a kind is chosen.
    const b = this.ackKindButton;
    const n = this.filter.kind ? unackedOf(all, 'info', this.filter.kind).length : 0;
    if (!b.disabled) {
      b.hidden = n === 0;
      b.textContent = `Ack all ${n} INFO ${kindName(this.filter.kind)}`;
      b.title = `Acknowledge every unacknowledged INFO ${kindName(this.filter.kind)} alert`;
    }
  }

  // Acknowledging ---------------------------------------------------------------

  async ack(id, button) {
    return this.ackMany([id], button);
  }

  /** Acknowledge alerts (POST /api/alerts/{id}/ack each, a few at a time). */
  async ackMany(ids, button) {
    if (!ids.length) return true;
    const label = button?.textContent;
    if (button) button.disabled = true;
    let done = 0, failed = null;
    const queue = [...ids];
    const worker = async () => {
      while (queue.length && !failed) {
        const id = queue.shift();
        try {
          const a = await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: {} });
          this.alerts.set(a.id, a);
          done++;
          if (button && ids.length > 1) button.textContent = `Acknowledging ${done}/${ids.length}…`;
        } catch (e) {
          failed = e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(ACK_PARALLEL, ids.length) }, worker));
    if (button) {
      button.disabled = false;
      if (failed) {
        const auth = failed.status === 401 || failed.status === 403;
        button.title = auth ? 'Acknowledging needs an operator token' : failed.message;
        button.classList.add('failed');
        button.textContent = auth ? 'Ack: token?' : 'Ack failed';
      } else if (button.isConnected) button.textContent = label;
    }
    this.changed();
    return !failed;
  }

  // Keyboard selection ------------------------------------------------------------

  /** Move the selection `delta` rows (j: +1, k: -1). */
  move(delta) {
    const rows = this.rows;
    if (!rows.length) return null;
    const i = rows.findIndex((r) => r.key === this.selectedKey);
    const next = i < 0 ? (delta > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, i + delta));
    this.selectedKey = rows[next].key;
    this.markSelected();
    return this.selected();
  }

  /** The selected row's alerts (newest first), or null. */
  selected() {
    const row = this.rows.find((r) => r.key === this.selectedKey);
    return row ? row.alerts.map((a) => this.alerts.get(a.id) || a) : null;
  }

  markSelected() {
    for (const [key, n] of this.nodes) {
      const on = key === this.selectedKey;
      n.li.classList.toggle('selected', on);
      n.li.setAttribute('aria-selected', String(on));
      if (on) n.li.scrollIntoView({ block: 'nearest' });
    }
  }

  /** Acknowledge the selected row (every unacknowledged alert in it). */
  ackSelected() {
    const sel = this.selected();
    if (!sel) return;
    const n = this.nodes.get(this.selectedKey);
    this.ackMany(sel.filter((a) => !isAcked(a)).map((a) => a.id), n?.li.querySelector('button.ack'));
  }

  // Rendering -------------------------------------------------------------------

  render() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this._render();
    });
  }

  _render() {
    const all = [...this.alerts.values()];
    const open = all.filter((a) => !isAcked(a) && isActive(a));
    const crit = open.filter((a) => a.severity === 'critical').length;
    this.count.textContent = `${open.length} open${crit ? ` · ${crit} critical` : ''}`;
    this.count.className = crit ? 'has-critical' : '';
    this.renderFilters(all);
    this.rows = buildRows(all, this.filter).slice(0, MAX_ROWS);
    // Keyed: a row's element is kept (and only refilled when it changed),
    // so updates do not disturb a hover or a click in progress.
    const keep = new Set();
    let prev = null;
    for (const row of this.rows) {
      keep.add(row.key);
      let n = this.nodes.get(row.key);
      const json = JSON.stringify(row.alerts) + this.expanded.has(row.key);
      if (!n) {
        n = { li: document.createElement('li'), json: '' };
        n.li.onclick = () => {
          this.selectedKey = row.key;
          this.markSelected();
          this.onFocus(this.alerts.get(n.li.dataset.id));
        };
        this.nodes.set(row.key, n);
      }
      if (n.json !== json) {
        n.json = json;
        this.fill(n.li, row);
      }
      const want = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== n.li) this.list.insertBefore(n.li, want);
      prev = n.li;
    }
    for (const [key, n] of this.nodes) {
      if (!keep.has(key)) {
        n.li.remove();
        this.nodes.delete(key);
      }
    }
    if (this.selectedKey && !keep.has(this.selectedKey)) this.selectedKey = null;
    this.markSelected();
    this.list.dataset.rows = String(this.rows.length);
  }

  /** Fill a row's element in place (its buttons stay, so a click in progress lands). */
  fill(li, row) {
    const a = row.alerts[0];
    const group = row.alerts.length > 1;
    if (!li.firstChild) {
      li.innerHTML = `<div class="a-head"><span class="sev"></span> <span class="kind"></span> <span class="count" hidden></span> <span class="time"></span></div>
        <div class="msg"></div><div class="a-pos"><span class="pos"></span> <span class="group-note"></span></div>
        <div class="a-foot"><span class="state"></span>
        <button class="expand" hidden title="Show every alert in this row"></button>
        <button class="to-incident" title="Open an incident from this alert">Incident</button>
        <button class="nearest" title="Who can reach this position first">Nearest</button><button class="ack">Ack</button></div>
        <ol class="members" hidden></ol>`;
      const on = (sel, fn) => {
        const b = li.querySelector(sel);
        b.onclick = (e) => {
          e.stopPropagation();
          fn(b);
        };
      };
      on('button.nearest', () => {
        const cur = this.alerts.get(li.dataset.id);
        this.onNearest(cur.lat, cur.lon, cur);
      });
      on('button.to-incident', () => this.onIncident(this.alerts.get(li.dataset.id)));
      on('button.ack', (b) => this.ackMany(JSON.parse(li.dataset.unacked || '[]'), b));
      on('button.expand', () => {
        const key = li.dataset.key;
        if (this.expanded.has(key)) this.expanded.delete(key);
        else this.expanded.add(key);
        this.render();
      });
    }
    li.className = `alert sev-${a.severity} st-${a.state}${group ? ' group' : ''}${isAcked(a) ? ' acked' : ''}`;
    li.dataset.id = a.id;
    li.dataset.key = row.key;
    li.dataset.state = a.state;
    li.dataset.kind = a.kind;
    li.dataset.severity = a.severity;
    li.dataset.time = a.time;
    li.dataset.count = String(row.alerts.length);
    const unacked = row.alerts.filter((x) => !isAcked(x)).map((x) => x.id);
    li.dataset.unacked = JSON.stringify(unacked);
    const set = (sel, text) => {
      const el = li.querySelector(sel);
      if (el.textContent !== text) el.textContent = text;
    };
    set('.sev', a.severity);
    set('.kind', group ? 'zone enter/exit' : kindName(a.kind));
    set('.time', hhmmss(a.time));
    set('.msg', a.message);
    set('.pos', a.lat != null ? formatPosition(a.lat, a.lon) : '');
    set('.state', `${a.state}${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ''}`);
    const count = li.querySelector('.count');
    count.hidden = !group;
    set('.count', group ? `×${row.alerts.length}` : '');
    set('.group-note', group ? `· ${row.alerts.length} enter/exit of ${this.zoneName(a.zone)}` : '');
    li.querySelector('button.nearest').hidden = a.lat == null;
    li.querySelector('button.to-incident').hidden = group;
    const ack = li.querySelector('button.ack');
    ack.hidden = unacked.length === 0;
    if (!ack.disabled) ack.textContent = unacked.length > 1 ? `Ack ${unacked.length}` : 'Ack';
    const expand = li.querySelector('button.expand');
    const open = group && this.expanded.has(row.key);
    expand.hidden = !group;
    expand.textContent = open ? '▾ fewer' : `▸ all ${row.alerts.length}`;
    const members = li.querySelector('.members');
    members.hidden = !open;
    if (open) {
      members.innerHTML = row.alerts.map((m) => `<li data-member-id="${esc(m.id)}" class="${isAcked(m) ? 'acked' : ''}"><span class="time">${esc(hhmmss(m.time))}</span> ${esc(m.message)}</li>`).join('');
      members.querySelectorAll('li').forEach((m) => {
        m.onclick = (e) => {
          e.stopPropagation();
          this.onFocus(this.alerts.get(m.dataset.memberId));
        };
      });
    } else members.replaceChildren();
  }
}
