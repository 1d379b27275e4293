// Greedy label placement: labels are offered in priority order and each is
// drawn only if its box collides with none already placed (nor with a box
// reserved beforehand, such as a zone name). Used for the zone names
// (src/basemap.js) and the vessel names (src/vessels.js), so that no label
// overlaps another or covers a zone name.
//
// Boxes are screen rectangles `[x0, y0, x1, y1]` in CSS pixels. A uniform
// grid of buckets keeps each test cheap with hundreds of labels.

const CELL = 64;

export const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

export class Occupancy {
  constructor() {
    this.boxes = [];
    this.grid = new Map(); // "cx,cy" -> indices into boxes
  }

  *cells(b) {
    for (let cx = Math.floor(b[0] / CELL); cx <= Math.floor(b[2] / CELL); cx++) {
      for (let cy = Math.floor(b[1] / CELL); cy <= Math.floor(b[3] / CELL); cy++) yield `${cx},${cy}`;
    }
  }

  collides(b) {
    for (const c of this.cells(b)) {
      const list = this.grid.get(c);
      if (list && list.some((i) => overlaps(this.boxes[i], b))) return true;
    }
    return false;
  }

  /** Reserve a box whatever it overlaps. */
  add(b) {
    const i = this.boxes.push(b) - 1;
    for (const c of this.cells(b)) {
      const list = this.grid.get(c);
      if (list) list.push(i);
      else this.grid.set(c, [i]);
    }
  }

  /** Place the box if it is free: true when placed. */
  place(b) {
    if (this.collides(b)) return false;
    this.add(b);
    return true;
  }
}
