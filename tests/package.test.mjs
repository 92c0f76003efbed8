// Packaging: what `npm pack` ships, and the package used the ways our users use it — Node
// (server-side rendering), TypeScript, Vite, and a plain <script type="module"> page — each
// installing the packed tarball into a throw-away project (no registry access needed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStandin } from './support/standin.mjs';
import { startStaticServer } from './support/static-server.mjs';
import { launchChromium } from './support/chromium.mjs';
import { settledRecords } from './support/records.mjs';

const ROOT = process.cwd();
const BIN = path.join(ROOT, 'node_modules', '.bin');
let work, tarball, project, standin, browser, context;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'voice-end-call-package-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { encoding: 'utf8' }));
  tarball = path.join(work, packed[0].filename);
  project = path.join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: project, stdio: 'pipe' });
  standin = await startStandin({ preflightDelayMs: 500 });
  browser = await launchChromium();
  // One context for all pages: closing a page is then a tab close (a page from
  // browser.newPage() has a context of its own, and closing it is a context close).
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
  await standin?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball ships the wasm, glue, types, README and LICENSE, and nothing else', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  const snippet = files.find((f) => /^package\/dist\/snippets\/[^/]+\/js\/errors\.js$/.test(f));
  assert.ok(snippet, 'the EndCallError snippet');
  assert.deepEqual(files, [
    'package/LICENSE',
    'package/README.md',
    'package/dist/errors.js',
    'package/dist/index.d.ts',
    'package/dist/index.js',
    snippet,
    'package/dist/voice_end_call.js',
    'package/dist/voice_end_call_bg.wasm',
    'package/package.json',
  ].sort());
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const cargo = readFileSync('Cargo.toml', 'utf8').match(/^version = "([^"]+)"/m)[1];
  assert.equal(pkg.version, cargo, 'package.json and Cargo.toml versions agree');
  assert.equal(Object.keys(pkg.exports['.'])[0], 'types', 'types first in the exports map');
});

test('Node (SSR): importing does not throw or touch window; calls give clear EndCallErrors', () => {
  const script = `
    const lib = await import('voice-end-call');
    const out = { window: typeof window };
    try { lib.trackCall({ callId: 'a', endToken: 'b' }); } catch (e) { out.before = [e instanceof lib.EndCallError, e.kind]; }
    const { readFile } = await import('node:fs/promises');
    await lib.default(await readFile(new URL(import.meta.resolve('voice-end-call/voice_end_call_bg.wasm'))));
    try { lib.trackCall({ callId: 'a', endToken: 'b' }); } catch (e) { out.after = [e instanceof lib.EndCallError, e.kind, e.message]; }
    console.log(JSON.stringify(out));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const out = JSON.parse(result.stdout);
  assert.equal(out.window, 'undefined');
  assert.deepEqual(out.before, [true, 'not-initialized']);
  assert.equal(out.after[0], true);
  assert.equal(out.after[1], 'config');
  assert.match(out.after[2], /browser page/);
});

test('TypeScript --strict: the declarations type-check real use and reject misuse', () => {
  cpSync('tests/consumers/typecheck-good.ts', path.join(project, 'good.ts'));
  cpSync('tests/consumers/typecheck-bad.ts', path.join(project, 'bad.ts'));
  const tsc = (file) =>
    spawnSync(
      path.join(BIN, 'tsc'),
      ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', file],
      { cwd: project, encoding: 'utf8' },
    );
  const good = tsc('good.ts');
  assert.equal(good.status, 0, good.stdout + good.stderr);
  const bad = tsc('bad.ts');
  assert.notEqual(bad.status, 0, 'misuse must not type-check');
  for (const line of [4, 5, 6, 7]) {
    assert.match(bad.stdout, new RegExp(`bad\\.ts\\(${line},`), `line ${line} is an error`);
  }
});

async function assertOneEndOnClose(pageUrl) {
  const call = standin.state.mintCall();
  const page = await context.newPage();
  const query = new URLSearchParams({ api: standin.url, callId: call.call_id, endToken: call.end_token });
  await page.goto(`${pageUrl}?${query}`);
  await page.waitForFunction(() => window.ready === true);
  await page.close();
  const records = await settledRecords(standin, { callIds: [call.call_id] });
  assert.equal(records.length, 1, 'one end request');
  assert.equal(records[0].auth, 'valid');
}

test('Vite 7: a bundled app tracks a call and ends it on page close', async () => {
  const app = path.join(project, 'vite-app');
  cpSync('tests/consumers/vite-app', app, { recursive: true });
  const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(project, 'node_modules') },
  });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  const server = await startStaticServer({ host: 'localhost', mounts: { '/': path.join(app, 'dist') } });
  try {
    await assertOneEndOnClose(`${server.url}/index.html`);
  } finally {
    await server.close();
  }
});

test('plain <script type="module">: the package files served as they are', async () => {
  const server = await startStaticServer({
    host: 'localhost',
    mounts: { '/': 'tests/consumers/esm-page', '/pkg/': path.join(project, 'node_modules/voice-end-call/dist') },
  });
  try {
    await assertOneEndOnClose(`${server.url}/index.html`);
  } finally {
    await server.close();
  }
});
