// Vessel search over the whole picture, not only what the map has loaded:
// by name or call sign (substring, any case) or MMSI (prefix). The server
// ranks (`GET /api/vessels?q=TEXT`, best matches first, at most 20, as a
// FeatureCollection like `/api/vessels`); this module shows the answer and
// lets the operator pick one with the mouse or the keyboard.

import { esc } from './html.js';
import { formatPosition } from './position.js';

const MAX = 20;

export class VesselSearch {
  constructor({ api, input, results, onPick }) {
    this.api = api;
    this.input = input;
    this.results = results;
    this.onPick = onPick;
    this.seq = 0;
    this.timer = null;
    this.active = -1;
    this.hits = [];
    input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(input.value), 150);
    });
    input.addEventListener('keydown', (e) => this.key(e));
    document.addEventListener('click', (e) => {
      if (!results.contains(e.target) && e.target !== input) results.hidden = true;
    });
  }

  /** Vessels matching `text`, ranked by the server. */
  async find(text) {
    const fc = await this.api(`/api/vessels?q=${encodeURIComponent(text.trim())}&limit=${MAX}`);
    return (fc?.features || []).map((f) => f.properties);
  }

  async run(text) {
    const seq = ++this.seq;
    this.lastRun = text;
    if (text.trim().length < 2) {
      this.results.hidden = true;
      return;
    }
    let hits, error = null;
    try {
      hits = await this.find(text);
    } catch (e) {
      hits = [];
      error = e.message;
    }
    if (seq !== this.seq) return; // typed on meanwhile
    this.hits = hits;
    this.active = -1;
    this.results.replaceChildren(...(hits.length ? hits : [null]).map((v, i) => {
      const li = document.createElement('li');
      if (!v) {
        li.textContent = error ? `Search failed: ${error}` : 'No vessel in the picture matches';
        li.className = 'none';
        return li;
      }
      li.dataset.mmsi = String(v.mmsi);
      li.innerHTML = `<b>${esc(v.name || '(no name)')}</b> <span>${v.mmsi}</span> <span>${esc(v.callsign || '')}</span><br><span class="s-pos">${esc(formatPosition(v.lat, v.lon))}</span>`;
      li.onclick = () => this.pick(i);
      return li;
    }));
    this.results.hidden = false;
  }

  pick(i) {
    const v = this.hits[i];
    if (!v) return;
    this.results.hidden = true;
    this.onPick(v);
  }

  key(e) {
    const items = [...this.results.querySelectorAll('li[data-mmsi]')];
    if (e.key === 'Escape') {
      this.results.hidden = true;
      this.input.blur();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!items.length) return;
      e.preventDefault();
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items.forEach((li, i) => li.classList.toggle('active', i === this.active));
    } else if (e.key === 'Enter') {
      clearTimeout(this.timer);
      const text = this.input.value;
      (text === this.lastRun ? Promise.resolve() : this.run(text)).then(() => this.pick(Math.max(0, this.active)));
    }
  }
}
