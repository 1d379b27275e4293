// Offline base map: land and coastlines prepared at build time (build.mjs,
// dist/basemap.json) drawn by Leaflet's canvas renderer, in three copies
// (-360°, 0, +360°) so a view across the antimeridian has land on both
// sides; and a graticule drawn on the vessel canvas.

import L from 'leaflet';
import { api } from './api.js';

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

export class ZoneLayer {
  constructor(map, container) {
    this.map = map;
    this.container = container; // the per-kind toggles
    this.byKind = new Map(); // kind -> L.LayerGroup
    this.hidden = new Set(JSON.parse(localStorage.getItem('lookout.hiddenZoneKinds') || '[]'));
    this.last = '';
    map.createPane('zones');
    map.getPane('zones').style.zIndex = 300;
    this.renderer = L.canvas({ pane: 'zones', padding: 0.3 });
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
    this.features = fc.features || [];
    for (const f of this.features) {
      const kind = f.properties?.kind || 'zone';
      if (!this.byKind.has(kind)) this.byKind.set(kind, L.layerGroup());
      const style = { color: '#bdbdbd', weight: 1.5, fillOpacity: 0.04, ...KIND_STYLE[kind] };
      const layer = L.geoJSON(f, { style: { ...style, fillColor: style.color }, renderer: this.renderer, pane: 'zones', interactive: false });
      layer.bindTooltip(`<b>${esc(f.properties?.name || f.id)}</b><br><i>${esc(kind.replace('_', ' '))}</i>`,
        { permanent: true, direction: 'center', className: `zone-label zone-${kind}`, opacity: 0.9 });
      this.byKind.get(kind).addLayer(layer);
    }
    for (const [kind, g] of this.byKind) if (!this.hidden.has(kind)) g.addTo(this.map);
    this.renderToggles();
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
  }

  nameOf(id) {
    const f = this.features?.find((z) => z.properties?.id === id || z.id === id);
    return f ? f.properties.name : id;
  }
}

export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
