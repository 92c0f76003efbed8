// Packaging: what `npm pack` ships, and the package used the ways our users use it — Node
// (server-side rendering), TypeScript, Vite, and a plain <script type="module"> page — each
// installing the packed tarball into a throw-away project (no registry access needed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
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

test('the tarball ships the wasm (and its inlined copy), glue, types, README and LICENSE, and nothing else', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  const snippet = files.find((f) => /^package\/dist\/snippets\/[^/]+\/js\/errors\.js$/.test(f));
  assert.ok(snippet, 'the EndCallError snippet');
  assert.deepEqual(files, [
    'package/LICENSE',
    'package/README.md',
    'package/dist/errors.js',
    'package/dist/index.d.ts',
    'package/dist/index.js',
    'package/dist/react.d.ts',
    'package/dist/react.js',
    snippet,
    'package/dist/voice_end_call.js',
    'package/dist/voice_end_call_bg.inline.js',
    'package/dist/voice_end_call_bg.wasm',
    'package/package.json',
  ].sort());
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const cargo = readFileSync('Cargo.toml', 'utf8').match(/^version = "([^"]+)"/m)[1];
  assert.equal(pkg.version, cargo, 'package.json and Cargo.toml versions agree');
  assert.equal(Object.keys(pkg.exports['.'])[0], 'types', 'types first in the exports map');
  assert.equal(Object.keys(pkg.exports['./react'])[0], 'types', 'types first for the React entry');
  assert.deepEqual(pkg.peerDependenciesMeta, { react: { optional: true } }, 'React is an optional peer');
});

test('Node (SSR): importing does not throw or touch window; init() finds the wasm; endCall by token reaches the API', async () => {
  const call = standin.state.mintCall();
  const script = `
    const lib = await import('voice-end-call');
    const out = { window: typeof window };
    try { lib.trackCall({ callId: 'a', endToken: 'b' }); } catch (e) { out.before = [e instanceof lib.EndCallError, e.kind]; }
    // Only asking or forgetting does not throw before init(): nothing can be tracked yet.
    out.asking = [lib.untrackCall('a'), lib.trackedCalls(), await lib.endCall('a', { ifTracked: true })];
    await lib.default(); // no argument: the wasm next to the module, read from disk
    try { lib.trackCall({ callId: 'a', endToken: 'b' }); } catch (e) { out.after = [e instanceof lib.EndCallError, e.kind, e.message]; }
    lib.configure({ baseUrl: process.env.API });
    out.ended = await lib.endCall(process.env.CALL_ID, { endToken: process.env.END_TOKEN });
    out.again = await lib.endCall(process.env.CALL_ID, { ifTracked: true });
    console.log(JSON.stringify(out));`;
  // Not spawnSync: the stand-in runs in this process and must answer meanwhile.
  const result = await new Promise((resolve) => {
    const env = { ...process.env, API: standin.url, CALL_ID: call.call_id, END_TOKEN: call.end_token };
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env }, (error, stdout, stderr) =>
      resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
  assert.equal(result.status, 0, result.stderr);
  const out = JSON.parse(result.stdout);
  assert.equal(out.window, 'undefined');
  assert.deepEqual(out.before, [true, 'not-initialized']);
  assert.deepEqual(out.asking, [false, [], null]);
  assert.equal(out.after[0], true);
  assert.equal(out.after[1], 'config');
  assert.match(out.after[2], /browser page/);
  assert.equal(out.ended.callId, call.call_id);
  assert.equal(out.ended.status, 'ended');
  assert.equal(out.again, null, 'ifTracked: the call is over, nothing more is sent');
  const records = standin.state.records({ callId: call.call_id });
  assert.equal(records.length, 1, 'one end request');
  assert.equal(records[0].auth, 'valid');
});

test('Node without process.getBuiltinModule (< 20.16): init() rejects, saying how to pass the bytes', () => {
  const script = `
    delete process.getBuiltinModule;
    const lib = await import('voice-end-call');
    try { await lib.default(); console.log(JSON.stringify({ resolved: true })); }
    catch (e) { console.log(JSON.stringify({ is: e instanceof lib.EndCallError, kind: e.kind, message: e.message })); }`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const out = JSON.parse(result.stdout);
  assert.deepEqual([out.is, out.kind], [true, 'not-initialized']);
  assert.match(out.message, /^voice-end-call: init\(\) with no argument needs Node 20\.16/, 'the message itself, not wrapped');
  assert.match(out.message, /init\(await readFile\(/);
});

// Every setting users are known to build with; tsc reads the packed declarations as they are.
const TS_SETTINGS = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'] },
  node16: { module: 'node16', moduleResolution: 'node16', lib: ['es2022', 'dom'] },
  bundler: { module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'] },
  // A Node-only project: no DOM lib, only @types/node (from this repo's node_modules).
  'node only': { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')] },
};

function tsc(setting, files) {
  const dir = mkdtempSync(path.join(project, 'ts-'));
  for (const file of files) cpSync(path.join('tests/consumers', file), path.join(dir, file));
  const compilerOptions = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022', types: [], ...TS_SETTINGS[setting] };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  return spawnSync(path.join(BIN, 'tsc'), ['-p', dir], { cwd: dir, encoding: 'utf8' });
}

for (const setting of Object.keys(TS_SETTINGS)) {
  test(`TypeScript --strict, ${setting}: the declarations type-check real use and reject misuse`, () => {
    const nodeFiles = setting === 'node only' ? ['typecheck-node.ts'] : [];
    const good = tsc(setting, ['typecheck-good.ts', 'typecheck-react.ts', ...nodeFiles]);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    const bad = tsc(setting, ['typecheck-bad.ts']);
    assert.notEqual(bad.status, 0, 'misuse must not type-check');
    const misused = readFileSync('tests/consumers/typecheck-bad.ts', 'utf8')
      .split('\n')
      .flatMap((line, i) => (/^(?:[a-z]|const |export )/.test(line) && !/^(?:import|console)/.test(line) ? [i + 1] : []));
    assert.equal(misused.length, 11);
    const lines = new Set([...bad.stdout.matchAll(/typecheck-bad\.ts\((\d+),/g)].map((m) => Number(m[1])));
    assert.deepEqual([...lines].sort((a, b) => a - b), misused, bad.stdout);
  });
}

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
