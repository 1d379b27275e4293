// What the alert list and the critical banner show, as pure functions of the
// alerts held (no DOM, unit tested in tests/console.test.mjs):
//
// - ranking: severity first, then state (unacknowledged before acknowledged,
//   active before cleared), then the latest change, newest first;
// - filters by severity and kind;
// - repeated zone enter/exit alerts of one zone collapsed into one row;
// - which critical alerts the banner must show.
//
// An alert is "acknowledged" once someone acknowledged it: its state is then
// `acknowledged`, or it stays `cleared` with `acknowledged_by` set (an alert
// that cleared can still be acknowledged).

export const SEVERITIES = ['critical', 'warning', 'info'];
const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

export const isAcked = (a) => a.state === 'acknowledged' || a.acknowledged_by != null;
export const isActive = (a) => a.state === 'raised' || a.state === 'updated';

/** 0 unacknowledged and active, 1 unacknowledged but cleared, 2 acknowledged, 3 acknowledged and cleared. */
export function stateRank(a) {
  return (isAcked(a) ? 2 : 0) + (a.state === 'cleared' ? 1 : 0);
}

const newerFirst = (x, y) => (x < y ? 1 : x > y ? -1 : 0);

/** The list order. */
export function compareAlerts(a, b) {
  return (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3)
    || stateRank(a) - stateRank(b)
    || newerFirst(a.time, b.time)
    || newerFirst(a.id, b.id);
}

/** Alerts collapsed together: zone enter/exit of one zone, same severity and state rank. */
export function groupKey(a) {
  if ((a.kind === 'zone_enter' || a.kind === 'zone_exit') && a.zone) return `zone:${a.zone}:${a.severity}:${stateRank(a)}`;
  return null;
}

/** Does the alert pass the filter: `{ severities: Set, kind: '' | kind }`. */
export function passes(a, { severities, kind } = {}) {
  if (severities && !severities.has(a.severity)) return false;
  if (kind && a.kind !== kind) return false;
  return true;
}

/**
 * The list's rows, in order: `{ key, alerts }` where `alerts` (ranked) has one
 * alert, or the members of a collapsed group (2 or more). The row ranks as its
 * first (newest) member.
 */
export function buildRows(alerts, filter = {}) {
  const shown = [...alerts].filter((a) => passes(a, filter)).sort(compareAlerts);
  const groups = new Map();
  const rows = [];
  for (const a of shown) {
    const g = groupKey(a);
    if (g && groups.has(g)) {
      groups.get(g).alerts.push(a);
      continue;
    }
    const row = { key: `a:${a.id}`, group: g, alerts: [a] };
    if (g) groups.set(g, row);
    rows.push(row);
  }
  for (const row of rows) if (row.alerts.length > 1) row.key = `g:${row.group}`;
  return rows;
}

/** Kinds present, with how many alerts of each: `[[kind, n], …]`, most first. */
export function kindCounts(alerts) {
  const n = new Map();
  for (const a of alerts) n.set(a.kind, (n.get(a.kind) || 0) + 1);
  return [...n].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
}

/** The unacknowledged alerts of one severity and kind (for "acknowledge all"). */
export function unackedOf(alerts, severity, kind) {
  return [...alerts].filter((a) => a.severity === severity && a.kind === kind && !isAcked(a));
}

/** A critical alert in one version: dismissing the banner hides that version only. */
export const bannerKey = (a) => `${a.id}@${a.time}@${a.state}`;

/**
 * What the critical banner shows: every unacknowledged critical alert counts,
 * newest (raised last) first; the banner is up unless the operator dismissed
 * every one of them in their current version (`dismissed`: a Set of
 * bannerKey). A new critical alert, or an update of one, brings it back.
 */
export function bannerView(alerts, dismissed = new Set()) {
  const list = [...alerts].filter((a) => a.severity === 'critical' && !isAcked(a))
    .sort((a, b) => newerFirst(a.raised_at || a.time, b.raised_at || b.time) || newerFirst(a.id, b.id));
  return {
    alerts: list,
    head: list[0] || null,
    count: list.length,
    show: list.some((a) => !dismissed.has(bannerKey(a))),
  };
}
