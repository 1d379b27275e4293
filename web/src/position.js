// How the console writes a position: degrees and decimal minutes, as watch
// officers read them and as the server writes them in alert messages
// (`alerts::format_position`): `34°42.0'N 013°06.0'E`. Every place that shows
// a position (banner, alert list, panels) uses this one function, so they
// always agree.

/** One coordinate: `34°42.0'N` (latitude, 2-digit degrees) or `013°06.0'E`. */
export function formatCoord(v, pos, neg, width) {
  const a = Math.abs(v);
  // Round to tenths of a minute first, so 59.96' carries into the degree.
  let d = Math.floor(a);
  let tenths = Math.round((a - d) * 600);
  if (tenths >= 600) {
    d += 1;
    tenths -= 600;
  }
  const m = (tenths / 10).toFixed(1).padStart(4, '0');
  return `${String(d).padStart(width, '0')}°${m}'${v >= 0 ? pos : neg}`;
}

/** `34°42.0'N 013°06.0'E`; '–' when there is no position. */
export function formatPosition(lat, lon) {
  if (lat == null || lon == null || !Number.isFinite(lat) || !Number.isFinite(lon)) return '–';
  const lon180 = ((((lon + 180) % 360) + 360) % 360) - 180;
  return `${formatCoord(lat, 'N', 'S', 2)} ${formatCoord(lon180, 'E', 'W', 3)}`;
}
