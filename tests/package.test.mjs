// Packaging: what `npm pack` ships, and the package used from Node (server-side rendering,
// scripts) and TypeScript (every module setting, Node-only types, the README's TypeScript
// snippets), from the packed tarball installed into a throw-away project (no registry access
// needed). Bundlers and pages: tests/toolchains.test.mjs; React: tests/react.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStandin } from './support/standin.mjs';
import { installTarball, packTarball } from './support/tarball.mjs';

const ROOT = process.cwd();
const BIN = path.join(ROOT, 'node_modules', '.bin');
let work, tarball, project, standin;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'voice-end-call-package-'));
  tarball = packTarball(work);
  project = path.join(work, 'consumer');
  mkdirSync(project);
  installTarball(project, tarball);
  standin = await startStandin({ preflightDelayMs: 500 });
});

after(async () => {
  await standin?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball ships the wasm (and its inlined copy), the bundled entry, the React and relay entries, types, README and LICENSE, and nothing else', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  // The glue and the snippets the Rust side imports (the EndCallError class, orphan recovery's
  // Web Locks IO, the unload's relay beacons, the request's shape) are bundled into index.js;
  // init()'s messages for a wasm file it cannot use are a chunk of their own (diagnose.js).
  assert.deepEqual(files, [
    'package/LICENSE',
    'package/README.md',
    'package/dist/diagnose.js',
    'package/dist/index.d.ts',
    'package/dist/index.js',
    'package/dist/react.d.ts',
    'package/dist/react.js',
    'package/dist/relay.d.ts',
    'package/dist/relay.js',
    'package/dist/voice_end_call_bg.inline.js',
    'package/dist/voice_end_call_bg.wasm',
    'package/package.json',
  ].sort());
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const cargo = readFileSync('Cargo.toml', 'utf8').match(/^version = "([^"]+)"/m)[1];
  assert.equal(pkg.version, cargo, 'package.json and Cargo.toml versions agree');
  assert.equal(Object.keys(pkg.exports['.'])[0], 'types', 'types first in the exports map');
  assert.equal(Object.keys(pkg.exports['./react'])[0], 'types', 'types first for the React entry');
  assert.equal(Object.keys(pkg.exports['./relay'])[0], 'types', 'types first for the relay entry');
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

test("Node: voice-end-call/relay from the tarball forwards a beacon body to the API, refuses a bad one", async () => {
  const call = standin.state.mintCall();
  const script = `
    import { createRelay, toNodeHandler } from 'voice-end-call/relay';
    const relay = createRelay({ apiBaseUrl: process.env.API });
    await relay.ready; // init() with no argument: the wasm next to the package's index.js
    const post = (body) => relay(new Request('http://app.test/voice-end', {
      method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body }));
    const ok = await post(JSON.stringify({ callId: process.env.CALL_ID, endToken: process.env.END_TOKEN }));
    const bad = await post(JSON.stringify({ callId: process.env.CALL_ID, endToken: 'et\\r\\nx' }));
    console.log(JSON.stringify({ ok: [ok.status, await ok.json()], bad: [bad.status, await bad.json()], node: typeof toNodeHandler }));`;
  const result = await new Promise((resolve) => {
    const env = { ...process.env, API: standin.url, CALL_ID: call.call_id, END_TOKEN: call.end_token };
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env }, (error, stdout, stderr) =>
      resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '', 'the relay writes nothing');
  const out = JSON.parse(result.stdout);
  assert.equal(out.ok[0], 200);
  assert.equal(out.ok[1].call_id, call.call_id);
  assert.equal(out.bad[0], 400);
  assert.equal(out.bad[1].error.kind, 'bad-request');
  assert.equal(out.node, 'function');
  const records = standin.state.records({ callId: call.call_id });
  assert.equal(records.length, 1, 'one end request');
  assert.equal(records[0].auth, 'valid');
  assert.ok(!result.stdout.includes(call.end_token), 'no token in the output');
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
    const good = tsc(setting, ['typecheck-good.ts', 'typecheck-react.ts', 'typecheck-relay.ts', ...nodeFiles]);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    const bad = tsc(setting, ['typecheck-bad.ts']);
    assert.notEqual(bad.status, 0, 'misuse must not type-check');
    const misused = readFileSync('tests/consumers/typecheck-bad.ts', 'utf8')
      .split('\n')
      .flatMap((line, i) => (/^(?:[a-z]|const |export )/.test(line) && !/^(?:import|console)/.test(line) ? [i + 1] : []));
    assert.equal(misused.length, 15);
    const lines = new Set([...bad.stdout.matchAll(/typecheck-bad\.ts\((\d+),/g)].map((m) => Number(m[1])));
    assert.deepEqual([...lines].sort((a, b) => a - b), misused, bad.stdout);
  });
}

/** The docs' TypeScript snippets (`<!-- snippet: NAME … -->` before a ts/tsx block), in the
 * README or docs/relay.md. */
function readmeSnippet(name) {
  const docs = readFileSync('README.md', 'utf8') + readFileSync('docs/relay.md', 'utf8');
  const match = docs.match(new RegExp(`<!-- snippet: ${name} [^>]*-->\\n\`\`\`(tsx?)\\n([\\s\\S]*?)\`\`\``));
  assert.ok(match, `snippet "${name}" in README.md or docs/relay.md`);
  return { ext: match[1], code: match[2] };
}

/**
 * Type-check the README snippets `names` in the consumer project with `settings`, the named
 * third-party packages (and their types) linked from this repo's node_modules, as an app has them.
 */
function typecheckSnippets(names, deps, settings) {
  const modules = path.join(project, 'node_modules');
  for (const dep of deps) {
    if (existsSync(path.join(modules, dep))) continue;
    mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(modules, dep));
  }
  const dir = mkdtempSync(path.join(project, 'ts-readme-'));
  const files = names.map((name) => {
    const { ext, code } = readmeSnippet(name);
    writeFileSync(path.join(dir, `${name}.${ext}`), code);
    return `${name}.${ext}`;
  });
  const compilerOptions = {
    ...settings,
    strict: true,
    noEmit: true,
    target: 'es2022',
    // Our declarations are checked strictly above; here the third-party ones are used as they are.
    skipLibCheck: true,
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
  return spawnSync(path.join(BIN, 'tsc'), ['-p', dir], { cwd: dir, encoding: 'utf8' });
}

test('README: the React and LiveKit snippets type-check against the packed types, React and livekit-client', () => {
  const settings = { ...TS_SETTINGS.bundler, jsx: 'react-jsx', types: [] };
  const result = typecheckSnippets(['react', 'livekit'], ['livekit-client', '@types/react'], settings);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test("README: the relay snippets (Next.js, Hono, Express, Node http) type-check against the packed types, Hono's, Express's and Node's", () => {
  const result = typecheckSnippets(['relay-next', 'relay-hono', 'relay-express', 'relay-node'], ['hono', 'express', '@types/express'], TS_SETTINGS['node only']);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
