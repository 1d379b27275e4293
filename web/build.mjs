// Build the web client into dist/: the offline base map (Natural Earth land
// from world-atlas, TopoJSON -> GeoJSON, cut at the antimeridian) and the
// bundled ES modules (esbuild). Nothing here is fetched at run time.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { feature, mesh } from 'topojson-client';
import { cutPolygon, cutLine, clipRingToBox, clipLineToBox } from './src/geo.js';

const require = createRequire(import.meta.url);
const here = (p) => new URL(p, import.meta.url);
mkdirSync(here('dist'), { recursive: true });

// The detailed (1:10m) coastline is kept for the operations area only; the
// rest of the world uses 1:50m. DETAIL must match src/basemap.js.
export const DETAIL = [-7, 29, 37, 46.5];
// The world outside DETAIL as four convex boxes (clipping stays convex).
const OUTSIDE = [
  [-540, -90, 540, DETAIL[1]],
  [-540, DETAIL[3], 540, 90],
  [-540, DETAIL[1], DETAIL[0], DETAIL[3]],
  [DETAIL[2], DETAIL[1], 540, DETAIL[3]],
];

const round = (v) => Math.round(v * 1000) / 1000;
const rnd = (ring) => {
  const out = [];
  for (const [x, y] of ring) {
    const p = [round(x), round(y)];
    const q = out[out.length - 1];
    if (!q || q[0] !== p[0] || q[1] !== p[1]) out.push(p);
  }
  return out;
};

function landPolygons(topo) {
  const land = feature(topo, topo.objects.land);
  const geoms = land.type === 'FeatureCollection' ? land.features.map((f) => f.geometry) : [land.geometry];
  const polys = [];
  for (const g of geoms) {
    const list = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    for (const poly of list) polys.push(...cutPolygon(poly));
  }
  return polys;
}

function coastLines(topo) {
  const m = mesh(topo, topo.objects.land);
  const lines = [];
  for (const l of m.coordinates) lines.push(...cutLine(l));
  return lines;
}

function clipPolys(polys, box) {
  const out = [];
  for (const poly of polys) {
    const rings = poly.map((r) => clipRingToBox(r, box)).filter((r) => r.length >= 4);
    // A hole may vanish while its shell stays; a shell that vanished drops the polygon.
    if (rings.length && clipRingToBox(poly[0], box).length >= 4) out.push(rings.map(rnd).filter((r) => r.length >= 4));
  }
  return out.filter((p) => p.length);
}

function clipLines(lines, box) {
  return lines.flatMap((l) => clipLineToBox(l, box)).map(rnd).filter((l) => l.length >= 2);
}

const t50 = JSON.parse(readFileSync(require.resolve('world-atlas/land-50m.json'), 'utf8'));
const t10 = JSON.parse(readFileSync(require.resolve('world-atlas/land-10m.json'), 'utf8'));
const land50 = landPolygons(t50);
const coast50 = coastLines(t50);
const land10 = landPolygons(t10);
const coast10 = coastLines(t10);

const basemap = {
  attribution: 'Natural Earth (public domain) via world-atlas',
  detail_box: DETAIL,
  // The world is `outside` plus either `inside` (1:50m, low zooms) or
  // `detail` (1:10m, closer zooms) within the detail box.
  inside: { land: clipPolys(land50, DETAIL), coast: clipLines(coast50, DETAIL) },
  outside: {
    land: OUTSIDE.flatMap((b) => clipPolys(land50, b)),
    coast: OUTSIDE.flatMap((b) => clipLines(coast50, b)),
  },
  detail: { land: clipPolys(land10, DETAIL), coast: clipLines(coast10, DETAIL) },
};
writeFileSync(here('dist/basemap.json'), JSON.stringify(basemap));

await build({
  entryPoints: [here('src/main.js').pathname],
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: true,
  target: ['chrome110', 'firefox110', 'safari16'],
  outfile: here('dist/app.js').pathname,
  loader: { '.png': 'dataurl', '.svg': 'dataurl' },
  logLevel: 'warning',
});
copyFileSync(here('index.html'), here('dist/index.html'));
const kb = (p) => (readFileSync(here(p)).length / 1024).toFixed(0) + ' KiB';
console.log(`web/dist: app.js ${kb('dist/app.js')}, app.css ${kb('dist/app.css')}, basemap.json ${kb('dist/basemap.json')}`);
