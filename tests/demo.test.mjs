// The demo (npm start) works: start a call, reload mid-call, and the page reports that the
// call was ended when it was left, and how; hang up shows the typed response; errors are
// typed. It also regenerates www/screenshot.png (shown in the README): `npm run screenshot`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { launchChromium } from './support/chromium.mjs';

let demo, browser, pageUrl;

before(async () => {
  demo = spawn(process.execPath, ['scripts/demo-server.mjs', '--port', '0', '--api-port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  pageUrl = await new Promise((resolve, reject) => {
    let output = '';
    demo.stdout.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/demo:\s+(\S+)/);
      if (match) resolve(match[1]);
    });
    demo.on('exit', (code) => reject(new Error(`demo server exited with ${code}`)));
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  demo?.kill('SIGTERM');
});

test('demo: start, reload mid-call, see it ended; hang up; typed errors', async () => {
  const page = await browser.newPage();
  await page.goto(pageUrl);
  await page.waitForFunction(() => !document.getElementById('start').disabled);
  await page.click('#start');
  await page.waitForSelector('#calls .id');
  const callId = await page.textContent('#calls .id');

  await page.reload();
  await page.waitForFunction(
    (id) => document.getElementById('timeline').textContent.includes(`Call ${id} from your last visit was ended`),
    callId,
    { timeout: 10000 },
  );
  const timeline = await page.textContent('#timeline');
  assert.match(timeline, new RegExp(`Call ${callId} from your last visit was ended when you left the page via (deferred|pagehide|beforeunload)`));

  await page.click('#start');
  await page.waitForSelector('#calls li button');
  await page.click('#calls li button'); // Hang up
  await page.waitForFunction(() => /Hung up call_\w+ \(manual endCall\): status "ended"/.test(document.getElementById('timeline').textContent));
  assert.equal(await page.locator('#calls .id').count(), 0);

  await page.click('#bad-id');
  await page.waitForFunction(() => document.getElementById('timeline').textContent.includes('kind "validation" (HTTP 422)'));
  await page.click('#wrong-token');
  await page.waitForFunction(() => document.getElementById('timeline').textContent.includes('kind "http" (HTTP 401)'));
  const rows = await page.locator('#records tr').count();
  assert.ok(rows >= 3, `the API's record lists the ends (${rows} rows)`);
  await page.close();
});

test('demo: screenshot for the README (www/screenshot.png)', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(pageUrl);
  await page.waitForFunction(() => !document.getElementById('start').disabled);
  await page.click('#start');
  await page.waitForSelector('#calls .id');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('timeline').textContent.includes('last visit'));
  await page.click('#start');
  await page.click('#start');
  await page.waitForFunction(() => document.querySelectorAll('#calls .id').length === 2);
  await page.click('#bad-id');
  await page.waitForFunction(() => document.getElementById('timeline').textContent.includes('(HTTP 422)'));
  await Promise.all([page.waitForResponse(/__standin\/records/), page.click('#refresh')]);
  await page.screenshot({ path: 'www/screenshot.png', fullPage: true });
  await page.close();
});
