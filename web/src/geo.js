// Small geometry helpers shared by the build (base map preparation) and the
// client (viewport boxes). Coordinates are [lon, lat] in degrees.

/** Make a ring's longitudes continuous (no jump over 180°). */
export function unwrap(ring) {
  const out = [[ring[0][0], ring[0][1]]];
  for (let i = 1; i < ring.length; i++) {
    const prev = out[i - 1][0];
    let x = ring[i][0];
    while (x - prev > 180) x -= 360;
    while (x - prev < -180) x += 360;
    out.push([x, ring[i][1]]);
  }
  return out;
}

const crosses = (ring) => ring.some((p, i) => i > 0 && Math.abs(p[0] - ring[i - 1][0]) > 180);

/** Sutherland–Hodgman: clip a closed ring to [minX, minY, maxX, maxY]. */
export function clipRingToBox(ring, [x0, y0, x1, y1]) {
  let pts = ring.slice(0, -1);
  const edges = [
    (p) => p[0] >= x0, (p) => p[0] <= x1, (p) => p[1] >= y0, (p) => p[1] <= y1,
  ];
  const cut = [
    (a, b) => at(a, b, 0, x0), (a, b) => at(a, b, 0, x1), (a, b) => at(a, b, 1, y0), (a, b) => at(a, b, 1, y1),
  ];
  for (let e = 0; e < 4 && pts.length; e++) {
    const inside = edges[e];
    const out = [];
    for (let i = 0; i < pts.length; i++) {
      const cur = pts[i];
      const prev = pts[(i + pts.length - 1) % pts.length];
      const ci = inside(cur), pi = inside(prev);
      if (ci) {
        if (!pi) out.push(cut[e](prev, cur));
        out.push(cur);
      } else if (pi) out.push(cut[e](prev, cur));
    }
    pts = out;
  }
  if (pts.length < 3) return [];
  return [...pts, pts[0]];
}

function at(a, b, axis, v) {
  const t = (v - a[axis]) / (b[axis] - a[axis]);
  const p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
  p[axis] = v;
  return p;
}

/** Clip a polyline to a box; returns the pieces inside. */
export function clipLineToBox(line, [x0, y0, x1, y1]) {
  const inside = (p) => p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1;
  const pieces = [];
  let cur = null;
  for (let i = 0; i < line.length; i++) {
    const p = line[i];
    if (i === 0) {
      if (inside(p)) cur = [p];
      continue;
    }
    const seg = clipSegment(line[i - 1], p, x0, y0, x1, y1);
    if (!seg) {
      if (cur) pieces.push(cur);
      cur = null;
      continue;
    }
    const [a, b] = seg;
    if (!cur) cur = [a];
    cur.push(b);
    if (!inside(p)) {
      pieces.push(cur);
      cur = null;
    }
  }
  if (cur) pieces.push(cur);
  return pieces.filter((l) => l.length >= 2);
}

// Liang–Barsky.
function clipSegment(a, b, x0, y0, x1, y1) {
  let t0 = 0, t1 = 1;
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const p = [-dx, dx, -dy, dy];
  const q = [a[0] - x0, x1 - a[0], a[1] - y0, y1 - a[1]];
  for (let i = 0; i < 4; i++) {
    if (p[i] === 0) {
      if (q[i] < 0) return null;
    } else {
      const r = q[i] / p[i];
      if (p[i] < 0) { if (r > t1) return null; if (r > t0) t0 = r; }
      else { if (r < t0) return null; if (r < t1) t1 = r; }
    }
  }
  return [[a[0] + t0 * dx, a[1] + t0 * dy], [a[0] + t1 * dx, a[1] + t1 * dy]];
}

/**
 * Cut a polygon (GeoJSON rings) at the antimeridian: unwrap, close rings
 * around a pole along the pole, clip to 360°-wide strips and shift each
 * piece back into [-180, 180]. Returns a list of polygons.
 */
