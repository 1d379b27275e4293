// The contact panels (in the side panel): a contact opened by clicking it on
// the map — what it is, where (the latest sighting), its drift, the open
// incidents that hold it, "Open incident", and who can reach it first
// (`GET /api/contacts/{id}/intercepts`) — and the form to report a new
// contact at a clicked position (`POST /api/contacts`).

import { esc } from './html.js';
import { formatPosition } from './position.js';

const fmtMin = (m) => (m == null ? 'cannot reach' : m < 90 ? `${Math.round(m)} min` : `${(m / 60).toFixed(1)} h`);
const row = (k, v) => (v == null || v === '' ? '' : `<tr><th>${k}</th><td>${v}</td></tr>`);

/**
 * Open the panel on a contact. `incidents`: the open incidents holding it;
 * `onNewIncident(contact)`, `onOpenIncident(incident)`, `onSelect(mmsi, lat, lon)`.
 */
export async function showContact(c, { api, panel, body, incidents, onNewIncident, onOpenIncident, onSelect }) {
  panel.hidden = false;
  const drift = c.speed_kn > 0 && c.course_deg != null ? `${Math.round(c.course_deg)}° at ${c.speed_kn} kn` : 'none known';
  body.innerHTML = `<div class="contact-panel" data-id="${esc(c.id)}">
    <h2>${esc(c.id)} · ${esc(c.status)}</h2>
    <p class="c-desc">${esc(c.description)}</p>
    <table class="kv">
      ${row('Position', `<span class="c-pos">${esc(formatPosition(c.lat, c.lon))}</span>`)}
      ${row('Within', c.uncertainty_nm != null ? `${c.uncertainty_nm.toFixed(1)} NM` : null)}
      ${row('Last seen', `${esc((c.time || '').slice(11, 19))}Z · ${esc(c.source)}`)}
      ${row('Drift', esc(drift))}
      ${row('Sightings', c.sightings_total ?? c.track?.length)}
      ${row('Reported by', esc(c.created_by))}
    </table>
    <h3>Incidents</h3>
    <ul class="c-incidents">${incidents.map((i) => `<li><button class="c-open-incident" data-id="${esc(i.id)}">${esc(i.id)}</button> ${esc(i.title)}</li>`).join('') || '<li class="muted">none open</li>'}</ul>
    <button class="c-new-incident">Open incident</button>
    <h3>Who can reach it first</h3><div class="intercepts muted">asking…</div></div>`;
  body.querySelector('.c-new-incident').onclick = () => onNewIncident(c);
  body.querySelectorAll('.c-open-incident').forEach((b) => {
    b.onclick = () => onOpenIncident(incidents.find((i) => i.id === b.dataset.id));
  });
  let data;
  try {
    data = await api(`/api/contacts/${encodeURIComponent(c.id)}/intercepts?k=8`);
  } catch (e) {
    const box = body.querySelector(`.contact-panel[data-id="${CSS.escape(c.id)}"] .intercepts`);
    if (box) box.textContent = e.message;
    return null;
  }
  const box = body.querySelector(`.contact-panel[data-id="${CSS.escape(c.id)}"] .intercepts`);
  if (!box) return data; // another panel meanwhile
  box.className = 'intercepts';
  box.innerHTML = `<table class="nearest"><thead><tr><th>Vessel</th><th>NM</th><th>Intercept</th><th>Steer</th></tr></thead><tbody>${data.vessels.map((r, k) => {
    const v = r.vessel;
    return `<tr data-i="${k}"><td>${esc(v.name || v.mmsi)}<br><span class="muted">${esc(v.class)} · ${v.sog ?? '–'} kn</span></td>
      <td class="num">${r.distance_nm.toFixed(1)}</td><td class="num ttr">${fmtMin(r.time_to_intercept_min)}</td><td class="num">${r.steer_deg == null ? '–' : `${Math.round(r.steer_deg)}°`}</td></tr>`;
  }).join('')}</tbody></table>`;
  box.querySelectorAll('tr[data-i]').forEach((tr) => {
    const v = data.vessels[+tr.dataset.i].vessel;
    tr.onclick = () => onSelect(v.mmsi, v.lat, v.lon);
  });
  return data;
}

/**
 * The "report a contact" form in the side panel, at a clicked position:
 * POST /api/contacts (operator role). `onDone(contact)` after it is saved.
 */
export function reportContactForm(lat, lon, { api, panel, body, onDone }) {
  panel.hidden = false;
  body.innerHTML = `<h2>Report a contact</h2>
    <form id="report-contact" class="report">
      <label>What <input id="rc-desc" required maxlength="2000" placeholder="rubber boat, ~60 persons"></label>
      <label>Latitude <input id="rc-lat" type="number" step="any" value="${lat.toFixed(5)}"></label>
      <label>Longitude <input id="rc-lon" type="number" step="any" value="${lon.toFixed(5)}"></label>
      <p class="muted">${esc(formatPosition(lat, lon))}</p>
      <label>Uncertainty (NM) <input id="rc-unc" type="number" step="any" min="0" value="1"></label>
      <label>Source <select id="rc-src"><option>phone</option><option>aircraft</option><option>vessel</option><option>other</option></select></label>
      <label>Drift course (°) <input id="rc-cog" type="number" step="any" min="0" max="359.9"></label>
      <label>Drift speed (kn) <input id="rc-sog" type="number" step="any" min="0"></label>
      <label>Note <input id="rc-note" maxlength="2000"></label>
      <button id="rc-submit" type="submit">Save contact</button> <span class="rc-msg muted"></span>
    </form>`;
  const form = body.querySelector('form');
  const num = (id) => {
    const v = body.querySelector(id).value.trim();
    return v === '' ? undefined : Number(v);
  };
  form.onsubmit = async (e) => {
    e.preventDefault();
    const msg = body.querySelector('.rc-msg');
    const req = {
      description: body.querySelector('#rc-desc').value,
      lat: num('#rc-lat'),
      lon: num('#rc-lon'),
      uncertainty_nm: num('#rc-unc'),
      source: body.querySelector('#rc-src').value,
      course_deg: num('#rc-cog'),
      speed_kn: num('#rc-sog'),
      note: body.querySelector('#rc-note').value.trim() || undefined,
    };
    msg.textContent = 'saving…';
    try {
      const c = await api('/api/contacts', { method: 'POST', body: req });
      msg.textContent = `saved as ${c.id}`;
      onDone(c);
    } catch (err) {
      msg.textContent = err.status === 401 || err.status === 403 ? 'reporting needs an operator token' : err.message;
      msg.className = 'rc-msg error';
    }
  };
  body.querySelector('#rc-desc').focus();
}
