// Offline base map: land and coastlines prepared at build time (build.mjs,
// dist/basemap.json) drawn by Leaflet's canvas renderer, in three copies
// (-360°, 0, +360°) so a view across the antimeridian has land on both
// sides; and a graticule drawn on the vessel canvas.

import L from 'leaflet';
import { api } from './api.js';
import { Occupancy } from './labels.js';
import { pointInGeometry } from './geo.js';
import { esc } from './html.js';

const LAND = { stroke: false, fillColor: '#2b3a45', fillOpacity: 1, interactive: false };
const COAST = { color: '#6c8597', weight: 0.8, opacity: 1, interactive: false, fill: false };

function layerOf(set, renderer, offset) {
  const shift = (ring) => ring.map(([x, y]) => [y, x + offset]);
  const group = L.layerGroup();
  for (const poly of set.land) group.addLayer(L.polygon(poly.map(shift), { ...LAND, renderer }));
  for (const line of set.coast) group.addLayer(L.polyline(shift(line), { ...COAST, renderer, smoothFactor: 1.5 }));
  return group;
}

export async function addBasemap(map) {
  map.createPane('land');
  map.getPane('land').style.zIndex = 250;
  const renderer = L.canvas({ pane: 'land', padding: 0.3 });
  const r = await fetch('basemap.json');
  const data = await r.json();
  const build = (set) => L.layerGroup([-360, 0, 360].map((o) => layerOf(set, renderer, o)));
  build(data.outside).addTo(map);
  const coarse = build(data.inside);
  const fine = build(data.detail);
  const pick = () => {
    const want = map.getZoom() >= 5 ? fine : coarse;
    const other = want === fine ? coarse : fine;
    if (map.hasLayer(other)) map.removeLayer(other);
    if (!map.hasLayer(want)) map.addLayer(want);
  };
  map.on('zoomend', pick);
  pick();
  map.attributionControl.addAttribution(data.attribution);
}

/** Graticule lines and edge labels, spacing by zoom. */
export function drawGraticule(ctx, layer) {
  const map = layer.map;
  const z = map.getZoom();
  const step = z >= 9 ? 0.25 : z >= 8 ? 0.5 : z >= 6 ? 1 : z >= 4 ? 5 : z >= 2 ? 10 : 30;
  const size = map.getSize();
  const nw = map.containerPointToLatLng([0, 0]), se = map.containerPointToLatLng([size.x, size.y]);
  ctx.save();
  ctx.strokeStyle = 'rgba(160,190,215,0.16)';
  ctx.lineWidth = 1;
  ctx.fillStyle = 'rgba(170,200,225,0.6)';
  ctx.font = '10px system-ui, sans-serif';
  ctx.beginPath();
  const lon0 = Math.ceil(nw.lng / step) * step;
  for (let lon = lon0; lon <= se.lng; lon += step) {
    const x = Math.round(map.latLngToContainerPoint([0, lon]).x) + 0.5;
    ctx.moveTo(x, 0);
    ctx.lineTo(x, size.y);
    ctx.fillText(fmt(((lon + 540) % 360) - 180, 'E', 'W'), x + 3, size.y - 4);
  }
  const lat0 = Math.ceil(Math.max(se.lat, -85) / step) * step;
  for (let lat = lat0; lat <= Math.min(nw.lat, 85); lat += step) {
    const y = Math.round(map.latLngToContainerPoint([lat, nw.lng]).y) + 0.5;
    ctx.moveTo(0, y);
    ctx.lineTo(size.x, y);
    ctx.fillText(fmt(lat, 'N', 'S'), 3, y - 3);
  }
  ctx.stroke();
  ctx.restore();
}

function fmt(v, pos, neg) {
  const a = Math.abs(v);
  const d = Math.floor(a + 1e-9);
  const m = Math.round((a - d) * 60);
  return `${d}°${m ? `${String(m).padStart(2, '0')}'` : ''}${v > 0 ? pos : v < 0 ? neg : ''}`;
}

// Zones ------------------------------------------------------------------

const KIND_STYLE = {
  sar_region: { color: '#ffb300', dashArray: '6 4', fillOpacity: 0.03 },
  patrol_area: { color: '#29b6f6', dashArray: '2 4', fillOpacity: 0.04 },
  port: { color: '#66bb6a', fillOpacity: 0.08 },
  watch: { color: '#ef5350', fillOpacity: 0.06 },
};

