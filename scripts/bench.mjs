// `npm run bench`: sizes of the shipped files and timings/delivery in headless Chromium.
//
//   1. sizes: every shipped wasm/JS file as built (raw, gzip -9, brotli q11), wasm + glue
//      (brotli) against the 16 KB budget, and everything a page loads; then the ledger: what
//      each Rust module, the wasm-bindgen runtime, the bindings, core/alloc, the allocator,
//      the data, the imports and each JS file cost of that total (scripts/lib/ledger.mjs).
//   2. browser timings (scripts/bench-page/, cross-origin isolated for a ~5 µs timer):
//      import + init() on a fresh page, interleaved with a minimal wasm-bindgen module
//      (scripts/bench-minimal/, built here by the package's own wasm steps into target/), the
//      pagehide handler (keepalive and deferred/fetchLater), and a manual endCall round trip
//      against a plain keepalive fetch, interleaved.
//   3. delivery when a whole browser context is closed, cross-origin and through the
//      same-origin /voice-proxy, preflight delay 0/500 ms, deferred off/on.
//
// Everything is reported as medians (p90, ratios); nothing is asserted: this machine is
// shared and noisy. Prints the report to stdout (progress to stderr) and writes
// bench-results/bench.json and bench-results/bench.md.
//
// Usage: node scripts/bench.mjs [--quick] [--sizes-only] [--readme] [--n-init N] [--rounds M] [--k K]
//                               [--n-ctx N] [--concurrency C]
// --sizes-only: section 1 alone (a few seconds, no browser). --readme: also write the ledger
// into the README's Size section (between its size-ledger markers).
// (expects a built dist/ and target/voice_end_call_bg.named.wasm; scripts/bench.sh builds first).
import { readFile, readdir, writeFile, mkdir, mkdtemp, cp, rm } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { startStandin } from '../tests/support/standin.mjs';
import { startStaticServer } from '../tests/support/static-server.mjs';
import { launchChromium, CHROMIUM_PATH } from '../tests/support/chromium.mjs';
import { pool } from './lib/pool.mjs';
import { brotliSize, ledger } from './lib/ledger.mjs';
import { writeGeneratedBlock } from './lib/readme.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST_SOURCE = path.join(ROOT, 'dist');
// The shipped wasm with its function names (scripts/wasm-pipeline.sh), for the ledger.
const NAMED_WASM_SOURCE = path.join(ROOT, 'target', 'voice_end_call_bg.named.wasm');
// The glue before the build bundles it into dist/index.js, for the wasm + glue figure.
const GLUE_SOURCE = path.join(ROOT, 'target', 'glue', 'voice_end_call.js');
// The minimal wasm-bindgen module init() is compared with, as the bench builds it.
const MINIMAL_DIR = path.join(ROOT, 'target', 'bench-minimal', 'pkg');
// A private copy of dist/ taken at start, so every section measures the same build even if
// dist/ is rebuilt while the bench runs (build.sh replaces it wholesale).
let DIST = DIST_SOURCE;
const OUT_DIR = path.join(ROOT, 'bench-results');
const BUDGET_BYTES = 16 * 1024;
const GOAL_BYTES = 12 * 1024;
// The size issue's target for everything a page loads (wasm + all JS, each file brotli'd).
const EVERYTHING_TARGET_BYTES = 22 * 1024;
const SETTLE_MS = 1500; // after a context close, before counting end records
const PREFLIGHT_DELAYS = [0, 500];

// ---- options -------------------------------------------------------------------------

