// The critical banner: while any critical alert is unacknowledged, a red bar
// under the top bar (role="alert") holds the newest one's message and
// position and how many others there are, with Show, Acknowledge and a
// dismiss button. It is derived from the alerts held, not from the moment an
// alert changed, so a console opened or reloaded while a critical alert is up
// shows it at once.
//
// Dismissing hides the banner (and silences the alarm) for the alerts as they
// are now; it is not an acknowledgement: a new critical alert, an update of
// one, or a reload brings it back. While any critical alert is
// unacknowledged the page title flashes "⚠ CRITICAL — …" (even with the
// banner dismissed), so a console in a background tab shows it too.

import { bannerView, bannerKey } from './alert-order.js';
import { formatPosition } from './position.js';

export class CriticalBanner {
  constructor({ el, alarm, onFocus, onAck }) {
    this.el = el;
    this.alarm = alarm;
    this.onFocus = onFocus;
    this.onAck = onAck;
    this.dismissed = new Set();
    this.view = { alerts: [], head: null, count: 0, show: false };
    this.baseTitle = document.title;
    this.flashTimer = null;
    this.seen = new Set(); // ids of the critical alerts already cued (the map border flash)
    el.setAttribute('role', 'alert');
    el.innerHTML = `<b class="b-label">CRITICAL</b> <span class="b-msg"></span> <span class="b-pos"></span> <span class="b-more"></span>
      <span class="b-buttons"><button class="b-show" title="Centre the map on it (c)">Show</button><button class="b-ack" title="Acknowledge it (a)">Acknowledge</button><button class="dismiss" title="Hide the banner: this does not acknowledge the alert">✕</button></span>`;
    el.querySelector('.b-show').onclick = () => this.view.head && this.onFocus(this.view.head);
    el.querySelector('.b-ack').onclick = (e) => this.view.head && this.onAck(this.view.head.id, e.currentTarget);
    el.querySelector('.dismiss').onclick = () => this.dismiss();
  }

  /** Recompute from every alert held (called after each change). */
  update(alerts) {
    const v = bannerView(alerts, this.dismissed);
    this.view = v;
    const el = this.el;
    if (v.head) {
      const set = (sel, text) => {
        const n = el.querySelector(sel);
        if (n.textContent !== text) n.textContent = text;
      };
      set('.b-msg', v.head.message);
      set('.b-pos', v.head.lat != null ? formatPosition(v.head.lat, v.head.lon) : '');
      set('.b-more', v.count > 1 ? `+${v.count - 1} more critical` : '');
      el.dataset.id = v.head.id;
      el.dataset.count = String(v.count);
      el.className = 'critical';
    }
    el.hidden = !v.show;
    // A critical alert not seen before: flash the map border.
    const fresh = v.alerts.some((a) => !this.seen.has(a.id));
    for (const a of v.alerts) this.seen.add(a.id);
    if (fresh && v.show) {
      document.body.classList.remove('flash');
      void document.body.offsetWidth;
      document.body.classList.add('flash');
    }
    this.alarm.setActive(v.show);
    this.flashTitle(v.count > 0);
  }

  /** Hide the banner for the critical alerts as they are now. */
  dismiss() {
    for (const a of this.view.alerts) this.dismissed.add(bannerKey(a));
    this.el.hidden = true;
    this.view = { ...this.view, show: false };
    this.alarm.setActive(false);
  }

  flashTitle(on) {
    if (on && !this.flashTimer) {
      let phase = false;
      const tick = () => {
        phase = !phase;
        const h = this.view.head;
        document.title = phase && h ? `⚠ CRITICAL${this.view.count > 1 ? ` (${this.view.count})` : ''} — ${h.message}` : this.baseTitle;
      };
      tick();
      this.flashTimer = setInterval(tick, 1000);
    } else if (!on && this.flashTimer) {
      clearInterval(this.flashTimer);
      this.flashTimer = null;
      document.title = this.baseTitle;
    }
  }
}
