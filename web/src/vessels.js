// The vessel layer: one canvas over the map, redrawn in one pass per frame
// (at most) from the vessel table. Symbols are pre-rendered sprites drawn
// with a rotation transform, so 20,000 vessels cost 20,000 drawImage calls
// and no DOM or per-vessel objects on the map.

import { nearLon } from './geo.js';
import { Occupancy } from './labels.js';

const DISTRESS = new Set(['ais_sart', 'mob', 'epirb_ais']);

/** Colour by ITU ship type (dark chart). */
export function typeColour(t) {
  if (t == null) return '#9aa5b1';
  if (t >= 70 && t <= 79) return '#43a047'; // cargo
  if (t >= 80 && t <= 89) return '#e53935'; // tanker
  if (t >= 60 && t <= 69) return '#1e88e5'; // passenger
  if (t === 30) return '#fb8c00'; // fishing
  if (t === 36 || t === 37) return '#d81b60'; // sailing, pleasure
  if (t >= 40 && t <= 49) return '#fdd835'; // high speed
  if (t === 51) return '#ff7043'; // SAR vessel
  if ((t >= 31 && t <= 35) || (t >= 50 && t <= 59)) return '#00acc1'; // tug, pilot, law, special
  return '#9aa5b1';
}

export const LEGEND = [
  ['#43a047', 'cargo'], ['#e53935', 'tanker'], ['#1e88e5', 'passenger'], ['#fb8c00', 'fishing'],
  ['#d81b60', 'sailing / pleasure'], ['#fdd835', 'high speed'], ['#ff7043', 'SAR vessel'],
  ['#00acc1', 'tug / pilot / law / special'], ['#9aa5b1', 'other / unknown'],
  ['#76ff03', 'own asset'], ['#ffeb3b', 'SAR aircraft (✈)'], ['#ce93d8', 'aid to navigation (◆)'],
  ['#ff1744', 'AIS-SART ⊗ · MOB ◉ · EPIRB ▲'],
];

/** What a vessel is drawn as: [shape, colour, rotates]. */
export function symbolOf(v) {
  const moving = v.heading != null || (v.cog != null && (v.sog ?? 0) >= 0.5);
  switch (v.class) {
    case 'ais_sart': return ['sart', '#ff1744', false];
    case 'mob': return ['mob', '#ff1744', false];
    case 'epirb_ais': return ['epirb', '#ff1744', false];
    case 'sar_aircraft': return ['plane', '#ffeb3b', true];
    case 'aton': return ['aton', '#ce93d8', false];
    case 'base_station': return ['base', '#b0bec5', false];
    case 'own_asset': return [moving ? 'own' : 'ownstill', '#76ff03', moving];
    case 'B': return [moving ? 'shipB' : 'still', typeColour(v.ship_type), moving];
    default: return [moving ? 'ship' : 'still', typeColour(v.ship_type), moving];
  }
}

const SPRITE = 24; // CSS px, square

function drawShape(c, shape, colour) {
  const s = SPRITE / 2;
  c.translate(s, s);
  c.lineWidth = 1.2;
  c.strokeStyle = 'rgba(0,0,0,0.85)';
  c.fillStyle = colour;
  const path = (pts) => {
    c.beginPath();
    pts.forEach(([x, y], i) => (i ? c.lineTo(x, y) : c.moveTo(x, y)));
    c.closePath();
    c.fill();
    c.stroke();
  };
  switch (shape) {
    case 'ship': path([[0, -9], [5, 6], [0, 3.5], [-5, 6]]); break;
    case 'shipB': path([[0, -7], [4, 5], [0, 3], [-4, 5]]); break;
    case 'own':
      c.strokeStyle = '#fff';
      c.lineWidth = 1.8;
      path([[0, -10], [6, 7], [0, 4], [-6, 7]]);
      break;
    case 'ownstill':
      c.strokeStyle = '#fff';
      c.lineWidth = 1.8;
      c.beginPath(); c.arc(0, 0, 5.5, 0, 7); c.fill(); c.stroke();
      break;
    case 'still': c.beginPath(); c.arc(0, 0, 3.6, 0, 7); c.fill(); c.stroke(); break;
    case 'plane':
      path([[0, -10], [1.6, -4], [9, 1], [9, 3], [1.6, 1], [1.2, 6], [4, 8.5], [4, 10], [0, 9],
        [-4, 10], [-4, 8.5], [-1.2, 6], [-1.6, 1], [-9, 3], [-9, 1], [-1.6, -4]]);
      break;
    case 'aton': path([[0, -6], [6, 0], [0, 6], [-6, 0]]); break;
    case 'base': path([[-4.5, -4.5], [4.5, -4.5], [4.5, 4.5], [-4.5, 4.5]]); break;
    case 'sart':
      c.beginPath(); c.arc(0, 0, 7.5, 0, 7); c.fill(); c.stroke();
      c.strokeStyle = '#fff'; c.lineWidth = 2;
      c.beginPath(); c.moveTo(-4, -4); c.lineTo(4, 4); c.moveTo(4, -4); c.lineTo(-4, 4); c.stroke();
      break;
    case 'mob':
      c.beginPath(); c.arc(0, 0, 7.5, 0, 7); c.fill(); c.stroke();
      c.fillStyle = '#fff'; c.beginPath(); c.arc(0, 0, 3, 0, 7); c.fill();
      break;
    case 'epirb':
      path([[0, -8.5], [8, 6.5], [-8, 6.5]]);
      c.fillStyle = '#fff'; c.fillRect(-1, -3, 2, 5); c.fillRect(-1, 3.3, 2, 1.8);
      break;
  }
}

