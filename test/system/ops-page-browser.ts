/// <reference lib="dom" />
// Drives the status page of a live joind in headless Debian chromium (playwright-core): checks that it
// shows the server's real numbers (compared with the control API's own answer), that it refreshes by
// itself when a new lease appears, and keeps a screenshot. Run inside the server's namespace by
// ops-page.test.sh: node ops-page-browser.js URL TOKEN SCREENSHOT EXPECTED_ADDRESS NEXT_STEP_FILE
import fs from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';

const [url, token, screenshot, address, stepFile] = process.argv.slice(2) as [string, string, string, string, string];

function getJson(path: string): Promise<{ networks: Array<Record<string, number | string>> }> {
  return new Promise((resolve, reject) => {
    http
      .get(new URL(path, url), { headers: { authorization: `Bearer ${token}` } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as { networks: Array<Record<string, number | string>> }));
      })
      .on('error', reject);
  });
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
  console.log(`ok: ${what}`);
}

async function main(): Promise<void> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
    timeout: 30_000,
  });
  try {
    // As a person would: the page opened once with ?token=, after which the browser holds a cookie.
    const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
    const page = await context.newPage();
    const refused = await page.goto(url, { timeout: 15_000 });
    check(refused?.status() === 401, `without the token the page is refused (${refused?.status()})`);
    await page.goto(`${url}?token=${encodeURIComponent(token)}`, { timeout: 15_000 });
    await page.waitForSelector('body[data-refreshed]', { timeout: 10_000 });
    const pools = await getJson('v1/pools');
    const net = pools.networks[0]!;
    const shown = await page.$eval(`[data-network="${net.network}"]`, (el) => ({ ...(el as HTMLElement).dataset }));
    for (const key of ['total', 'assigned', 'offered', 'abandoned', 'free']) {
      check(shown[key] === String(net[key]), `the page shows ${key} = ${shown[key]}, the API says ${net[key]}`);
    }
    const label = await page.$eval(`[data-network="${net.network}"] .label`, (el) => el.textContent ?? '');
    check(label.includes(`${net.assigned} used`) && label.includes(`of ${net.total}`), `the bar's label reads "${label}"`);
    const usedWidth = await page.$eval(`[data-network="${net.network}"] .used`, (el) => (el as HTMLElement).style.width);
    check(
      Math.abs(parseFloat(usedWidth) - (100 * Number(net.assigned)) / Number(net.total)) < 0.01,
      `the used part of the bar is ${usedWidth} wide`,
    );
    const rows = await page.$$eval('#leases tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.address));
    check(rows.includes(address), `the latest leases list ${address}`);

    // Live: the test gets another lease; the page must show it without being reloaded.
    fs.writeFileSync(stepFile, 'go\n');
    const before = Number(net.assigned);
    await page.waitForFunction(
      ([n, want]) => document.querySelector(`[data-network="${n}"]`)?.getAttribute('data-assigned') === want,
      [String(net.network), String(before + 1)] as const,
      { timeout: 45_000 },
    );
    check(true, `the page refreshed by itself to ${before + 1} used`);
    const received = await page.$eval('#chart polyline[data-series="received"]', (el) => ({
      points: (el.getAttribute('points') ?? '').trim().split(/\s+/).length,
      last: (el as SVGElement).dataset.last,
    }));
    const shownReceived = await page.$eval('#meta', (el) => (el as HTMLElement).dataset.received);
    check(
      received.points >= 2 && received.last === shownReceived && Number(shownReceived) >= 4,
      `the graph's received line has ${received.points} points and ends at ${received.last} packets`,
    );
    await page.screenshot({ path: screenshot, fullPage: true });
    check(fs.statSync(screenshot).size > 5000, `screenshot kept in ${screenshot}`);
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.log(`FAIL: ${err.message}`);
    process.exit(1);
  },
);