const USAGE =
  'usage: node scripts/bench.mjs [--quick] [--sizes-only] [--readme] [--n-init N] [--rounds M] [--k K] [--n-ctx N] [--concurrency C]';

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      'sizes-only': { type: 'boolean', default: false },
      readme: { type: 'boolean', default: false },
      'n-init': { type: 'string' },
      rounds: { type: 'string' },
      k: { type: 'string' },
      'n-ctx': { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const defaults = values.quick
    ? { nInit: 3, rounds: 5, k: 5, nCtx: 3, concurrency: 4 }
    : { nInit: 15, rounds: 30, k: 30, nCtx: 20, concurrency: 4 };
  const int = (flag, fallback) => {
    const raw = values[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer (got "${raw}")`);
    return n;
  };
  return {
    quick: values.quick,
    sizesOnly: values['sizes-only'],
    readme: values.readme,
    nInit: int('n-init', defaults.nInit),
    rounds: int('rounds', defaults.rounds),
    k: int('k', defaults.k),
    nCtx: int('n-ctx', defaults.nCtx),
    concurrency: int('concurrency', defaults.concurrency),
  };
}

// ---- small helpers -------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const progress = (...args) => console.error('bench:', ...args);

/** Nearest-rank percentile of a numeric sample (q in 0..1); median averages the middle two. */
function summarize(values) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return { n: 0, median: null, p90: null, min: null, max: null };
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  const p90 = xs[Math.min(xs.length - 1, Math.ceil(0.9 * xs.length) - 1)];
  return { n: xs.length, median, p90, min: xs[0], max: xs[xs.length - 1] };
}

const fmt = (v, digits = 1) => (v === null || v === undefined ? 'n/a' : Number(v).toFixed(digits));
const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;

function table(headers, rows, align = []) {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) =>
    row.map((cell, i) => (align[i] === 'l' ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function mdTable(headers, rows) {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}


// ---- cleanup: every server and browser goes, whatever happens -----------------------

const cleanups = [];
let cleaning = null;
function cleanup() {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const { name, fn } = cleanups.pop();
      let timer;
      try {
        const timeout = new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out after 10 s')), 10_000);
        });
        await Promise.race([fn(), timeout]);
      } catch (error) {
        progress(`cleanup of ${name} failed: ${error?.message ?? error}`);
      } finally {
        clearTimeout(timer);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    progress(`${signal}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---- 1. sizes ------------------------------------------------------------------------

function compressed(buffer) {
  return { raw: buffer.length, gzip: gzipSync(buffer, { level: 9 }).length, brotli: brotliSize(buffer) };
}

// The ledger's names for the JS a page loads.
const JS_LABELS = {
  'index.js': 'index.js (entry, wasm-bindgen glue and snippets, bundled)',
};

async function measureSizes() {
  const files = {};
  // Every file a page loads: the wasm, and the entry with the glue and the JS the Rust side
  // imports bundled into it (scripts/build.sh).
  const js = {};
  for (const name of ['voice_end_call_bg.wasm', 'index.js']) {
    const bytes = await readFile(path.join(DIST, name));
    files[`dist/${name}`] = compressed(bytes);
    if (name.endsWith('.js')) js[JS_LABELS[name]] = bytes;
  }
  const everything = Object.values(files).reduce((sum, f) => sum + f.brotli, 0);
  const wasm = await readFile(path.join(DIST, 'voice_end_call_bg.wasm'));
  const wasmSha256 = createHash('sha256').update(wasm).digest('hex').slice(0, 16);
  const wasmBrotli = files['dist/voice_end_call_bg.wasm'].brotli;
  // The glue as the pipeline leaves it, minified, before it is bundled (scripts/build.sh).
  const glue = compressed(await readFile(path.join(DIST, '..', 'voice_end_call.js')));
  const total = wasmBrotli + glue.brotli;
  let parts;
  try {
    const named = await readFile(path.join(DIST, '..', 'voice_end_call_bg.named.wasm'));
    parts = ledger({ wasm, named, crate: 'voice_end_call', js });
    if (parts.total !== everything) throw new Error(`the ledger sums to ${parts.total} B, not ${everything} B`);
  } catch (error) {
    parts = { error: String(error?.message ?? error) };
  }
  return {
    wasmSha256,
    files,
    // Each file compressed on its own, as a server sends them.
    everythingBrotli: everything,
    ledger: parts,
    total: {
      label: 'wasm + glue, brotli',
      bytes: total,
      budget: BUDGET_BYTES,
      goal: GOAL_BYTES,
      withinBudget: total <= BUDGET_BYTES,
      withinGoal: total <= GOAL_BYTES,
      overBudgetBy: Math.max(0, total - BUDGET_BYTES),
      overGoalBy: Math.max(0, total - GOAL_BYTES),
    },
  };
}

// ---- 2. browser timings --------------------------------------------------------------

async function openBenchPage(ctx, url) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error?.message ?? error)));
  await page.goto(url);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 10_000 }).catch((error) => {
    throw new Error(`bench page never got ready (${errors.join('; ') || error.message})`);
  });
  return page;
}

async function waitForRecords(standin, callId, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (standin.state.records({ callId }).length < count && Date.now() < deadline) await sleep(5);
  return standin.state.records({ callId }).length;
}

/** Builds the minimal module (scripts/bench-minimal/) with the package's own wasm steps into
 *  target/bench-minimal/pkg/, with its entry; returns its sizes. */
async function buildMinimal() {
  execFileSync('bash', ['scripts/wasm-pipeline.sh', 'scripts/bench-minimal/Cargo.toml', 'bench_minimal', 'target/bench-minimal', MINIMAL_DIR], {
    cwd: ROOT,
    stdio: ['ignore', 2, 2],
  });
  await cp(path.join(ROOT, 'scripts/bench-minimal/index.js'), path.join(MINIMAL_DIR, 'index.js'));
  const sizes = {};
  for (const name of ['bench_minimal_bg.wasm', 'bench_minimal.js', 'index.js']) {
    sizes[name] = compressed(await readFile(path.join(MINIMAL_DIR, name)));
  }
  return { files: sizes, brotli: Object.values(sizes).reduce((sum, f) => sum + f.brotli, 0) };
}

/** Import + init() of the package and of the minimal module, each on a fresh page, n times
 *  each, interleaved (alternating which goes first) in one browser context. */