/**
 * Zones from GET /api/zones (and the `zones` channel), toggled per kind.
 * Each zone's name is a label of our own (a marker in the `zoneLabels`
 * pane), placed after every move: at the zone's centre when that is in
 * view, else at the middle of the zone's visible part, smallest zones
 * first, and left out when it would overlap a name already placed, a map
 * control or a box given by `avoid` (contacts, beacons: src/labels.js).
 * `labelBoxes()` gives the placed boxes so vessel names keep off them.
 */
export class ZoneLayer {
  constructor(map, container, { onPlaced, avoid } = {}) {
    this.map = map;
    this.container = container; // the per-kind toggles
    this.onPlaced = onPlaced || (() => {});
    this.avoid = avoid || (() => []); // boxes zone names must not cover (contacts, beacons…)
    this.controlBoxes = []; // the map's controls (zoom, scale, attribution), container px
    this.byKind = new Map(); // kind -> L.LayerGroup
    this.entries = []; // { feature, kind, shape, label, area, size }
    this.placed = []; // placed label boxes in layer points
    this.hidden = new Set(JSON.parse(localStorage.getItem('lookout.hiddenZoneKinds') || '[]'));
    this.last = '';
    map.createPane('zones');
    map.getPane('zones').style.zIndex = 300;
    map.createPane('zoneLabels');
    map.getPane('zoneLabels').style.zIndex = 320;
    map.getPane('zoneLabels').style.pointerEvents = 'none';
    this.renderer = L.canvas({ pane: 'zones', padding: 0.3 });
    map.on('moveend zoomend resize', () => this.placeLabels());
  }

  async load() {
    this.set(await api('/api/zones'));
  }

  /** Draw a FeatureCollection of zones (replacing what was drawn). */
  set(fc) {
    const text = JSON.stringify(fc);
    if (text === this.last) return;
    this.last = text;
    for (const g of this.byKind.values()) this.map.removeLayer(g);
    this.byKind.clear();
    this.entries = [];
    this.features = fc.features || [];
    for (const f of this.features) {
      const kind = f.properties?.kind || 'zone';
      if (!this.byKind.has(kind)) this.byKind.set(kind, L.layerGroup());
      const style = { color: '#bdbdbd', weight: 1.5, fillOpacity: 0.04, ...KIND_STYLE[kind] };
      const shape = L.geoJSON(f, { style: { ...style, fillColor: style.color }, renderer: this.renderer, pane: 'zones', interactive: false });
      const b = shape.getBounds();
      const icon = L.divIcon({
        className: `zone-label zone-${kind}`,
        html: `<div class="zl-inner"><b>${esc(f.properties?.name || f.id)}</b><br><i>${esc(kind.replace('_', ' '))}</i></div>`,
        iconSize: null,
      });
      const label = L.marker(b.getCenter(), { icon, pane: 'zoneLabels', interactive: false, keyboard: false });
      this.byKind.get(kind).addLayer(shape).addLayer(label);
      const area = (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth());
      this.entries.push({ feature: f, kind, shape, label, bounds: b, area, size: null });
    }
    // Smaller zones first: their names are the more specific.
    this.entries.sort((a, b) => a.area - b.area);
    for (const [kind, g] of this.byKind) if (!this.hidden.has(kind)) g.addTo(this.map);
    this.renderToggles();
    this.placeLabels();
  }

