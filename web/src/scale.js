// The scale bar, in nautical miles (Leaflet's own offers metres and statute
// miles only). Measured at the middle of the map, across 100 px, like
// Leaflet's: the bar is a round number of NM (1, 2 or 5 × a power of ten) no
// wider than MAX_PX.

import L from 'leaflet';

const NM = 1852;
const MAX_PX = 120;

/** The largest 1, 2 or 5 × 10^k not above `x`. */
export function roundDown(x) {
  const p = 10 ** Math.floor(Math.log10(x));
  const f = x / p;
  return (f >= 5 ? 5 : f >= 2 ? 2 : 1) * p;
}

export const NauticalScale = L.Control.extend({
  options: { position: 'bottomleft' },

  onAdd(map) {
    const box = L.DomUtil.create('div', 'leaflet-control-scale nm-scale');
    this.bar = L.DomUtil.create('div', 'leaflet-control-scale-line', box);
    this.map = map;
    map.on('move zoom resize', this.update, this);
    map.whenReady(this.update, this);
    return box;
  },

  onRemove(map) {
    map.off('move zoom resize', this.update, this);
  },

  update() {
    const map = this.map;
    const y = map.getSize().y / 2;
    const metresPer100 = map.distance(map.containerPointToLatLng([0, y]), map.containerPointToLatLng([100, y]));
    const nmPerPx = metresPer100 / 100 / NM;
    const nm = roundDown(MAX_PX * nmPerPx);
    const px = Math.round(nm / nmPerPx);
    const text = `${nm >= 1 ? nm : Number(nm.toPrecision(1))} NM`;
    this.bar.style.width = `${px}px`;
    this.bar.textContent = text;
    this.bar.dataset.nm = String(nm);
    this.bar.dataset.px = String(px);
  },
});
