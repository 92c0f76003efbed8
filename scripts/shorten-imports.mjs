// Renames the wasm's imports from the wasm-bindgen glue (`__wbg_fetch_1a2b3c4d5e6f7a8b` and
// the like, ~45 bytes each, with incompressible hashes) to short names (`a`, `b`, …), in the
// wasm's import section and in the glue's import object alike; the module they come from
// (`./<name>_bg.js`, repeated per import) to `a`; and the glue-only exports
// (`wasm_bindgen__convert__closures_____invoke__<hash>`, `__wbindgen_malloc`, …) to `_a`,
// `_b`, … in the export section and every `wasm.<export>` of the glue. The public functions
// (configure, endCall, …) keep their names. About 2 KB less, brotli, all together.
//
// Usage: node scripts/shorten-imports.mjs dist/voice_end_call_bg.wasm dist/voice_end_call.js
// Run on the glue as wasm-bindgen wrote it (before minifying). Fails loudly, changing
// nothing, if an import name does not appear exactly once as a key in the glue, the module
// name not exactly once, or a renamed export nowhere as `wasm.<export>`.
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { name, readName, readU32, skipImportDesc, u32 } from './lib/wasm.mjs';

const [wasmPath, gluePath] = process.argv.slice(2);
if (!wasmPath || !gluePath) {
  console.error('usage: node scripts/shorten-imports.mjs <module_bg.wasm> <glue.js>');
  process.exit(2);
}
// The module name the glue provides its imports under (web target: "./<name>_bg.js").
const glueModule = `./${basename(gluePath, '.js')}_bg.js`;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const shortName = (n) => {
  let out = '';
  for (let k = n; ; k = Math.floor(k / ALPHABET.length) - 1) {
    out = ALPHABET[k % ALPHABET.length] + out;
    if (k < ALPHABET.length) return out;
  }
};

const wasm = await readFile(wasmPath);
let glue = await readFile(gluePath, 'utf8');
if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath} is not a wasm module`);

const SHORT_MODULE = 'a';
// Exports only the glue uses (wasm-bindgen's runtime and closure trampolines).
const INTERNAL_EXPORT = /^(wasm_bindgen__|__wbindgen_|__externref_)/;
const renamed = new Map();
const renamedExports = new Map();
const sections = [wasm.subarray(0, 8)];
const at = { pos: 8 };
while (at.pos < wasm.length) {
  const id = wasm[at.pos++];
  const size = readU32(wasm, at);
  const body = wasm.subarray(at.pos, at.pos + size);
  at.pos += size;
  if (id === 7) {
    const inner = { pos: 0 };
    const count = readU32(body, inner);
    const entries = [u32(count)];
    for (let i = 0; i < count; i++) {
      const field = readName(body, inner);
      const descStart = inner.pos;
      inner.pos++; // kind
      readU32(body, inner); // index
      let newField = field;
      if (INTERNAL_EXPORT.test(field)) {
        newField = `_${shortName(renamedExports.size)}`;
        renamedExports.set(field, newField);
      }
      entries.push(name(newField), body.subarray(descStart, inner.pos));
    }
    const exports = Buffer.concat(entries);
    sections.push(Buffer.from([7]), u32(exports.length), exports);
    continue;
  }
  if (id !== 2) {
    sections.push(Buffer.from([id]), u32(size), body);
    continue;
  }
  const inner = { pos: 0 };
  const count = readU32(body, inner);
  const entries = [u32(count)];
  for (let i = 0; i < count; i++) {
    const module = readName(body, inner);
    const field = readName(body, inner);
    const descStart = inner.pos;
    skipImportDesc(body, inner);
    let newField = field;
    let newModule = module;
    if (module === glueModule) {
      if (!renamed.has(field)) renamed.set(field, shortName(renamed.size));
      newField = renamed.get(field);
      newModule = SHORT_MODULE;
    }
    entries.push(name(newModule), name(newField), body.subarray(descStart, inner.pos));
  }
  const imports = Buffer.concat(entries);
  sections.push(Buffer.from([2]), u32(imports.length), imports);
}
if (renamed.size === 0) throw new Error(`no imports from ${glueModule} in ${wasmPath}`);

for (const [field, short] of renamed) {
  // Keys of the glue's import object: `        <field>: function(` at the start of a line.
  const key = new RegExp(`^(\\s*)${field}(\\s*:)`, 'm');
  if (glue.split(field).length !== 2 || !key.test(glue)) {
    throw new Error(`import ${field} is not exactly one key of ${gluePath}: not renaming anything`);
  }
  glue = glue.replace(key, `$1${short}$2`);
}

// The import object's key: `"./<name>_bg.js": import0,`.
const moduleKey = JSON.stringify(glueModule);
if (glue.split(moduleKey).length !== 2) {
  throw new Error(`${moduleKey} is not exactly once in ${gluePath}: not renaming anything`);
}
glue = glue.replace(moduleKey, JSON.stringify(SHORT_MODULE));

for (const [field, short] of renamedExports) {
  const use = new RegExp(`\\bwasm\\.${field}\\b`, 'g');
  if (!use.test(glue)) {
    throw new Error(`export ${field} is not used as wasm.${field} in ${gluePath}: not renaming anything`);
  }
  glue = glue.replace(use, `wasm.${short}`);
}

await writeFile(wasmPath, Buffer.concat(sections));
await writeFile(gluePath, glue);
console.log(
  `shorten-imports: ${renamed.size} imports, their module and ${renamedExports.size} glue-only exports renamed`,
);