const sprites = new Map();
function sprite(shape, colour, dpr) {
  const key = `${shape}|${colour}|${dpr}`;
  let s = sprites.get(key);
  if (!s) {
    // An ImageBitmap: drawing from a canvas element makes the browser
    // snapshot it on every drawImage, ten times slower for 20,000 calls.
    const px = Math.ceil(SPRITE * dpr);
    const off = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(px, px) : Object.assign(document.createElement('canvas'), { width: px, height: px });
    const c = off.getContext('2d');
    c.scale(dpr, dpr);
    drawShape(c, shape, colour);
    s = off.transferToImageBitmap ? off.transferToImageBitmap() : off;
    sprites.set(key, s);
  }
  return s;
}

// Pixel sprites for the fast path: the symbol pre-rotated in 5° steps at
// the current size, as packed RGBA (little-endian Uint32).
const pixelSprites = new Map();
function pixelSprite(shape, colour, step, k, dpr) {
  const key = `${shape}|${colour}|${step}|${k}|${dpr}`;
  let s = pixelSprites.get(key);
  if (!s) {
    const px = Math.ceil(SPRITE * k * dpr) | 1;
    const off = new OffscreenCanvas(px, px);
    const c = off.getContext('2d');
    c.translate(px / 2, px / 2);
    c.rotate(step * 5 * (Math.PI / 180));
    c.scale(k * dpr, k * dpr);
    c.translate(-SPRITE / 2, -SPRITE / 2);
    drawShape(c, shape, colour);
    s = { size: px, data: new Uint32Array(c.getImageData(0, 0, px, px).data.buffer) };
    pixelSprites.set(key, s);
  }
  return s;
}

// Above this many vessels in the subscription, draw into an ImageData buffer
// (one putImageData per frame) instead of one drawImage per vessel: without
// GPU canvas, drawImage costs ~25 µs a call, the buffer ~3 µs a vessel.
export const FAST_PATH_FROM = 2000;

const TILE = 256;
const D2R = Math.PI / 180;
const worldX = (lon, scale) => ((lon + 180) / 360) * scale;
function worldY(lat, scale) {
  const l = Math.max(-85.05, Math.min(85.05, lat)) * D2R;
  return (0.5 - Math.log(Math.tan(Math.PI / 4 + l / 2)) / (2 * Math.PI)) * scale;
}

export class VesselLayer {
  constructor(map, { drawUnder, drawOver, obstacles } = {}) {
    this.map = map;
    this.vessels = new Map(); // mmsi -> protocol vessel object
    this.selected = null;
    this.showLabels = true;
    this.drawUnder = drawUnder;
    this.drawOver = drawOver;
    this.obstacles = obstacles; // () => boxes vessel names must keep off
    this.labelBoxes = []; // the names drawn in the last frame: { name, box }
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'vessel-canvas';
    map.getContainer().appendChild(this.canvas);
    this.ctx = this.canvas.getContext('2d');
    this.visible = 0;
    this.hits = new Float64Array(0); // x, y, mmsi triples of the last frame
    this.frame = 0;
    this.pending = false;
    map.on('move zoom resize viewreset', () => this.redraw());
  }

