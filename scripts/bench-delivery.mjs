// `npm run bench:delivery`: delivery when the whole browser is closed (Chromium), the
// library (deferred off/on) side by side with the plain-JS snippets measured in the same run.
// Each trial launches a browser, opens one page tracking one call, closes the browser, and
// counts the stand-in's end requests for that call (exactly one = delivered).
//
// Asserted (exit 1 otherwise): with deferred on, at least 10 of 20 (scaled to N) — the plain
// fetchLater snippet's figure was 13/20 on these machines, a plain pagehide snippet's 0/20.
//
// Usage: node scripts/bench-delivery.mjs [--n 20] [--delays 0,500]
// Writes bench-results/delivery.{json,md}. Expects a built dist/ (npm run bench:delivery builds).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStandin } from '../tests/support/standin.mjs';
import { startStaticServer } from '../tests/support/static-server.mjs';
import { launchChromium } from '../tests/support/chromium.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SETTLE_MS = 1500;

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
}
const N = Number(option('--n', '20'));
const DELAYS = option('--delays', '0').split(',').map(Number);
if (!Number.isInteger(N) || N < 1 || DELAYS.some((d) => !Number.isFinite(d) || d < 0)) {
  console.error('usage: node scripts/bench-delivery.mjs [--n 20] [--delays 0,500]');
  process.exit(2);
}

const SUBJECTS = [
  { name: 'library, deferred off', page: 'e2e', params: { deferred: '0' } },
  { name: 'library, deferred on', page: 'e2e', params: { deferred: '1' }, asserted: true },
  { name: 'plain pagehide + keepalive', page: 'snippet', params: { mode: 'pagehide' } },
  { name: 'plain fetchLater at load', page: 'snippet', params: { mode: 'fetchlater' } },
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function trial(standin, pages, subject) {
  const call = standin.state.mintCall();
  const query = new URLSearchParams(
    subject.page === 'e2e'
      ? { api: standin.url, calls: `${call.call_id}:${call.end_token}`, ...subject.params }
      : { api: standin.url, callId: call.call_id, endToken: call.end_token, ...subject.params },
  );
  const url = subject.page === 'e2e' ? `${pages.url}/e2e/page.html?${query}` : `${pages.url}/bench/snippet.html?${query}`;
  const browser = await launchChromium();
  const started = Date.now();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.ready === true);
  } finally {
    await browser.close();
  }
  await sleep(SETTLE_MS);
  const records = standin.state.records({ callId: call.call_id });
  return { count: records.length, latencyMs: records[0] ? records[0].receivedAt - started : null };
}

async function main() {
  const standin = await startStandin();
  const pages = await startStaticServer({
    host: 'localhost',
    mounts: { '/dist/': path.join(ROOT, 'dist'), '/e2e/': path.join(ROOT, 'tests/e2e'), '/bench/': path.join(ROOT, 'scripts/bench-page') },
  });
  const cells = [];
  try {
    for (const delay of DELAYS) {
      standin.state.configure({ preflightDelayMs: delay });
      for (const subject of SUBJECTS) {
        let delivered = 0;
        let duplicates = 0;
        for (let i = 0; i < N; i++) {
          const { count } = await trial(standin, pages, subject);
          if (count === 1) delivered += 1;
          if (count > 1) duplicates += 1;
          process.stderr.write(count === 1 ? '.' : count === 0 ? 'x' : 'D');
        }
        process.stderr.write(` ${subject.name}, preflight ${delay} ms\n`);
        cells.push({ scenario: 'browser close', engine: 'chromium', subject: subject.name, preflightDelayMs: delay, n: N, delivered, duplicates, asserted: Boolean(subject.asserted) && delay === 0 });
      }
    }
  } finally {
    await pages.close();
    await standin.close();
  }

  const rows = cells.map((c) => `| ${c.scenario} | ${c.engine} | ${c.subject} | ${c.preflightDelayMs} ms | ${c.delivered}/${c.n} | ${c.duplicates} |`);
  const markdown = [
    `# Delivery benchmark (${new Date().toISOString()})`,
    '',
    '| scenario | engine | sender | preflight delay | delivered | duplicates |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench-results', 'delivery.json'), JSON.stringify({ n: N, delays: DELAYS, cells }, null, 2));
  writeFileSync(path.join(ROOT, 'bench-results', 'delivery.md'), markdown);
  console.log(markdown);

  let failed = false;
  for (const cell of cells.filter((c) => c.asserted)) {
    const needed = Math.ceil((N * 10) / 20);
    if (cell.delivered < needed) {
      console.error(`FAIL: ${cell.subject}: ${cell.delivered}/${N} on browser close, needs at least ${needed}`);
      failed = true;
    }
  }
  if (cells.some((c) => c.duplicates > 0)) {
    console.error('FAIL: duplicate end requests');
    failed = true;
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
