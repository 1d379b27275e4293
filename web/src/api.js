// HTTP API and WebSocket feed (protocol v1, docs/protocol.md).

const params = new URLSearchParams(location.search);
let token = params.get('token') || sessionStorage.getItem('lookout.token') || '';

export const getToken = () => token;
export function setToken(t) {
  token = t.trim();
  if (token) sessionStorage.setItem('lookout.token', token);
  else sessionStorage.removeItem('lookout.token');
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** fetch JSON from the API with `Authorization: Bearer` when a token is set. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try {
    data = await r.json();
  } catch {
    /* not JSON */
  }
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || `${r.status} ${r.statusText}`);
  return data;
}

/**
 * One WebSocket to /ws that reconnects with exponential backoff (0.5 s to
 * 15 s, jittered) and, once open, calls `onOpen` so the caller subscribes
 * again (the server then sends a fresh snapshot).
 */
export class Feed {
  constructor({ onMessage, onOpen, onState }) {
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onState = onState;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.stopped = false;
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = token ? `?token=${encodeURIComponent(token)}` : '';
    return `${proto}//${location.host}/ws${q}`;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
    this.onState('connecting');
    let opened = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.onState('live');
      this.onOpen();
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.onMessage(msg);
    };
    ws.onerror = () => {};
    ws.onclose = async (ev) => {
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      // Refused before the upgrade: find out whether a token is the reason.
      if (!opened) {
        try {
          await api('/api/status');
        } catch (e) {
          if (e.status === 401 || e.status === 403) {
            this.onState('auth');
            return;
          }
        }
      }
      const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt++;
      this.onState('reconnecting', { delay, code: ev.code });
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }
}