  /** Replace the whole set (a snapshot). */
  reset(list) {
    this.vessels.clear();
    for (const v of list) this.vessels.set(v.mmsi, v);
    this.redraw();
  }

  /** Apply an update: changed vessels and removed MMSIs. */
  apply(list = [], removed = []) {
    for (const v of list) this.vessels.set(v.mmsi, v);
    for (const m of removed) this.vessels.delete(m);
    this.redraw();
  }

  redraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  /** Container pixel of a lon/lat near the view (shifted by whole turns). */
  project(lat, lon) {
    const scale = TILE * 2 ** this.map.getZoom();
    const tl = this._topLeft;
    return [worldX(nearLon(lon, this._centerLon), scale) - tl.x, worldY(lat, scale) - tl.y];
  }

  draw() {
    const map = this.map;
    const size = map.getSize();
    const dpr = window.devicePixelRatio || 1;
    const cv = this.canvas;
    if (cv.width !== Math.round(size.x * dpr) || cv.height !== Math.round(size.y * dpr)) {
      cv.width = Math.round(size.x * dpr);
      cv.height = Math.round(size.y * dpr);
      cv.style.width = `${size.x}px`;
      cv.style.height = `${size.y}px`;
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);
    const zoom = map.getZoom();
    const scale = TILE * 2 ** zoom;
    this._topLeft = map.containerPointToLayerPoint([0, 0]).add(map.getPixelOrigin());
    this._centerLon = map.getCenter().lng;
    const tl = this._topLeft, cLon = this._centerLon;
    if (this.drawUnder) this.drawUnder(ctx, this);

    const k = zoom >= 10 ? 1.3 : zoom >= 8 ? 1.1 : zoom >= 6 ? 0.9 : 0.7;
    const half = (SPRITE / 2) * k;
    const n = this.vessels.size;
    if (this.hits.length < n * 3) this.hits = new Float64Array(n * 3);
    const hits = this.hits;
    let h = 0;
    const labels = [];
    let pulse = false;
    const fast = n >= FAST_PATH_FROM && typeof OffscreenCanvas === 'function' ? this._buffer(cv.width, cv.height) : null;
    this.fastPath = !!fast;
    // Three passes so that lost/stale draw under live, and beacons, SAR
    // units and own assets on top of everything.
    for (let pass = 0; pass < 3; pass++) {
      for (const v of this.vessels.values()) {
        const p = v.class in PRIORITY ? 2 : v.state === 'live' ? 1 : 0;
        if (p !== pass) continue;
        const x = worldX(nearLon(v.lon, cLon), scale) - tl.x;
        const y = worldY(v.lat, scale) - tl.y;
        if (x < -half || y < -half || x > size.x + half || y > size.y + half) continue;
        const [shape, colour, rotates] = symbolOf(v);
        const alpha = v.state === 'lost' ? 0.25 : v.state === 'stale' ? 0.5 : 1;
        const deg = rotates ? (v.heading ?? v.cog ?? 0) : 0;
        if (fast) {
          blit(fast, pixelSprite(shape, colour, Math.round(deg / 5) % 72, k, dpr), x * dpr, y * dpr, alpha);
        } else {
          ctx.globalAlpha = alpha;
          const a = deg * D2R;
          const cos = Math.cos(a) * k * dpr, sin = Math.sin(a) * k * dpr;
          ctx.setTransform(cos, sin, -sin, cos, x * dpr, y * dpr);
          ctx.drawImage(sprite(shape, colour, dpr), -SPRITE / 2, -SPRITE / 2, SPRITE, SPRITE);
        }
        if (DISTRESS.has(v.class) && v.state === 'live') {
          pulse = true;
          ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
          const t = (performance.now() / 1000) % 1.2;
          ctx.strokeStyle = `rgba(255,23,68,${1 - t / 1.2})`;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.arc(x, y, 9 + t * 14, 0, 7);
          ctx.stroke();
        }
        hits[h++] = x;
        hits[h++] = y;
        hits[h++] = v.mmsi;
        if (v.name) labels.push([x, y, v.name, v.state, pass + (v.mmsi === this.selected ? 3 : 0)]);
      }
    }
    ctx.globalAlpha = 1;
    if (fast) {
      fast.ctx.putImageData(fast.image, 0, 0);
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(fast.canvas, 0, 0);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.hitCount = h / 3;
    this.visible = h / 3;

    // Selection ring.
    const sel = this.selected != null && this.vessels.get(this.selected);
    if (sel) {
      const [x, y] = this.project(sel.lat, sel.lon);
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, 14, 0, 7);
      ctx.stroke();
    }

    // Names when close enough, placed greedily (src/labels.js): the zone
    // names and other reserved boxes first, then beacons, SAR units and own
    // assets, then live vessels, then the rest; a name that would overlap
    // one already drawn is left out.
    this.labelBoxes = [];
    if (this.showLabels && (zoom >= 10 || (zoom >= 8 && labels.length <= 300))) {
      const occ = new Occupancy();
      for (const b of this.obstacles ? this.obstacles(this) : []) occ.add(b);
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      labels.sort((a, b) => b[4] - a[4]);
      for (const [x, y, name, state] of labels) {
        const w = ctx.measureText(name).width;
        const box = [x + 10, y - 7, x + 12 + w, y + 7];
        if (!occ.place(box)) continue;
        this.labelBoxes.push({ name, box });
        ctx.globalAlpha = state === 'live' ? 1 : 0.5;
        ctx.lineWidth = 3;
        ctx.strokeStyle = 'rgba(8,20,33,0.9)';
        ctx.strokeText(name, x + 11, y);
        ctx.fillStyle = '#e3eaf2';
        ctx.fillText(name, x + 11, y);
      }
      ctx.globalAlpha = 1;
    }
    if (this.drawOver) this.drawOver(ctx, this);
    this.frame++;
    // Beacons pulse: keep animating while one is on screen.
    if (pulse) setTimeout(() => this.redraw(), 80);
  }

