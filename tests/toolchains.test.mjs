// Toolchains (issue 13): `import init from 'voice-end-call'; await init()` with no
// configuration, in the front-end toolchains our users start with. Each row installs the packed
// tarball (`npm pack`, so prepack builds dist/) into a throw-away project of its own under
// target/consumers/<name>/ (`npm install --offline`), builds or serves it with the toolchain
// pinned in the repo's devDependencies (Node resolution finds them from there: nothing is
// fetched at test time), and checks in headless Chromium: init() resolves, trackCall(), tab
// close → the stand-in API receives exactly one end for that call, with the call's token.
//
// Each row also checks which way init() got the wasm: 'file' (voice_end_call_bg.wasm, the
// normal path) or 'inline' (the base64 copy in voice_end_call_bg.inline.js, when the file
// cannot be used; init() then says so with a console.info), and measures what the page
// downloaded: the JS and wasm responses, raw and brotli (quality 11, as a server would send
// them). On the file path the inlined copy must not be downloaded, except where the bundler
// puts it into the one bundle (esbuild without --splitting). The table is printed
// (t.diagnostic) and written to target/consumers/downloads.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { startStandin } from './support/standin.mjs';
import { startStaticServer } from './support/static-server.mjs';
import { launchChromium } from './support/chromium.mjs';
import { unusedPort } from './support/net.mjs';
import { settledRecords, waitFor } from './support/records.mjs';
import { installTarball, packTarball } from './support/tarball.mjs';

const ROOT = process.cwd();
const WORK = path.join(ROOT, 'target', 'consumers');
const FIXTURES = path.join(ROOT, 'tests', 'consumers');
const tool = (file) => path.join(ROOT, 'node_modules', file);
const VITE7 = tool('vite/bin/vite.js');
const VITE8 = tool('vite8/bin/vite.js');
const NEXT = tool('next/dist/bin/next');
const ESBUILD = tool('esbuild/bin/esbuild');
const ROLLUP = tool('rollup/dist/bin/rollup');
// What the toolchains print is for people; the test reads exit codes and waits on HTTP.
const ENV = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NEXT_TELEMETRY_DISABLED: '1', BROWSERSLIST_IGNORE_OLD_DATA: '1' };
// How long an end request may take to arrive after the tab closed (then settledRecords' quiet
// period watches for a late duplicate).
const ARRIVAL_MS = 10000;

let tarball, standin, browser, inlineMark;
const table = [];

before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  tarball = packTarball(WORK);
  standin = await startStandin();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await standin?.close();
  if (table.length) writeFileSync(path.join(WORK, 'downloads.json'), JSON.stringify(table, null, 2) + '\n');
});

/**
 * A throw-away project: target/consumers/<name>/ with the given fixture folder copied in and
 * the tarball installed into its own node_modules. `lockfile: false` for Next.js: Turbopack
 * takes the folder of the nearest lockfile as its root, which must hold the repo's
 * node_modules (where next is), not just this project.
 */