async function measureInit(browser, baseUrl, n, minimal) {
  const ctx = await browser.newContext();
  try {
    const samples = { package: [], minimal: [] };
    const firstLoad = {};
    // Round -1 warms the browser up (its first pages are slow whatever they load): reported as
    // "first load", not counted.
    for (let i = -1; i < n; i++) {
      for (const module of i % 2 === 0 ? ['package', 'minimal'] : ['minimal', 'package']) {
        const page = await openBenchPage(ctx, `${baseUrl}/bench/init.html?module=${module}`);
        const ms = await page.evaluate(() => window.initMs);
        if (i < 0) firstLoad[module] = ms;
        else samples[module].push(ms);
        if (i < 0 && module === 'minimal') {
          // The minimal module does what it says: arm() registers its pagehide send.
          await page.evaluate(() => window.lib.arm(`${location.origin}/nowhere`));
        }
        await page.close();
      }
    }
    const pkg = { samples: samples.package, firstLoadMs: firstLoad.package, ...summarize(samples.package) };
    const min = { samples: samples.minimal, firstLoadMs: firstLoad.minimal, ...summarize(samples.minimal) };
    return {
      unit: 'ms',
      n,
      package: pkg,
      minimal: { ...min, brotli: minimal.brotli },
      ratioOfMedians: pkg.median && min.median ? pkg.median / min.median : null,
    };
  } finally {
    await ctx.close();
  }
}

async function measurePagehide(browser, benchUrl, standin, rounds) {
  const ctx = await browser.newContext();
  try {
    const page = await openBenchPage(ctx, benchUrl);
    const env = await page.evaluate(() => ({
      crossOriginIsolated: window.crossOriginIsolated,
      fetchLater: typeof window.fetchLater === 'function',
      timerResolutionUs: window.bench.timerResolutionUs(),
    }));

    // Baseline: no call tracked, so no listener is installed; this is dispatchEvent itself.
    await page.evaluate((base) => window.lib.configure({ baseUrl: base, deferred: false }), standin.url);
    const baseline = [];
    for (let i = 0; i < rounds; i++) baseline.push((await page.evaluate(() => window.bench.timePagehide(null))).us);

    // Keepalive: the handler issues the fetch itself. One warm-up round, not counted.
    const keepalive = { samples: [], sent: 0, leftTracked: 0 };
    for (let i = 0; i <= rounds; i++) {
      const call = standin.state.mintCall();
      const r = await page.evaluate((c) => window.bench.timePagehide(c), call);
      const arrived = await waitForRecords(standin, call.call_id, 1, 3000);
      if (i === 0) continue;
      keepalive.samples.push(r.us);
      if (arrived >= 1) keepalive.sent++;
      if (r.trackedAfter !== 0) keepalive.leftTracked++;
    }

    // Deferred: fetchLater armed at trackCall; on pagehide (unload) the handler only forgets
    // the call and leaves sending to the browser, which does it when the document goes.
    await page.evaluate(() => window.lib.configure({ deferred: true }));
    const deferred = { samples: [], sentByHandler: 0, leftTracked: 0, calls: [] };
    for (let i = 0; i <= rounds; i++) {
      const call = standin.state.mintCall();
      const r = await page.evaluate((c) => window.bench.timePagehide(c), call);
      if (i === 0) continue;
      deferred.calls.push(call.call_id);
      deferred.samples.push(r.us);
      if (r.trackedAfter !== 0) deferred.leftTracked++;
    }
    await sleep(300);
    const countArrived = () => deferred.calls.filter((id) => standin.state.records({ callId: id }).length > 0).length;
    deferred.sentByHandler = countArrived();
    // Closing the page destroys the document: the browser now sends the held requests.
    await page.close();
    const deadline = Date.now() + 3000;
    while (countArrived() < deferred.calls.length && Date.now() < deadline) await sleep(25);
    deferred.arrivedAfterClose = countArrived();
    delete deferred.calls;

    return {
      unit: 'µs',
      env,
      rounds,
      baseline: { samples: baseline, ...summarize(baseline) },
      keepalive: { ...keepalive, ...summarize(keepalive.samples) },
      deferred: { ...deferred, ...summarize(deferred.samples) },
    };
  } finally {
    await ctx.close();
  }
}

async function measureEndCall(browser, benchUrl, standin, k) {
  const ctx = await browser.newContext();
  try {
    const page = await openBenchPage(ctx, benchUrl);
    await page.evaluate((base) => window.lib.configure({ baseUrl: base, deferred: false }), standin.url);
    const endCall = { samples: [], failures: 0 };
    const plain = { samples: [], failures: 0 };
    const run = async (which, keep) => {
      const call = standin.state.mintCall();
      const fn = which === 'endCall' ? 'timeEndCall' : 'timePlainFetch';
      const r = await page.evaluate(
        ({ fn, base, call }) => window.bench[fn](base, call).catch((error) => ({ ms: NaN, ok: false, error: String(error) })),
        { fn, base: standin.url, call },
      );
      if (!keep) return;
      const target = which === 'endCall' ? endCall : plain;
      if (r.ok) target.samples.push(r.ms);
      else target.failures++;
    };
    // One warm-up of each, then K pairs, alternating which goes first.
    await run('endCall', false);
    await run('plain', false);
    for (let i = 0; i < k; i++) {
      const order = i % 2 === 0 ? ['endCall', 'plain'] : ['plain', 'endCall'];
      for (const which of order) await run(which, true);
    }
    const e = summarize(endCall.samples);
    const p = summarize(plain.samples);
    return {
      unit: 'ms',
      k,
      endCall: { ...endCall, ...e },
      plainFetch: { ...plain, ...p },
      ratioOfMedians: e.median && p.median ? e.median / p.median : null,
    };
  } finally {
    await ctx.close();
  }
}