export function cutPolygon(poly) {
  if (!poly.some(crosses)) return [poly];
  let shell = unwrap(poly[0]);
  const span = shell[shell.length - 1][0] - shell[0][0];
  if (Math.abs(span) > 180) {
    // Goes round a pole (Antarctica): close it along the pole.
    const meanLat = shell.reduce((s, p) => s + p[1], 0) / shell.length;
    const pole = meanLat < 0 ? -90 : 90;
    const last = shell[shell.length - 1];
    shell = [...shell, [last[0], pole], [shell[0][0], pole], shell[0]];
  }
  const holes = poly.slice(1).map((h) => {
    const u = unwrap(h);
    const k = Math.round((shell[0][0] - u[0][0]) / 360);
    return u.map(([x, y]) => [x + k * 360, y]);
  });
  const xs = shell.map((p) => p[0]);
  const lo = Math.floor((Math.min(...xs) + 180) / 360), hi = Math.floor((Math.max(...xs) + 180) / 360);
  const out = [];
  for (let k = lo; k <= hi; k++) {
    const box = [k * 360 - 180, -90, k * 360 + 180, 90];
    const s = clipRingToBox(shell, box);
    if (s.length < 4) continue;
    const shift = (r) => r.map(([x, y]) => [x - k * 360, y]);
    const rings = [shift(s)];
    for (const h of holes) {
      const c = clipRingToBox(h, box);
      if (c.length >= 4) rings.push(shift(c));
    }
    out.push(rings);
  }
  return out;
}

/** Split a line where it jumps across the antimeridian. */
export function cutLine(line) {
  const pieces = [];
  let cur = [line[0]];
  for (let i = 1; i < line.length; i++) {
    const a = line[i - 1], b = line[i];
    const d = b[0] - a[0];
    if (Math.abs(d) > 180) {
      const edge = a[0] > 0 ? 180 : -180;
      const bx = b[0] + (d > 0 ? -360 : 360);
      const t = (edge - a[0]) / (bx - a[0]);
      const lat = a[1] + (b[1] - a[1]) * (Number.isFinite(t) ? t : 0);
      cur.push([edge, lat]);
      pieces.push(cur);
      cur = [[-edge, lat], b];
    } else cur.push(b);
  }
  pieces.push(cur);
  return pieces.filter((l) => l.length >= 2);
}

/**
 * The protocol's boxes for a view [west, south, east, north] whose west/east
 * may run past ±180 (a map panned across the antimeridian): one box, or two
 * split at 180°, or the whole world.
 */
export function viewBoxes(west, south, east, north) {
  const s = Math.max(-90, Math.min(south, 89.999));
  const n = Math.min(90, Math.max(north, s + 0.001));
  const r = (v) => Math.round(v * 1e4) / 1e4;
  if (!(east - west < 360)) return [[-180, r(s), 180, r(n)]];
  const w = ((((west + 180) % 360) + 360) % 360) - 180;
  const e = w + (east - west);
  if (e <= 180) return [[r(w), r(s), r(Math.max(e, w + 0.0001)), r(n)]];
  return [
    [r(w), r(s), 180, r(n)],
    [-180, r(s), r(e - 360), r(n)],
  ];
}

/** Shift a longitude by whole turns to lie nearest to `ref`. */
export function nearLon(lon, ref) {
  return lon + 360 * Math.round((ref - lon) / 360);
}

/** Great-circle distance in nautical miles and initial bearing. */
export function distanceNm(lat1, lon1, lat2, lon2) {
  const R = 3440.065;
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r, dLon = (lon2 - lon1) * r;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Is [lon, lat] inside a ring (even-odd rule; the ring's longitudes continuous)? */
export function pointInRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i], [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Is [lon, lat] inside a GeoJSON Polygon or MultiPolygon (holes excluded)? */
export function pointInGeometry(lon, lat, g) {
  const polys = g?.type === 'Polygon' ? [g.coordinates] : g?.type === 'MultiPolygon' ? g.coordinates : [];
  return polys.some(([outer, ...holes]) => pointInRing(lon, lat, outer) && !holes.some((h) => pointInRing(lon, lat, h)));
}
