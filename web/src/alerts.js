// Alerts panel: newest first, updated in place by id, acknowledge, and a
// visual + audible cue for critical alerts.

import { api } from './api.js';
import { esc } from './basemap.js';

const ORDER = (a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : a.id < b.id ? 1 : -1);

export class AlertsPanel {
  constructor({ list, count, banner, onFocus, onNearest }) {
    this.list = list;
    this.count = count;
    this.banner = banner;
    this.onFocus = onFocus;
    this.onNearest = onNearest;
    this.alerts = new Map();
    this.audio = null;
    this.renderPending = false;
    // Browsers only let a page make sound after a gesture: prime on the first one.
    const prime = () => {
      try {
        this.audio ||= new AudioContext();
        this.audio.resume?.();
      } catch {
        /* no WebAudio */
      }
    };
    addEventListener('pointerdown', prime, { once: true });
    addEventListener('keydown', prime, { once: true });
  }

  async load() {
    const list = await api('/api/alerts');
    for (const a of list) this.alerts.set(a.id, a);
    this.render();
  }

  /** An `alert` message (new or an update of one we have). */
  upsert(a) {
    const prev = this.alerts.get(a.id);
    this.alerts.set(a.id, a);
    if (a.severity === 'critical' && (a.state === 'raised' || a.state === 'updated') && (!prev || prev.state !== a.state)) {
      this.cue(a);
    }
    this.render();
  }

  cue(a) {
    this.banner.hidden = false;
    this.banner.className = 'critical';
    this.banner.innerHTML = `<b>CRITICAL</b> ${esc(a.message)} <button data-id="${esc(a.id)}">Show</button> <button class="dismiss">✕</button>`;
    this.banner.querySelector('[data-id]').onclick = () => this.onFocus(this.alerts.get(a.id));
    this.banner.querySelector('.dismiss').onclick = () => (this.banner.hidden = true);
    document.body.classList.remove('flash');
    void document.body.offsetWidth;
    document.body.classList.add('flash');
    this.beep();
  }

  beep() {
    try {
      this.audio ||= new AudioContext();
      const ctx = this.audio;
      if (ctx.state === 'suspended') ctx.resume?.().catch(() => {});
      const t = ctx.currentTime;
      for (let i = 0; i < 3; i++) {
        const o = ctx.createOscillator();
        const g = ctx.createGain();
        o.type = 'square';
        o.frequency.value = 880;
        g.gain.setValueAtTime(0.0001, t + i * 0.25);
        g.gain.exponentialRampToValueAtTime(0.15, t + i * 0.25 + 0.01);
        g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.25 + 0.18);
        o.connect(g).connect(ctx.destination);
        o.start(t + i * 0.25);
        o.stop(t + i * 0.25 + 0.2);
      }
    } catch {
      /* no sound available */
    }
  }

  async ack(id, button) {
    button.disabled = true;
    try {
      const a = await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: {} });
      this.alerts.set(a.id, a);
      this.render();
    } catch (e) {
      button.disabled = false;
      button.title = e.status === 401 || e.status === 403 ? 'Acknowledging needs an operator token' : e.message;
      button.classList.add('failed');
      button.textContent = e.status === 401 || e.status === 403 ? 'Ack: token?' : 'Ack failed';
    }
  }

  render() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this._render();
    });
  }

  _render() {
    const all = [...this.alerts.values()].sort(ORDER);
    const open = all.filter((a) => a.state !== 'acknowledged' && a.state !== 'cleared');
    const crit = open.filter((a) => a.severity === 'critical').length;
    this.count.textContent = `${open.length} open${crit ? ` · ${crit} critical` : ''}`;
    this.count.className = crit ? 'has-critical' : '';
    // Keyed: an alert's element is kept (and only refilled when it changed),
    // so updates do not disturb a hover or a click in progress.
    this.nodes ||= new Map();
    const keep = new Set();
    let prev = null;
    for (const a of all.slice(0, 300)) {
      keep.add(a.id);
      let n = this.nodes.get(a.id);
      const json = JSON.stringify(a);
      if (!n) {
        n = { li: document.createElement('li'), json: '' };
        n.li.onclick = () => this.onFocus(this.alerts.get(n.li.dataset.id));
        this.nodes.set(a.id, n);
      }
      if (n.json !== json) {
        n.json = json;
        this.fill(n.li, a);
      }
      const want = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== n.li) this.list.insertBefore(n.li, want);
      prev = n.li;
    }
    for (const [id, n] of this.nodes) {
      if (!keep.has(id)) {
        n.li.remove();
        this.nodes.delete(id);
      }
    }
  }

  /** Fill an alert's element in place (its buttons stay, so a click in progress lands). */
  fill(li, a) {
    if (!li.firstChild) {
      li.innerHTML = `<div class="a-head"><span class="sev"></span> <span class="kind"></span> <span class="time"></span></div>
        <div class="msg"></div><div class="a-foot"><span class="state"></span>
        <button class="nearest" title="Who can reach this position first">Nearest</button><button class="ack">Ack</button></div>`;
      li.querySelector('button.nearest').onclick = (e) => {
        e.stopPropagation();
        const cur = this.alerts.get(li.dataset.id);
        this.onNearest(cur.lat, cur.lon, cur);
      };
      const ack = li.querySelector('button.ack');
      ack.onclick = (e) => {
        e.stopPropagation();
        this.ack(li.dataset.id, ack);
      };
    }
    li.className = `alert sev-${a.severity} st-${a.state}`;
    li.dataset.id = a.id;
    li.dataset.state = a.state;
    const set = (sel, text) => {
      const el = li.querySelector(sel);
      if (el.textContent !== text) el.textContent = text;
    };
    set('.sev', a.severity);
    set('.kind', a.kind.replace(/_/g, ' '));
    set('.time', a.time ? a.time.slice(11, 19) + 'Z' : '');
    set('.msg', a.message);
    set('.state', `${a.state}${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ''}`);
    li.querySelector('button.nearest').hidden = a.lat == null;
    const done = a.state === 'acknowledged' || a.state === 'cleared';
    li.querySelector('button.ack').hidden = done;
  }
}