// ---- 3. delivery on context close ----------------------------------------------------

/** The browser part of one trial (new context, page ready, context.close()). Returns at
 *  once after the close with `settled`, a promise of the counts SETTLE_MS later, so the
 *  waiting does not hold one of the `concurrency` browser slots. */
async function deliveryTrial(browser, standin, e2eUrl, cell) {
  const call = standin.state.mintCall();
  const query = new URLSearchParams({
    api: cell.origin === 'cross' ? standin.url : '/voice-proxy',
    calls: `${call.call_id}:${call.end_token}`,
    deferred: cell.deferred ? '1' : '0',
  });
  let error = null;
  const seen = []; // page errors and failed requests, to explain a page that never got ready
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => seen.push(`pageerror: ${e?.message ?? e}`));
    page.on('requestfailed', (req) => seen.push(`${req.url().replace(/\?.*/, '')} failed: ${req.failure()?.errorText}`));
    await page.goto(`${e2eUrl}/e2e/page.html?${query}`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 10_000 });
  } catch (e) {
    error = [String(e?.message ?? e).split('\n')[0], ...seen].join('; ');
  }
  await ctx.close().catch(() => {});
  const settled = sleep(SETTLE_MS).then(() => ({
    callId: call.call_id,
    error,
    ends: standin.state.records({ callId: call.call_id }).length,
    preflights: standin.state.preflights({ callId: call.call_id }).length,
  }));
  return { settled };
}

async function measureDelivery(browser, standin, e2eUrl, nCtx, concurrency) {
  const cells = [];
  for (const preflightDelayMs of PREFLIGHT_DELAYS) {
    standin.state.configure({ preflightDelayMs });
    for (const origin of ['cross', 'same']) {
      for (const deferred of [false, true]) {
        const cell = { origin, preflightDelayMs, deferred };
        progress(`delivery: ${origin}-origin, preflight ${preflightDelayMs} ms, deferred ${deferred ? 'on' : 'off'} (x${nCtx})`);
        const started = await pool(nCtx, concurrency, () => deliveryTrial(browser, standin, e2eUrl, cell));
        const trials = await Promise.all(started.map((t) => t.settled));
        const valid = trials.filter((t) => !t.error);
        // Anything that turned up after the per-trial settle time.
        const late = valid.filter((t) => standin.state.records({ callId: t.callId }).length !== t.ends).length;
        cells.push({
          ...cell,
          n: valid.length,
          errors: trials.length - valid.length,
          errorSamples: [...new Set(trials.filter((t) => t.error).map((t) => t.error))].slice(0, 3),
          delivered: valid.filter((t) => t.ends === 1).length,
          lost: valid.filter((t) => t.ends === 0).length,
          duplicates: valid.filter((t) => t.ends > 1).length,
          lostAfterPreflight: valid.filter((t) => t.ends === 0 && t.preflights > 0).length,
          preflights: valid.reduce((sum, t) => sum + t.preflights, 0),
          lateAfterSettle: late,
        });
      }
    }
  }
  standin.state.configure({ preflightDelayMs: 0 });
  return { settleMs: SETTLE_MS, concurrency, cells };
}

// ---- report --------------------------------------------------------------------------

function sizeRows(sizes) {
  return Object.entries(sizes.files).map(([name, s]) => [name, s.raw, s.gzip, s.brotli]);
}

const LEDGER_HEADERS = ['part', 'raw B', 'functions', 'brotli B', 'share', 'leave-one-out B'];

function ledgerRows(l) {
  return l.rows.map((r) => [
    r.part,
    r.raw,
    r.functions ?? '-',
    r.brotli,
    `${((100 * r.brotli) / l.total).toFixed(1)}%`,
    r.leaveOneOut ?? '(exact)',
  ]);
}

function ledgerNotes(l) {
  return [
    `Sums to ${l.total} B (everything a page loads). wasm rows: the module's ${l.wasmBrotli} B split by each group's bytes compressed alone;`,
    `leave-one-out: by how much smaller the module compresses without the group (the same total split that way). The two`,
    `estimates differ by ${l.movedBetweenEstimates} B in all (${((100 * l.movedBetweenEstimates) / l.wasmBrotli).toFixed(1)}% of the wasm): read wasm rows to about that. JS rows are exact. Method: docs/size.md.`,
  ];
}

const README_LEDGER_START = '<!-- size-ledger:start (generated by npm run bench -- --sizes-only --readme) -->';
const README_LEDGER_END = '<!-- size-ledger:end -->';

