// scripts/shorten-imports.mjs (the build's short import/export names, 2.2 KB brotli): the
// renamed pair still instantiates and works in Node, the shipped files meet the post-condition,
// and every shape it does not expect makes it fail instead of guessing. No browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkShortened, shortenImports } from '../scripts/shorten-imports.mjs';
import { readName, readU32, sections, skipImportDesc } from '../scripts/lib/wasm.mjs';

const ROOT = process.cwd();
// The input of wasm-bindgen in the build (scripts/wasm-pipeline.sh): the release module.
const INPUT = path.join(ROOT, 'target', 'voice_end_call.wasm');
const MODULE = './voice_end_call_bg.js';
const skip = !existsSync(INPUT) && 'no build (bash scripts/build.sh)';

/** The module of each import of `wasm`, in order. */
function importModules(wasm) {
  const section = sections(wasm).find((s) => s.id === 2);
  const at = { pos: 0 };
  const modules = [];
  for (let n = readU32(section.body, at); n > 0; n--) {
    modules.push(readName(section.body, at));
    readName(section.body, at);
    skipImportDesc(section.body, at);
  }
  return modules;
}
let dir;
let fresh; // { wasm, glue } as wasm-bindgen writes them

before(() => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'voice-end-call-shorten-'));
  execFileSync(path.join(ROOT, '.tools/bin/wasm-bindgen'), [
    '--target', 'web', '--no-typescript', '--out-dir', dir, '--out-name', 'voice_end_call',
    '--encode-into', 'always', '--omit-default-module-path', INPUT,
  ]);
  fresh = {
    wasm: readFileSync(path.join(dir, 'voice_end_call_bg.wasm')),
    glue: readFileSync(path.join(dir, 'voice_end_call.js'), 'utf8'),
  };
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Instantiates a wasm + glue pair in Node (the glue's own loader) and uses a few exports. */
async function use(name, { wasm, glue }) {
  writeFileSync(path.join(dir, `${name}_bg.wasm`), wasm);
  writeFileSync(path.join(dir, `${name}.js`), glue);
  const lib = await import(pathToFileURL(path.join(dir, `${name}.js`)).href);
  await lib.default({ module_or_path: wasm });
  lib.configure({ baseUrl: 'https://api.example' });
  // The glue's exports return their error (js/index.js throws it; see src/api.rs).
  const error = lib.trackCall({ callId: 'call_1', endToken: 'token_1' }); // no window in Node
  return { kind: error?.kind, name: error?.name, relay: lib.relayRequest('call_1', 'token_1', 'https://api.example') };
}

test('the renamed pair instantiates in Node and behaves as the original', { skip }, async () => {
  const out = shortenImports(fresh.wasm, fresh.glue, MODULE);
  assert.ok(out.imports.size > 20, `${out.imports.size} imports renamed`);
  assert.ok(out.exports.size > 3, `${out.exports.size} exports renamed`);
  assert.ok(out.wasm.length < fresh.wasm.length);
  assert.ok(!/__wbg_\w+_[0-9a-f]{16}/.test(out.glue), 'no long import name left');
  assert.ok(!out.glue.includes(MODULE));
  // The snippets' own imports too: every import is from "a", and no snippet's namespace
  // object is handed over whole (a bundler can then drop those objects).
  assert.ok(out.imports.size < importModules(out.wasm).length, 'snippet imports are renamed too');
  assert.deepEqual([...new Set(importModules(out.wasm))], ['a']);
  assert.ok(!/^ +"\.\/snippets\/[^"]*": \w+,$/m.test(out.glue), 'no snippet namespace in the import object');
  // Under other names than wasm-bindgen's, so that each is a module of its own (the
  // snippets it imports are next to them).
  const original = await use('original', fresh);
  const renamed = await use('renamed', out);
  assert.deepEqual(renamed, original);
  assert.equal(renamed.kind, 'config', 'trackCall refused without a window: the EndCallError import works');
  assert.equal(renamed.name, 'EndCallError');
});

test('the shipped files meet the post-condition; an unrenamed or broken glue does not', { skip }, () => {
  const wasm = readFileSync(path.join(ROOT, 'dist/voice_end_call_bg.wasm'));
  const glue = readFileSync(path.join(ROOT, 'target/glue/voice_end_call.js'), 'utf8');
  assert.deepEqual(checkShortened(wasm, glue), []);
  // And in the module a page loads, where the glue is bundled with the entry.
  assert.deepEqual(checkShortened(wasm, readFileSync(path.join(ROOT, 'dist/index.js'), 'utf8')), []);
  assert.ok(checkShortened(fresh.wasm, fresh.glue).length > 20, 'the long names are found');
  // Before minifying, the glue's own functions named after exports are still there; the
  // minifier renames them (they are local), which is why the check runs on the final files.
  const out = shortenImports(fresh.wasm, fresh.glue, MODULE);
  assert.ok(checkShortened(out.wasm, out.glue).every((p) => /^wasm_bindgen__convert__closures/.test(p)));
  const minified = path.join(dir, 'minified.js');
  writeFileSync(minified, out.glue);
  execFileSync(process.execPath, ['scripts/minify-js.mjs', minified]);
  assert.deepEqual(checkShortened(out.wasm, readFileSync(minified, 'utf8')), []);
  const keyless = glue.replace(/([{,])b:function/, '$1zz:function');
  assert.notEqual(keyless, glue);
  assert.deepEqual(checkShortened(wasm, keyless), [
    'import b is 0 times a key in the glue, not once',
    'the glue provides zz, which the wasm does not import',
  ]);
});

test('fails, renaming nothing, on any glue shape it does not expect', { skip }, () => {
  const out = shortenImports(fresh.wasm, fresh.glue, MODULE);
  const [someImport] = out.imports.keys();
  const cases = {
    'an import name twice': fresh.glue.replace(`${someImport}:`, `${someImport}: ${someImport},\n${someImport}:`),
    'an import that is no key': fresh.glue.replace(new RegExp(`^(\\s*)${someImport}:`, 'm'), '$1renamedAway:'),
    'the module key twice': fresh.glue.replace(`"${MODULE}"`, `"${MODULE}": 1, "${MODULE}"`),
    'an export used another way': fresh.glue.replace('wasm.__wbindgen_malloc', 'wasm["__wbindgen_malloc"]'),
    'a snippet without its namespace import': fresh.glue.replace(/^import \* as \w+ from "\.\/snippets\/.*$/gm, ''),
  };
  for (const [what, glue] of Object.entries(cases)) {
    assert.notEqual(glue, fresh.glue, what);
    assert.throws(() => shortenImports(fresh.wasm, glue, MODULE), Error, what);
  }
  assert.throws(() => shortenImports(out.wasm, out.glue, MODULE), /no imports from|already imports/, 'twice');
});

test('as a script: a failure leaves both files as they were', { skip }, () => {
  const wasmPath = path.join(dir, 'bad_bg.wasm');
  const gluePath = path.join(dir, 'bad.js');
  const glue = fresh.glue.replace(`"${MODULE}"`, '"./bad_bg.js"').replace('wasm.__wbindgen_malloc', 'wasm["__wbindgen_malloc"]');
  writeFileSync(wasmPath, fresh.wasm);
  writeFileSync(gluePath, glue);
  const result = (() => {
    try {
      execFileSync(process.execPath, ['scripts/shorten-imports.mjs', wasmPath, gluePath], { stdio: 'pipe' });
      return 0;
    } catch (error) {
      return error.status;
    }
  })();
  assert.equal(result, 1);
  assert.ok(readFileSync(wasmPath).equals(fresh.wasm));
  assert.equal(readFileSync(gluePath, 'utf8'), glue);
});