  /** A cleared pixel buffer the size of the canvas (reused across frames). */
  _buffer(w, h) {
    let b = this.fastBuf;
    if (!b || b.w !== w || b.h !== h) {
      const canvas = new OffscreenCanvas(w, h);
      const ctx = canvas.getContext('2d');
      const image = ctx.createImageData(w, h);
      b = this.fastBuf = { w, h, canvas, ctx, image, px: new Uint32Array(image.data.buffer) };
    } else b.px.fill(0);
    return b;
  }

  /** The vessel drawn nearest to a container point, within `r` px. */
  hit(px, py, r = 12) {
    let best = null, bd = r * r;
    const hits = this.hits;
    for (let i = 0; i < this.hitCount * 3; i += 3) {
      const dx = hits[i] - px, dy = hits[i + 1] - py;
      const d = dx * dx + dy * dy;
      if (d <= bd) {
        bd = d;
        best = hits[i + 2];
      }
    }
    return best;
  }
}

const PRIORITY = { ais_sart: 1, mob: 1, epirb_ais: 1, sar_aircraft: 1, own_asset: 1 };

/** Draw a pixel sprite centred at (cx, cy), source-over with `alpha`. */
function blit(buf, spr, cx, cy, alpha) {
  const { w, h, px } = buf;
  const n = spr.size, src = spr.data;
  const x0 = Math.round(cx) - (n >> 1), y0 = Math.round(cy) - (n >> 1);
  const i0 = Math.max(0, -x0), i1 = Math.min(n, w - x0);
  const j0 = Math.max(0, -y0), j1 = Math.min(n, h - y0);
  for (let j = j0; j < j1; j++) {
    const row = (y0 + j) * w + x0, srow = j * n;
    for (let i = i0; i < i1; i++) {
      const p = src[srow + i];
      const sa8 = p >>> 24;
      if (sa8 === 0) continue;
      const sa = (sa8 / 255) * alpha;
      if (sa >= 0.999) {
        px[row + i] = p;
        continue;
      }
      const d = px[row + i];
      const da = (d >>> 24) / 255;
      const oa = sa + da * (1 - sa);
      const mix = (sh) => (((p >>> sh) & 255) * sa + ((d >>> sh) & 255) * da * (1 - sa)) / oa;
      px[row + i] = ((Math.round(oa * 255) << 24) | (mix(16) << 16) | (mix(8) << 8) | mix(0)) >>> 0;
    }
  }
}