/** The README's Size block: the ledger, short. */
function readmeLedger(r) {
  const l = r.sizes.ledger;
  const wasmKb = (r.sizes.files['dist/voice_end_call_bg.wasm'].brotli / 1024).toFixed(1);
  return [
    `Measured ${r.meta.date.slice(0, 10)} (commit \`${r.meta.commit}\`): everything a page loads to \`init()\` and track a call is **${l.total} B** brotli (${kb(l.total)}; the target is 22 KB), of which the wasm is ${wasmKb} KB. Brotli q11, each file on its own, as a server sends it.`,
    '',
    mdTable(
      ['part', 'brotli B', 'share'],
      l.rows.map((row) => [row.part.startsWith('JS: ') ? row.part : `wasm: ${row.part}`, row.brotli, `${((100 * row.brotli) / l.total).toFixed(1)}%`]),
    ),
    '',
    `JS rows are exact; the wasm rows split the module's ${l.wasmBrotli} B by each part's bytes compressed alone, good to about ${l.movedBetweenEstimates} B in all (how: [docs/size.md](docs/size.md#the-ledger)).`,
  ].join('\n');
}

function everythingVerdict(bytes) {
  const over = bytes - EVERYTHING_TARGET_BYTES;
  return over > 0 ? `OVER by ${over} B` : `within (${-over} B spare)`;
}

function totalLine(total) {
  const verdict = (limit, over) => (over > 0 ? `OVER by ${over} B` : `within (${limit - total.bytes} B spare)`);
  return [
    `${total.label}: ${total.bytes} B (${kb(total.bytes)})`,
    `  budget ${total.budget} B (16 KB): ${verdict(total.budget, total.overBudgetBy)}`,
    `  goal   ${total.goal} B (12 KB): ${verdict(total.goal, total.overGoalBy)}`,
  ];
}

function cellLabel(c) {
  return [c.origin === 'cross' ? 'cross-origin (127.0.0.1)' : 'same-origin /voice-proxy', `${c.preflightDelayMs} ms`, c.deferred ? 'on' : 'off'];
}

function cellRow(c) {
  const note = [];
  if (c.errors) note.push(`${c.errors} setup errors`);
  if (c.lostAfterPreflight) note.push(`${c.lostAfterPreflight} lost after preflight`);
  if (c.lateAfterSettle) note.push(`${c.lateAfterSettle} late`);
  return [...cellLabel(c), `${c.delivered}/${c.n}`, c.lost, c.duplicates, c.preflights, note.join(', ') || '-'];
}

/** Trials whose page never got ready are left out of a cell's N; say why. */
function setupErrorLines(cells) {
  return cells
    .filter((c) => c.errors)
    .flatMap((c) => [`setup errors in ${cellLabel(c).join(', ')}:`, ...c.errorSamples.map((e) => `  ${e}`)]);
}

const DELIVERY_HEADERS = ['baseUrl', 'preflight delay', 'deferred', 'delivered', 'lost', 'duplicates', 'preflights', 'notes'];

const runKind = (r) => (r.params.sizesOnly ? 'sizes-only' : r.meta.quick ? 'quick' : 'full');

