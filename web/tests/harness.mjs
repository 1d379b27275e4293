// Test harness: a simulated scenario recording, a `lookout serve --replay`
// on a free loopback port (auth on, one operator token), and Debian's
// chromium driven by playwright-core. Nothing is fetched from outside.

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize } from 'node:path';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const WEB = join(ROOT, 'web');
export const ARTIFACTS = join(WEB, 'test-artifacts');
export const LOOKOUT = process.env.LOOKOUT_BIN || join(ROOT, 'target/release/lookout');
export const TOKEN = 'e2e-operator-token-7f3a';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** The demo scenario simulated for `duration`, cached in test-artifacts. */
export function recording(duration = '2h') {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `scenario-${duration}.nmea`);
  if (!existsSync(file)) execFileSync(LOOKOUT, ['simulate', '--duration', duration, '-o', file], { stdio: 'inherit' });
  return file;
}

/** Start `lookout serve --replay` and wait until it answers. */
export async function startServer({ speed = '60', auth = true, replay = recording() } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lookout-web-test-'));
  const hash = execFileSync(LOOKOUT, ['token', 'hash'], { input: `${TOKEN}\n` }).toString().trim();
  const config = join(dir, 'lookout.toml');
  writeFileSync(config, `listen = "127.0.0.1:${port}"
zones = [${JSON.stringify(join(ROOT, 'config/zones'))}]

[auth]
enabled = ${auth}
${auth ? `[[auth.tokens]]
name = "e2e duty officer"
role = "operator"
sha256 = "${hash}"
` : ''}`);
  const args = ['serve', '--config', config, '--replay', replay, '--speed', String(speed),
    '--listen', `127.0.0.1:${port}`, '--web-root', join(WEB, 'dist'), '--state-dir', join(dir, 'state')];
  const backend = `http://127.0.0.1:${port}`;
  let proc = null;
  let log = '';

  async function launch() {
    log = '';
    proc = spawn(LOOKOUT, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.on('data', (d) => (log += d));
    const deadline = Date.now() + 20000;
    for (;;) {
      if (proc.exitCode != null) throw new Error(`lookout serve exited: ${log}`);
      try {
        const r = await fetch(`${backend}/healthz`);
        if (r.ok) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`lookout serve did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function halt() {
    if (!proc || proc.exitCode != null) return;
    const p = proc;
    await new Promise((r) => {
      const t = setTimeout(() => {
        p.kill('SIGKILL');
        r();
      }, 5000);
      p.on('exit', () => {
        clearTimeout(t);
        r();
      });
      p.kill('SIGTERM');
    });
  }

  await launch();
  // `lookout serve` should serve web/dist at / itself (--web-root). Until it
  // does, put a small loopback front in between that serves the files and
  // passes /api, /ws, /healthz and /metrics through untouched.
  let front = null;
  if ((await fetch(`${backend}/index.html`)).status === 404) {
    front = await startFront(port);
    console.log(`# note: lookout serve does not serve --web-root yet; web/dist served by the test front on port ${front.port}`);
  }
  const pub = front ? front.port : port;
  return {
    port: pub,
    base: `http://127.0.0.1:${pub}`,
    log: () => log,
    /** Stop and start the server process on the same port. */
    async restart({ pause = 0 } = {}) {
      await halt();
      await new Promise((r) => setTimeout(r, pause));
      await launch();
    },
    halt,
    launch,
    async stop() {
      front?.close();
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json', '.png': 'image/png' };
const PASS = /^\/(api\/|ws|healthz|metrics)/;

/** Static files from web/dist, everything else proxied to the server. */
async function startFront(backendPort, port = 0) {
  const dist = join(WEB, 'dist');
  const srv = http.createServer(async (req, res) => {
    if (PASS.test(req.url)) {
      const up = http.request({ host: '127.0.0.1', port: backendPort, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
      return;
    }
    const path = new URL(req.url, 'http://x').pathname;
    const file = join(dist, normalize(path === '/' ? '/index.html' : path));
    try {
      if (!file.startsWith(dist)) throw new Error('outside');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const sockets = new Set();
  srv.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  srv.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    const up = connect(backendPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head?.length) up.write(head);
      up.pipe(socket).pipe(up);
    });
    sockets.add(up);
    const end = () => { socket.destroy(); up.destroy(); };
    up.on('error', end);
    socket.on('error', end);
    up.on('close', end);
    socket.on('close', end);
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  return {
    port: srv.address().port,
    close() {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

/** Chromium with a fresh profile folder. */
export async function startBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'lookout-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Open the client and record everything it does: every request and
 * WebSocket URL, console errors, page errors and WebSocket frames.
 */
export async function openClient(context, base, { token = TOKEN, query = '' } = {}) {
  const page = await context.newPage();
  const rec = { requests: [], errors: [], sent: [], received: [] };
  page.on('request', (r) => rec.requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && rec.errors.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => rec.errors.push(`pageerror: ${e.message}`));
  page.on('websocket', (ws) => {
    rec.requests.push(ws.url());
    ws.on('framesent', (f) => rec.sent.push(safeJson(f.payload)));
    ws.on('framereceived', (f) => rec.received.push(safeJson(f.payload)));
  });
  const q = new URLSearchParams(query);
  if (token) q.set('token', token);
  await page.goto(`${base}/?${q}`);
  return { page, rec };
}

function safeJson(p) {
  try {
    return JSON.parse(typeof p === 'string' ? p : p.toString());
  } catch {
    return { raw: String(p) };
  }
}

export const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

export async function until(fn, { timeout = 15000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