  /** Place the zone names for the current view (see the class comment). */
  placeLabels() {
    const map = this.map;
    const size = map.getSize();
    const occ = new Occupancy();
    const origin = map.containerPointToLayerPoint([0, 0]);
    this.placed = [];
    // Keep clear of the map's controls and of what matters more than a zone name.
    const frame = map.getContainer().getBoundingClientRect();
    this.controlBoxes = [...map.getContainer().querySelectorAll('.leaflet-control')].map((el) => {
      const r = el.getBoundingClientRect();
      return [r.left - frame.left, r.top - frame.top, r.right - frame.left, r.bottom - frame.top];
    });
    for (const b of [...this.controlBoxes, ...this.avoid()]) occ.add(b);
    for (const e of this.entries) {
      const el = e.label.getElement();
      if (!el || this.hidden.has(e.kind)) continue;
      el.classList.remove('label-hidden');
      e.size ||= el.firstChild.offsetWidth ? [el.firstChild.offsetWidth, el.firstChild.offsetHeight] : null;
      const spot = e.size && this.labelSpot(e, size, occ);
      if (!spot) {
        el.classList.add('label-hidden');
        continue;
      }
      occ.add(spot.box);
      e.label.setLatLng(map.containerPointToLatLng(spot.at));
      const b = spot.box;
      this.placed.push({ id: e.feature.properties?.id ?? e.feature.id, box: [b[0] + origin.x, b[1] + origin.y, b[2] + origin.x, b[3] + origin.y] });
    }
    this.onPlaced();
  }

  /**
   * Where a zone's name goes: its centre when the whole name fits on screen
   * there; else (a zone larger than the view, or partly off it) the top, the
   * bottom or the middle of the zone's visible part, inside the zone, so the
   * middle of the map, where the eye is, stays clear. Null when every spot is
   * taken or the zone is off screen.
   */
  labelSpot(e, size, occ) {
    const map = this.map;
    const [w, h] = e.size;
    const boxAt = ([x, y]) => [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
    const onScreen = ([x, y]) => x >= w / 2 + 2 && y >= h / 2 + 2 && x <= size.x - w / 2 - 2 && y <= size.y - h / 2 - 2;
    const centre = map.latLngToContainerPoint(e.shape.getLayers()[0]?.getCenter?.() || e.bounds.getCenter());
    const c = [centre.x, centre.y];
    if (onScreen(c) && !occ.collides(boxAt(c))) return { at: c, box: boxAt(c) };
    const nw = map.latLngToContainerPoint(e.bounds.getNorthWest());
    const se = map.latLngToContainerPoint(e.bounds.getSouthEast());
    const r = [Math.max(0, nw.x), Math.max(0, nw.y), Math.min(size.x, se.x), Math.min(size.y, se.y)];
    if (r[2] - r[0] < w * 0.5 || r[3] - r[1] < h) return null;
    const mid = (r[0] + r[2]) / 2;
    const clamp = ([x, y]) => [Math.max(w / 2 + 2, Math.min(size.x - w / 2 - 2, x)), Math.max(h / 2 + 2, Math.min(size.y - h / 2 - 2, y))];
    const geometry = e.feature.geometry;
    for (const p of [[mid, r[1] + h / 2 + 8], [mid, r[3] - h / 2 - 22], [mid, (r[1] + r[3]) / 2]].map(clamp)) {
      const ll = map.containerPointToLatLng(p);
      if (!pointInGeometry(((ll.lng + 540) % 360) - 180, ll.lat, geometry)) continue;
      if (!occ.collides(boxAt(p))) return { at: p, box: boxAt(p) };
    }
    return null;
  }

  /** The zone names on screen now: `[{ id, box }]` in container pixels. */
  labelBoxes() {
    const o = this.map.containerPointToLayerPoint([0, 0]);
    return this.placed.map(({ id, box }) => ({ id, box: [box[0] - o.x, box[1] - o.y, box[2] - o.x, box[3] - o.y] }));
  }

  renderToggles() {
    this.container.replaceChildren(
      ...[...this.byKind.keys()].sort().map((kind) => {
        const label = document.createElement('label');
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.checked = !this.hidden.has(kind);
        box.dataset.kind = kind;
        box.onchange = () => this.toggle(kind, box.checked);
        label.append(box, ` ${kind.replace('_', ' ')} zones`);
        return label;
      }),
    );
  }

  toggle(kind, on) {
    const g = this.byKind.get(kind);
    if (on) {
      this.hidden.delete(kind);
      g?.addTo(this.map);
    } else {
      this.hidden.add(kind);
      if (g) this.map.removeLayer(g);
    }
    localStorage.setItem('lookout.hiddenZoneKinds', JSON.stringify([...this.hidden]));
    this.placeLabels();
  }

  nameOf(id) {
    const f = this.features?.find((z) => z.properties?.id === id || z.id === id);
    return f ? f.properties.name : id;
  }
}