function renderText(r) {
  const out = [];
  const h = (title) => out.push('', title, '='.repeat(title.length));
  out.push(`voice-end-call bench  ${r.meta.date}  (${runKind(r)} run)`);
  out.push(
    `commit ${r.meta.commit}  node ${r.meta.node}  ${r.meta.chromium}  ${r.meta.cpus} cpus  load ${r.meta.loadavgStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  if (!r.params.sizesOnly) out.push(`N init=${r.params.nInit}  rounds=${r.params.rounds}  K=${r.params.k}  N_ctx=${r.params.nCtx}  concurrency=${r.params.concurrency}`);
  out.push('Medians and ratios on a shared, noisy machine: compare runs, do not read single figures as truths.');

  h('1. Sizes (bytes)');
  if (r.sizes.error) out.push(`FAILED: ${r.sizes.error}`);
  else {
    out.push(`(wasm sha256 ${r.sizes.wasmSha256}…)`);
    out.push(table(['file', 'raw', 'gzip -9', 'brotli q11'], sizeRows(r.sizes), ['l']));
    out.push('', ...totalLine(r.sizes.total));
    out.push(`everything a page loads (wasm + all JS), brotli: ${r.sizes.everythingBrotli} B (${kb(r.sizes.everythingBrotli)})`);
    out.push(`  target ${EVERYTHING_TARGET_BYTES} B (22 KB): ${everythingVerdict(r.sizes.everythingBrotli)}`);
    const l = r.sizes.ledger;
    out.push('', 'Ledger: what each part costs of everything a page loads (brotli q11)');
    if (l.error) out.push(`unavailable: ${l.error}`);
    else out.push(table(LEDGER_HEADERS, ledgerRows(l), ['l']), ...ledgerNotes(l));
  }
  if (r.params.sizesOnly) {
    out.push('', `--sizes-only: no browser sections; total time ${fmt(r.meta.seconds, 1)} s`);
    return out.join('\n');
  }

  h('2. Browser timings (headless Chromium)');
  const b = r.browser;
  if (b.error) out.push(`FAILED: ${b.error}`);
  if (b.init) {
    const i = b.init;
    out.push(
      `(a) import + await init(), fresh page each, N=${i.n} each (+1 warm-up each, the first load), interleaved with a minimal wasm-bindgen module (pagehide listener + one keepalive fetch, ${i.minimal.brotli} B brotli, same build steps, loaded the same way):`,
      table(
        ['module', 'median ms', 'p90 ms', 'min ms', 'max ms', 'first load ms'],
        [
          ['voice-end-call', fmt(i.package.median, 2), fmt(i.package.p90, 2), fmt(i.package.min, 2), fmt(i.package.max, 2), fmt(i.package.firstLoadMs, 2)],
          ['minimal module', fmt(i.minimal.median, 2), fmt(i.minimal.p90, 2), fmt(i.minimal.min, 2), fmt(i.minimal.max, 2), fmt(i.minimal.firstLoadMs, 2)],
        ],
        ['l'],
      ),
      `    ratio of medians voice-end-call/minimal: ${fmt(i.ratioOfMedians, 2)}`,
    );
  }
  if (b.pagehide) {
    const p = b.pagehide;
    out.push(
      `(b) pagehide handler, 1 call tracked (M=${p.rounds}, +1 warm-up round not counted); crossOriginIsolated=${p.env.crossOriginIsolated}, timer step ~${fmt(p.env.timerResolutionUs, 1)} µs, fetchLater=${p.env.fetchLater}`,
    );
    out.push(
      table(
        ['mode', 'median µs', 'p90 µs', 'min µs', 'max µs', 'check'],
        [
          ['no call tracked (dispatch only)', fmt(p.baseline.median), fmt(p.baseline.p90), fmt(p.baseline.min), fmt(p.baseline.max), '-'],
          ['keepalive (deferred: false)', fmt(p.keepalive.median), fmt(p.keepalive.p90), fmt(p.keepalive.min), fmt(p.keepalive.max), `sent ${p.keepalive.sent}/${p.keepalive.n}`],
          ['fetchLater (deferred: true)', fmt(p.deferred.median), fmt(p.deferred.p90), fmt(p.deferred.min), fmt(p.deferred.max), `sent by handler ${p.deferred.sentByHandler}/${p.deferred.n}; by browser on page close ${p.deferred.arrivedAfterClose}/${p.deferred.n}`],
        ],
        ['l'],
      ),
    );
  }
  if (b.endCall) {
    const e = b.endCall;
    out.push(
      `(c) round trip, cross-origin (preflighted), fresh call each, interleaved, K=${e.k} each (+1 warm-up each):`,
      table(
        ['request', 'median ms', 'p90 ms', 'min ms', 'max ms', 'failures'],
        [
          ['endCall(id, {endToken})', fmt(e.endCall.median, 2), fmt(e.endCall.p90, 2), fmt(e.endCall.min, 2), fmt(e.endCall.max, 2), e.endCall.failures],
          ['plain keepalive fetch + text()', fmt(e.plainFetch.median, 2), fmt(e.plainFetch.p90, 2), fmt(e.plainFetch.min, 2), fmt(e.plainFetch.max, 2), e.plainFetch.failures],
        ],
        ['l'],
      ),
      `    ratio of medians endCall/plain: ${fmt(e.ratioOfMedians, 2)}`,
    );
  }

  h('3. Delivery on browser-context close (Chromium; reported, not asserted)');
  const d = r.delivery;
  if (d.error) out.push(`FAILED: ${d.error}`);
  if (d.cells) {
    out.push(
      `N_ctx=${r.params.nCtx} per cell, up to ${d.concurrency} contexts open at a time; records counted ${d.settleMs} ms after each context.close(). delivered = exactly one end request.`,
    );
    out.push(table(DELIVERY_HEADERS, d.cells.map(cellRow), ['l', 'r', 'l']));
    out.push(...setupErrorLines(d.cells));
  }
  out.push('', `total time ${fmt(r.meta.seconds, 1)} s; results in bench-results/bench.json and bench-results/bench.md`);
  return out.join('\n');
}

function renderMarkdown(r) {
  const out = [];
  out.push(`# voice-end-call bench`, '');
  out.push(`${r.meta.date}, ${runKind(r)} run, commit \`${r.meta.commit}\`, node ${r.meta.node}, ${r.meta.chromium}, ${r.meta.cpus} CPUs, load ${r.meta.loadavgStart.map((x) => x.toFixed(2)).join(' ')}.`);
  if (!r.params.sizesOnly) out.push(`Parameters: N init ${r.params.nInit}, rounds ${r.params.rounds}, K ${r.params.k}, N_ctx ${r.params.nCtx}, concurrency ${r.params.concurrency}. Total ${fmt(r.meta.seconds, 1)} s.`);
  out.push('', '_Medians and ratios on a shared, noisy machine; nothing here is asserted._', '');
  out.push('## 1. Sizes (bytes)', '');
  if (r.sizes.error) out.push(`FAILED: ${r.sizes.error}`);
  else {
    out.push(`wasm sha256 \`${r.sizes.wasmSha256}…\``, '');
    out.push(mdTable(['file', 'raw', 'gzip -9', 'brotli q11'], sizeRows(r.sizes).map(([f, ...n]) => [f.replace(/^(\S+)/, '`$1`'), ...n])));
    out.push('', ...totalLine(r.sizes.total).map((l) => `- ${l.trim()}`));
    out.push(`- everything a page loads (wasm + all JS), brotli: ${r.sizes.everythingBrotli} B (${kb(r.sizes.everythingBrotli)})`);
    out.push(`- target ${EVERYTHING_TARGET_BYTES} B (22 KB): ${everythingVerdict(r.sizes.everythingBrotli)}`);
    const l = r.sizes.ledger;
    out.push('', '### Ledger: what each part costs of everything a page loads (brotli q11)', '');
    if (l.error) out.push(`Unavailable: ${l.error}`);
    else out.push(mdTable(LEDGER_HEADERS, ledgerRows(l)), '', ledgerNotes(l).join(' '));
  }
  if (r.params.sizesOnly) return `${out.join('\n')}\n`;
  out.push('', '## 2. Browser timings (headless Chromium)', '');
  const b = r.browser;
  if (b.error) out.push(`FAILED: ${b.error}`, '');
  if (b.init) {
    const i = b.init;
    out.push(`**(a) import + \`await init()\`**, fresh page each, N=${i.n} each (+1 warm-up each, the first load), interleaved with a minimal wasm-bindgen module (pagehide listener + one keepalive fetch, ${i.minimal.brotli} B brotli, same build steps, loaded the same way):`, '');
    out.push(
      mdTable(
        ['module', 'median ms', 'p90 ms', 'first load ms'],
        [
          ['voice-end-call', fmt(i.package.median, 2), fmt(i.package.p90, 2), fmt(i.package.firstLoadMs, 2)],
          ['minimal module', fmt(i.minimal.median, 2), fmt(i.minimal.p90, 2), fmt(i.minimal.firstLoadMs, 2)],
        ],
      ),
      '',
      `Ratio of medians voice-end-call/minimal: **${fmt(i.ratioOfMedians, 2)}**.`,
      '',
    );
  }
  if (b.pagehide) {
    const p = b.pagehide;
    out.push(`**(b) pagehide handler**, one call tracked, M=${p.rounds} (+1 warm-up). Page cross-origin isolated: ${p.env.crossOriginIsolated}, timer step ~${fmt(p.env.timerResolutionUs, 1)} µs, fetchLater: ${p.env.fetchLater}.`, '');
    out.push(
      mdTable(
        ['mode', 'median µs', 'p90 µs', 'check'],
        [
          ['no call tracked (dispatch only)', fmt(p.baseline.median), fmt(p.baseline.p90), '-'],
          ['keepalive (`deferred: false`)', fmt(p.keepalive.median), fmt(p.keepalive.p90), `sent ${p.keepalive.sent}/${p.keepalive.n}`],
          ['fetchLater (`deferred: true`)', fmt(p.deferred.median), fmt(p.deferred.p90), `by handler ${p.deferred.sentByHandler}/${p.deferred.n}, by browser on close ${p.deferred.arrivedAfterClose}/${p.deferred.n}`],
        ],
      ),
      '',
    );
  }
  if (b.endCall) {
    const e = b.endCall;
    out.push(`**(c) round trip**, cross-origin (preflighted), fresh call each, interleaved, K=${e.k}:`, '');
    out.push(
      mdTable(
        ['request', 'median ms', 'p90 ms', 'failures'],
        [
          ['`endCall(id, {endToken})`', fmt(e.endCall.median, 2), fmt(e.endCall.p90, 2), e.endCall.failures],
          ['plain keepalive `fetch` + `text()`', fmt(e.plainFetch.median, 2), fmt(e.plainFetch.p90, 2), e.plainFetch.failures],
        ],
      ),
      '',
      `Ratio of medians endCall/plain: **${fmt(e.ratioOfMedians, 2)}**.`,
      '',
    );
  }
  out.push('## 3. Delivery on browser-context close', '');
  const d = r.delivery;
  if (d.error) out.push(`FAILED: ${d.error}`, '');
  if (d.cells) {
    out.push(`N_ctx=${r.params.nCtx} per cell, up to ${d.concurrency} contexts open at a time; end records counted ${d.settleMs} ms after each \`context.close()\`; delivered = exactly one.`, '');
    out.push(mdTable(DELIVERY_HEADERS, d.cells.map(cellRow)));
    const errors = setupErrorLines(d.cells);
    if (errors.length) out.push('', ...errors.map((l) => `- ${l.trim()}`));
  }
  out.push('');
  return out.join('\n');
}

// ---- main ----------------------------------------------------------------------------

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${error.message}\n${USAGE}`);
    return 2;
  }
  const started = Date.now();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {}
  const results = {
    meta: {
      date: new Date().toISOString(),
      quick: options.quick,
      commit,
      node: process.version,
      chromium: `Chromium (${CHROMIUM_PATH})`,
      cpus: os.cpus().length,
      loadavgStart: os.loadavg(),
    },
    params: options,
    sizes: {},
    browser: {},
    delivery: {},
  };
  let failed = false;

  try {
    const snapshot = await mkdtemp(path.join(os.tmpdir(), 'voice-end-call-bench-'));
    cleanups.push({ name: 'dist snapshot', fn: () => rm(snapshot, { recursive: true, force: true }) });
    DIST = path.join(snapshot, 'dist');
    await cp(DIST_SOURCE, DIST, { recursive: true });
    await cp(NAMED_WASM_SOURCE, path.join(snapshot, 'voice_end_call_bg.named.wasm')).catch(() => {});
    await cp(GLUE_SOURCE, path.join(snapshot, 'voice_end_call.js'));
  } catch (error) {
    await cleanup();
    console.error(`bench: cannot copy dist/ (run bash scripts/build.sh first): ${error?.message ?? error}`);
    return 1;
  }

  progress('sizes');
  try {
    results.sizes = await measureSizes();
    if (results.sizes.ledger.error) failed = true;
  } catch (error) {
    failed = true;
    results.sizes = { error: String(error?.stack ?? error) };
  }

  if (options.sizesOnly) await cleanup();
  else try {
    const standin = await startStandin({ preflightDelayMs: 0 });
    cleanups.push({ name: 'stand-in', fn: () => standin.close() });
    const coi = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    const benchServer = await startStaticServer({
      host: 'localhost',
      mounts: { '/dist/': DIST, '/bench/': path.join(ROOT, 'scripts/bench-page'), '/minimal/': MINIMAL_DIR },
      headers: coi,
    });
    cleanups.push({ name: 'bench page server', fn: () => benchServer.close() });
    // Like tests/e2e.test.mjs: the e2e page on localhost, the stand-in on 127.0.0.1.
    const e2eServer = await startStaticServer({
      host: 'localhost',
      mounts: { '/dist/': DIST, '/e2e/': path.join(ROOT, 'tests/e2e') },
      proxy: { '/voice-proxy/': standin.url },
    });
    cleanups.push({ name: 'e2e page server', fn: () => e2eServer.close() });
    const browser = await launchChromium();
    cleanups.push({ name: 'chromium', fn: () => browser.close() });
    results.meta.chromium = `Chromium ${browser.version()}`;

    const benchUrl = `${benchServer.url.replace('127.0.0.1', 'localhost')}/bench/index.html`;
    const e2eUrl = e2eServer.url.replace('127.0.0.1', 'localhost');

    const section = async (target, key, label, fn) => {
      progress(label);
      try {
        target[key] = await fn();
      } catch (error) {
        failed = true;
        target.error = `${target.error ? `${target.error}; ` : ''}${label}: ${String(error?.message ?? error).split('\n')[0]}`;
      }
    };
    await section(results.browser, 'init', `import + init(), package and minimal module x${options.nInit} each`, async () => {
      progress('building the minimal module (scripts/bench-minimal/)');
      const minimal = await buildMinimal();
      return measureInit(browser, benchUrl.replace(/\/bench\/index\.html$/, ''), options.nInit, minimal);
    });
    await section(results.browser, 'pagehide', `pagehide handler x${options.rounds}`, () =>
      measurePagehide(browser, benchUrl, standin, options.rounds),
    );
    await section(results.browser, 'endCall', `endCall vs plain fetch x${options.k}`, () =>
      measureEndCall(browser, benchUrl, standin, options.k),
    );
    try {
      results.delivery = await measureDelivery(browser, standin, e2eUrl, options.nCtx, options.concurrency);
    } catch (error) {
      failed = true;
      results.delivery = { error: String(error?.message ?? error).split('\n')[0] };
    }
  } catch (error) {
    failed = true;
    const message = String(error?.message ?? error).split('\n')[0];
    results.browser.error ??= message;
    results.delivery.error ??= message;
  } finally {
    await cleanup();
  }

  if (options.readme) {
    if (results.sizes.ledger && !results.sizes.ledger.error) {
      writeGeneratedBlock(path.join(ROOT, 'README.md'), README_LEDGER_START, README_LEDGER_END, readmeLedger(results));
      progress('README.md: size ledger written');
    } else {
      failed = true;
      progress('README.md: no ledger to write');
    }
  }
  results.meta.seconds = (Date.now() - started) / 1000;
  results.meta.loadavgEnd = os.loadavg();
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(path.join(OUT_DIR, 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(OUT_DIR, 'bench.md'), renderMarkdown(results));
  console.log(renderText(results));
  return failed ? 1 : 0;
}

process.exitCode = await main().catch(async (error) => {
  console.error('bench:', error?.stack ?? error);
  await cleanup();
  return 1;
});
