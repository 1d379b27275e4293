// The audible alarm: a beep pattern (three short square-wave beeps) repeated
// every few seconds while an unacknowledged critical alert is up, through
// WebAudio (no sound files). The operator can mute it; the choice is kept in
// localStorage, so a reload stays muted.
//
// Browsers let a page make sound only after a user gesture: the AudioContext
// is created and resumed on the first click or key press, and the repeating
// pattern starts sounding from then on.

const MUTE_KEY = 'lookout.alarmMuted';
const PERIOD_MS = 5000;

export class Alarm {
  constructor({ button }) {
    this.button = button;
    this.muted = localStorage.getItem(MUTE_KEY) === '1';
    this.active = false;
    this.patterns = 0; // patterns scheduled (sounding or not)
    this.ctx = null;
    this.timer = null;
    const prime = () => {
      try {
        this.ctx ||= new AudioContext();
        this.ctx.resume?.().catch(() => {});
      } catch {
        /* no WebAudio */
      }
    };
    addEventListener('pointerdown', prime, { once: true, capture: true });
    addEventListener('keydown', prime, { once: true, capture: true });
    button.onclick = () => this.setMuted(!this.muted);
    this.renderButton();
  }

  /** What the tests (and the button) see. */
  get audioState() {
    return this.ctx?.state || 'none';
  }

  setMuted(m) {
    this.muted = m;
    localStorage.setItem(MUTE_KEY, m ? '1' : '0');
    this.renderButton();
  }

  renderButton() {
    const b = this.button;
    b.textContent = this.muted ? 'Alarm muted' : 'Alarm on';
    b.setAttribute('aria-pressed', String(this.muted));
    b.title = this.muted ? 'The critical-alert alarm is muted: click (or press m) to hear it again'
      : 'Critical alerts sound an alarm until acknowledged: click (or press m) to mute';
    b.classList.toggle('muted', this.muted);
    b.classList.toggle('sounding', this.active && !this.muted);
  }

  /** Sound (or stop) the repeating pattern. */
  setActive(on) {
    if (on === this.active) return;
    this.active = on;
    clearInterval(this.timer);
    this.timer = null;
    if (on) {
      this.pattern();
      this.timer = setInterval(() => this.pattern(), PERIOD_MS);
    }
    this.renderButton();
  }

  pattern() {
    if (this.muted) return;
    this.patterns++;
    try {
      this.ctx ||= new AudioContext();
      const ctx = this.ctx;
      if (ctx.state === 'suspended') ctx.resume?.().catch(() => {});
      const t = ctx.currentTime + 0.02;
      for (let i = 0; i < 3; i++) {
        const o = ctx.createOscillator();
        const g = ctx.createGain();
        o.type = 'square';
        o.frequency.value = i === 1 ? 1040 : 880;
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
}
