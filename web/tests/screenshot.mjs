// Make docs/screenshot.png: the client on the demo scenario (central
// Mediterranean, zones, vessels, the AIS-SART alert). Run: node tests/screenshot.mjs
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { startServer, startBrowser, openClient, until, ROOT } from './harness.mjs';

const server = await startServer({ speed: '60', auth: false });
const b = await startBrowser();
try {
  const { context } = b;
  await context.setDefaultTimeout(30000);
  const { page } = await openClient(context, server.base, { token: '' });
  await page.setViewportSize({ width: 1120, height: 680 });
  await until(() => page.locator('#alert-list li.sev-critical').count(), { timeout: 90000, what: 'the distress alert' });
  await page.evaluate(() => window.lookout.map.setView([35.0, 13.3], 7));
  await until(() => page.getByRole('alert').isVisible(), { what: 'the critical banner' });
  await page.waitForTimeout(2500);
  const out = join(ROOT, 'docs/screenshot.png');
  await page.screenshot({ path: out });
  console.log(`${out}: ${(statSync(out).size / 1024).toFixed(0)} KiB`);
} finally {
  await b.close();
  await server.stop();
}
