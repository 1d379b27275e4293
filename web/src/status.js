// The status bar: picture time, LIVE/REPLAY and speed, messages/s, vessel
// counts, and each feed's current state.
//
// Two ways in, the newest wins: the `sources` channel (every 2 s while the
// WebSocket is up) and a poll of GET /api/status and GET /api/sources every
// few seconds (so the feeds' states stay current even when the channel is not
// delivering, e.g. through a cluster edge or while reconnecting). A feed list
// older than STALE_MS is marked as such rather than shown as if current.

import { esc } from './html.js';

const POLL_MS = 3000;
const STALE_MS = 12000;
const OK = new Set(['connected', 'listening', 'reading', 'finished']);

export class StatusBar {
  constructor({ api, app, vessels, $ }) {
    this.api = api;
    this.app = app;
    this.vessels = vessels;
    this.$ = $;
    this.sourcesAt = 0; // when app.sources was last refreshed (ms, this clock)
  }

  start() {
    this.poll();
    this.timer = setInterval(() => this.poll(), POLL_MS);
    // The stale mark needs a clock even when nothing arrives.
    setInterval(() => this.render(), 1000);
  }

  /** A `sources` message: `{status, sources}` (older servers: a plain list). */
  fromChannel(m) {
    if (Array.isArray(m.sources)) this.setSources(m.sources);
    else {
      this.setSources(m.sources.sources || []);
      if (m.sources.status) this.app.status = m.sources.status;
    }
    this.render();
  }

  setSources(list) {
    this.app.sources = list;
    this.sourcesAt = Date.now();
  }

  async poll() {
    const [status, sources] = await Promise.allSettled([this.api('/api/status'), this.api('/api/sources')]);
    if (status.status === 'fulfilled') this.app.status = status.value;
    if (sources.status === 'fulfilled' && Array.isArray(sources.value)) this.setSources(sources.value);
    this.render();
  }

  render() {
    const { $, app } = this;
    const s = app.status;
    if (s) {
      const replay = s.mode === 'replay';
      $('st-mode').textContent = replay ? `REPLAY ${s.replay_speed > 0 ? `${s.replay_speed}×` : 'max speed'}` : 'LIVE';
      $('st-mode').className = replay ? 'replay' : 'live';
      $('st-mode').title = s.replay || '';
      $('st-time').textContent = s.time ? `${s.time.slice(0, 10)} ${s.time.slice(11, 19)}Z` : 'no data yet';
      $('st-rate').textContent = `${Math.round(s.messages_per_s)} msg/s`;
      $('st-count').textContent = `${this.vessels.visible.toLocaleString()} in view · ${this.vessels.vessels.size.toLocaleString()} subscribed · ${(s.vessels ?? 0).toLocaleString()} in picture`;
    }
    const stale = this.sourcesAt && Date.now() - this.sourcesAt > STALE_MS;
    const feeds = app.sources || [];
    const el = $('st-feeds');
    el.classList.toggle('stale', !!stale);
    el.title = stale ? `feed states last received ${Math.round((Date.now() - this.sourcesAt) / 1000)} s ago` : '';
    el.innerHTML = feeds
      .map((f) => {
        const errs = Array.isArray(f.errors) ? f.errors.length : 0;
        const tip = `${f.kind} · ${f.lines} lines · ${f.messages} messages${f.dropped ? ` · ${f.dropped} dropped` : ''}${errs ? ` · ${errs} error kinds` : ''}${f.last_error ? ` · ${f.last_error}` : ''}`;
        return `<span class="feed ${OK.has(f.state) ? 'ok' : 'bad'}" data-name="${esc(f.name)}" data-state="${esc(f.state)}" title="${esc(tip)}">${esc(f.name)}: ${esc(f.state)}${stale ? ' (?)' : ''}</span>`;
      })
      .join(' ');
  }
}