function project(name, fixture, { lockfile = true } = {}) {
  const dir = path.join(WORK, name);
  cpSync(path.join(FIXTURES, fixture), dir, { recursive: true });
  installTarball(dir, tarball, { name, lockfile });
  const dist = path.join(dir, 'node_modules', 'voice-end-call', 'dist');
  inlineMark ??= readFileSync(path.join(dist, 'voice_end_call_bg.inline.js'), 'utf8').match(/"(.{64})/)[1];
  return { dir, dist };
}

/** Run a toolchain command to completion; its exit code and output. `command`: a node
 *  script, or a native binary (esbuild's bin is one). */
function run([command, ...args], cwd) {
  return new Promise((resolve, reject) => {
    const [file, argv] = command === ESBUILD ? [command, args] : [process.execPath, [command, ...args]];
    const child = spawn(file, argv, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

async function build(args, cwd) {
  const result = await run(args, cwd);
  assert.equal(result.status, 0, result.output);
  return result;
}

/**
 * Start a server (a dev server, `next start`) on a free port, in a process group of its own
 * so that closing it ends its workers too; resolves once `url` answers 200.
 */
async function server(args, cwd, port, { deadlineMs = 120000 } = {}) {
  const child = spawn(process.execPath, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  let gone = false;
  exited.then(() => (gone = true));
  let status = 0;
  try {
    // (a dev server answers its first request once it has compiled the page)
    await waitFor(
      async () => {
        if (gone) throw new Error('exited');
        status = await fetch(`${url}/`, { signal: AbortSignal.timeout(deadlineMs) }).then((r) => r.status, () => 0);
        return status === 200;
      },
      `${url}/ to answer 200`,
      { timeoutMs: deadlineMs },
    );
  } catch {
    await close();
    assert.fail(`${args.join(' ')}: ${gone ? 'exited' : 'not answering'} (last status ${status})\n${output}`);
  }
  return { url, close };
}

/**
 * Serve a build: `dir`/dist with the app's index.html (Vite writes its own), and, with
 * `copyWasm`, the package's .wasm copied next to the bundle (the recipe for bundlers that do
 * not emit it); calls fn with the page's URL.
 */
async function serveBuilt({ dir, dist }, fn, { copyWasm = false } = {}) {
  const out = path.join(dir, 'dist');
  if (!existsSync(path.join(out, 'index.html'))) copyFileSync(path.join(dir, 'index.html'), path.join(out, 'index.html'));
  if (copyWasm) copyFileSync(path.join(dist, 'voice_end_call_bg.wasm'), path.join(out, 'voice_end_call_bg.wasm'));
  const server = await startStaticServer({ mounts: { '/': out } });
  try {
    return await fn(`${server.url}/index.html`);
  } finally {
    await server.close();
  }
}

/** Start a dev server for the project (Vite's and Next's flags: `--host`/`--hostname`), visit
 *  it once to warm it up, then check it. */
async function checkDevServer(t, name, args, dir, expect, options = {}) {
  const port = await unusedPort();
  const host = args[0] === NEXT ? '--hostname' : '--host';
  const dev = await server([...args, host, '127.0.0.1', '--port', String(port)], dir, port);
  try {
    await warmUp(`${dev.url}/`);
    await check(t, name, `${dev.url}/`, { expect, ...options });
  } finally {
    await dev.close();
  }
}

/** What the page's init() (and trackCall()) came to, without a call to track. */
async function firstOutcome(pageUrl) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(pageUrl);
    // A dev server compiles (and may optimise dependencies and reload) on the first visit.
    await page.waitForFunction(() => window.outcome !== undefined, null, { timeout: 120000 });
    return await page.evaluate(() => window.outcome);
  } finally {
    await context.close();
  }
}

/** A dev server's first visit: it compiles, and may optimise dependencies and reload. */
async function warmUp(pageUrl) {
  const outcome = await firstOutcome(pageUrl);
  assert.equal(outcome.ok, true, `warm-up visit: ${outcome.error}`);
}

/** The end requests for `callId` once settled (a cold dev server's page may take a while to
 *  send: up to ARRIVAL_MS for the first, then the shared quiet period). */
const endsAfterClose = (callId) => settledRecords(standin, { callIds: [callId], arrivalMs: ARRIVAL_MS });

const brotli = (bytes) =>
  bytes.length === 0 ? 0 : brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).length;

/** A JS or wasm response: its size raw and brotli, and whether it holds the inlined wasm. */
async function download(response) {
  const type = response.headers()['content-type'] ?? '';
  const kind = /javascript/.test(type) ? 'js' : /application\/wasm/.test(type) ? 'wasm' : null;
  if (!kind || response.status() !== 200) {
    return response.status() === 200 ? null : { kind: 'failed', url: response.url(), status: response.status() };
  }
  const body = await response.body();
  const text = kind === 'js' ? body.toString('utf8') : '';
  return {
    kind,
    url: response.url(),
    raw: body.length,
    brotli: brotli(body),
    inline: text.includes(inlineMark),
    entry: text.includes('securitypolicyviolation'), // the package's index.js is in it
  };
}

/**
 * Open `pageUrl` with a fresh call in a fresh context (empty cache), check init() and
 * trackCall() succeeded, close the tab, check the stand-in got exactly one end. Returns what
 * the page downloaded and which way init() got the wasm.
 */
async function oneEndOnClose(pageUrl) {
  const context = await browser.newContext();
  const pending = [];
  const messages = [];
  context.on('response', (response) => pending.push(download(response)));
  try {
    const page = await context.newPage();
    page.on('console', (message) => messages.push(message.text()));
    const call = standin.state.mintCall();
    const query = new URLSearchParams({ api: standin.url, callId: call.call_id, endToken: call.end_token });
    await page.goto(`${pageUrl}${pageUrl.includes('?') ? '&' : '?'}${query}`);
    // tests/consumers/esm-page sets window.ready; the other apps window.outcome.
    await page.waitForFunction(() => window.outcome !== undefined || window.ready === true, null, { timeout: 60000 });
    const outcome = await page.evaluate(() => window.outcome ?? { ok: true });
    assert.equal(outcome.ok, true, `init() or trackCall(): ${outcome.error}`);
    const downloads = (await Promise.all(pending)).filter(Boolean);
    await page.close();
    const records = await endsAfterClose(call.call_id);
    assert.equal(records.length, 1, `one end request after tab close (got ${records.length})`);
    assert.equal(records[0].auth, 'valid');
    const inlined = messages.filter((m) => m.startsWith('voice-end-call: loaded the wasm inlined'));
    return { downloads, path: inlined.length ? 'inline' : 'file', note: inlined[0] };
  } finally {
    await context.close();
  }
}

/**
 * Check one consumer page and add its row to the table. `expect`: 'file' or 'inline';
 * `bundled`: the bundler puts the inlined copy into the one bundle (so the normal path carries
 * it by design); `hint`: what init()'s console note must say on the inline path.
 */
async function check(t, name, pageUrl, { expect, bundled = false, hint = /serve voice_end_call_bg\.wasm there/ }) {
  const { downloads, path: used, note } = await oneEndOnClose(pageUrl);
  const sum = (list, key) => list.reduce((total, d) => total + d[key], 0);
  const ok = downloads.filter((d) => d.kind !== 'failed');
  const js = ok.filter((d) => d.kind === 'js');
  const wasm = ok.filter((d) => d.kind === 'wasm');
  const withInline = js.filter((d) => d.inline);
  const row = {
    name,
    path: used,
    jsRaw: sum(js, 'raw'),
    jsBrotli: sum(js, 'brotli'),
    wasmRaw: sum(wasm, 'raw'),
    wasmBrotli: sum(wasm, 'brotli'),
    totalRaw: sum(ok, 'raw'),
    totalBrotli: sum(ok, 'brotli'),
    inlineDownloaded: withInline.length > 0,
    inlineSeparate: withInline.length > 0 ? withInline.every((d) => !d.entry) : null,
    failed: downloads.filter((d) => d.kind === 'failed').map((d) => `${d.status} ${new URL(d.url).pathname}`),
  };
  table.push(row);
  const kb = (n) => (n / 1024).toFixed(1);
  t.diagnostic(
    `${name}: wasm via ${used}; downloaded JS ${kb(row.jsRaw)} KB raw / ${kb(row.jsBrotli)} KB brotli, ` +
      `wasm ${kb(row.wasmRaw)} / ${kb(row.wasmBrotli)} KB, total ${kb(row.totalRaw)} / ${kb(row.totalBrotli)} KB; ` +
      `inlined copy ${row.inlineDownloaded ? (row.inlineSeparate ? 'downloaded (own chunk)' : 'downloaded (in the bundle)') : 'not downloaded'}` +
      (row.failed.length ? `; failed requests: ${row.failed.join(', ')}` : ''),
  );
  if (note) t.diagnostic(`  init(): ${note}`);
  assert.equal(used, expect, `init() got the wasm via ${used}, expected ${expect}`);
  if (expect === 'file') {
    assert.equal(wasm.length, 1, 'the .wasm file was downloaded once');
    if (!bundled) assert.equal(row.inlineDownloaded, false, 'the normal path does not download the inlined copy');
  } else {
    assert.equal(wasm.length, 0, 'no wasm file was served');
    assert.equal(row.inlineDownloaded, true);
    assert.match(note, hint, 'the console note names the fix');
  }
  return row;
}

test('the inlined copy is byte for byte the shipped .wasm', () => {
  const { dist } = project('inline-check', 'bundled');
  const base64 = readFileSync(path.join(dist, 'voice_end_call_bg.inline.js'), 'utf8').match(/^export default "([A-Za-z0-9+/=]+)";\n$/)[1];
  assert.ok(Buffer.from(base64, 'base64').equals(readFileSync(path.join(dist, 'voice_end_call_bg.wasm'))));
});

test('plain <script type="module">: the package files served as they are', async (t) => {
  const { dist } = project('plain', 'esm-page');
  const server = await startStaticServer({ mounts: { '/': path.join(WORK, 'plain'), '/pkg/': dist } });
  try {
    await check(t, 'plain <script type="module">', `${server.url}/index.html`, { expect: 'file' });
  } finally {
    await server.close();
  }
});

// Vite 7's dev server pre-bundles the package into node_modules/.vite/deps/ and answers the
// .wasm URL there with index.html: init() loads the inlined copy (dev only; its build emits
// the file) and its console note names optimizeDeps.exclude, which loads the file (tested).
// Vite 8's dev server serves the file.
for (const [vite, bin, devPath] of [['Vite 7', VITE7, 'inline'], ['Vite 8', VITE8, 'file']]) {
  test(`${vite} dev server`, async (t) => {
    const { dir } = project(`${vite.replace(' ', '').toLowerCase()}-dev`, 'bundled');
    await checkDevServer(t, `${vite} dev`, [bin, '--strictPort'], dir, devPath, { hint: /optimizeDeps: \{ exclude: \['voice-end-call'\] \}/ });
  });

  if (devPath === 'inline') {
    test(`${vite} dev server recipe: optimizeDeps.exclude (what init() suggests) loads the file`, async (t) => {
      const { dir } = project(`${vite.replace(' ', '').toLowerCase()}-dev-exclude`, 'bundled');
      writeFileSync(path.join(dir, 'vite.config.js'), "export default { optimizeDeps: { exclude: ['voice-end-call'] } };\n");
      await checkDevServer(t, `${vite} dev + optimizeDeps.exclude`, [bin, '--strictPort'], dir, 'file');
    });
  }

  test(`${vite} build`, async (t) => {
    const app = project(`${vite.replace(' ', '').toLowerCase()}-build`, 'bundled');
    await build([bin, 'build', '--logLevel', 'warn'], app.dir);
    await serveBuilt(app, (url) => check(t, `${vite} build`, url, { expect: 'file' }));
  });
}

test('webpack 5 (entry and output only)', async (t) => {
  const app = project('webpack', 'bundled');
  const { dir } = app;
  const script = `
    import webpack from 'webpack';
    webpack({ mode: 'production', entry: './main.js', output: { path: process.cwd() + '/dist' } }, (error, stats) => {
      if (error || stats.hasErrors()) { console.error(error ?? stats.toString('errors-only')); process.exit(1); }
    });`;
  const entry = path.join(dir, 'build.mjs');
  writeFileSync(entry, script);
  await build([entry], dir);
  await serveBuilt(app, (url) => check(t, 'webpack 5', url, { expect: 'file' }));
});

// esbuild and Rollup keep `new URL('./voice_end_call_bg.wasm', import.meta.url)` but do not emit
// the file: 404, and init() loads the inlined copy. esbuild without --splitting puts the copy
// into the one bundle; Rollup (output.dir) makes it a chunk of its own. The recipe for the
// smaller download, tested too: the .wasm copied next to the bundle (and esbuild --splitting).
const ESBUILD_ARGS = [ESBUILD, 'main.js', '--bundle', '--format=esm', '--outdir=dist', '--log-level=warning'];
const ROLLUP_ARGS = [ROLLUP, 'main.js', '-p', '@rollup/plugin-node-resolve', '--format', 'es', '--silent'];

test('esbuild --bundle --format=esm', async (t) => {
  const app = project('esbuild', 'bundled');
  await build(ESBUILD_ARGS, app.dir);
  await serveBuilt(app, (url) => check(t, 'esbuild --bundle --format=esm', url, { expect: 'inline', bundled: true }));
});

test('esbuild recipe: --splitting, the .wasm copied next to the bundle', async (t) => {
  const app = project('esbuild-split', 'bundled');
  await build([...ESBUILD_ARGS, '--splitting'], app.dir);
  await serveBuilt(app, (url) => check(t, 'esbuild --splitting + copied .wasm', url, { expect: 'file' }), { copyWasm: true });
});

test('Rollup + node-resolve (output.dir)', async (t) => {
  const app = project('rollup', 'bundled');
  await build([...ROLLUP_ARGS, '--dir', 'dist'], app.dir);
  await serveBuilt(app, (url) => check(t, 'Rollup + node-resolve (--dir)', url, { expect: 'inline' }));
});

test('Rollup recipe: output.dir, the .wasm copied next to the bundle', async (t) => {
  const app = project('rollup-copy', 'bundled');
  await build([...ROLLUP_ARGS, '--dir', 'dist'], app.dir);
  await serveBuilt(app, (url) => check(t, 'Rollup --dir + copied .wasm', url, { expect: 'file' }), { copyWasm: true });
});

// output.file cannot hold the lazily imported chunk: Rollup stops and suggests output.dir or
// inlineDynamicImports. The latter puts the copy after the app's top-level `await init()`, so
// init() rejects, naming both fixes; the second (the .wasm next to the bundle) is checked.
test('Rollup output.file: the build names the fix; with inlineDynamicImports init() names it', async (t) => {
  const app = project('rollup-file', 'bundled');
  const args = [...ROLLUP_ARGS, '--file', 'dist/main.js'];
  const plain = await run(args, app.dir);
  assert.notEqual(plain.status, 0, 'one file cannot hold the lazily imported chunk');
  assert.match(plain.output, /"output\.dir" option must be used.*inlineDynamicImports/s);
  await build([...args, '--inlineDynamicImports'], app.dir);
  const outcome = await serveBuilt(app, firstOutcome);
  assert.equal(outcome.ok, false);
  assert.match(outcome.error, /inlineDynamicImports.*Bundle with output\.dir instead, or copy voice_end_call_bg\.wasm next to the bundle/);
  t.diagnostic(`Rollup --file --inlineDynamicImports: init() rejects: ${outcome.error}`);
  await serveBuilt(
    app,
    (url) => check(t, 'Rollup --file --inlineDynamicImports + copied .wasm', url, { expect: 'file', bundled: true }),
    { copyWasm: true },
  );
});

// Next.js 16, app router, no next.config: Turbopack (the default) and webpack (--webpack), each
// `next dev`, then `next build && next start`, in one project.
for (const bundler of ['Turbopack', 'webpack']) {
  const flags = bundler === 'webpack' ? ['--webpack'] : [];
  const label = `Next.js 16 (${bundler})`;
  test(`${label}: next dev, then next build && next start`, async (t) => {
    const { dir } = project(`next-${bundler.toLowerCase()}`, 'next', { lockfile: false });
    await checkDevServer(t, `${label} next dev`, [NEXT, 'dev', ...flags], dir, 'file');
    await build([NEXT, 'build', ...flags], dir);
    const port = await unusedPort();
    const start = await server([NEXT, 'start', '--hostname', '127.0.0.1', '--port', String(port)], dir, port);
    try {
      await check(t, `${label} next build && next start`, `${start.url}/`, { expect: 'file' });
    } finally {
      await start.close();
    }
  });
}
