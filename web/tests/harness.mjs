// Test harness: a simulated scenario recording, a `lookout serve --replay`
// on a free loopback port (auth on, one operator token), and Debian's
// chromium driven by playwright-core. Nothing is fetched from outside.

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
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
    '--listen', `127.0.0.1:${port}`, '--state-dir', join(dir, 'state')];
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
  // The client is the one compiled into the binary (`make build` builds
  // web/dist first), exactly as `lookout serve` serves it in production.
  const index = await fetch(`${backend}/`);
  if (index.status !== 200 || !(index.headers.get('content-type') || '').startsWith('text/html')) {
    throw new Error(`lookout serve does not serve the built-in web client at / (${index.status}): run make build`);
  }
  return {
    port,
    base: `http://127.0.0.1:${port}`,
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
      await halt();
      rmSync(dir, { recursive: true, force: true });
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
