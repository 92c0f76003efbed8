// Renames the wasm's imports from the wasm-bindgen glue (`__wbg_fetch_1a2b3c4d5e6f7a8b` and
// the like, ~45 bytes each, with incompressible hashes) to short names (`a`, `b`, …), in the
// wasm's import section and in the glue's import object alike; the module they come from
// (`./<name>_bg.js`, repeated per import) to `a`; and the glue-only exports
// (`wasm_bindgen__convert__closures_____invoke__<hash>`, `__wbindgen_malloc`, …) to `_a`,
// `_b`, … in the export section and every `wasm.<export>` of the glue. The public functions
// (configure, endCall, …) keep their names. 2.2 KB less, brotli, all together (docs/size.md).
//
// Usage: node scripts/shorten-imports.mjs dist/voice_end_call_bg.wasm dist/voice_end_call.js
// Run on the glue as wasm-bindgen wrote it (before minifying). Fails loudly, changing
// nothing, if an import name does not appear exactly once in the glue (as a key of its import
// object), the module name not exactly once, a short export name is taken, or if afterwards
// an old import name or module is still in the glue, an old export name still used, or an
// import has no key in the glue's import object.
//   node scripts/shorten-imports.mjs --check <wasm> <glue>: the post-condition on the final,
// minified files (scripts/wasm-pipeline.sh runs it): no wasm-bindgen import or export name is
// left in the glue at all, and every import of the wasm has its key there.
// Tests: tests/shorten-imports.test.mjs.
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { name, readName, readU32, sections as sectionsOf, skipImportDesc, u32 } from './lib/wasm.mjs';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const shortName = (n) => {
  let out = '';
  for (let k = n; ; k = Math.floor(k / ALPHABET.length) - 1) {
    out = ALPHABET[k % ALPHABET.length] + out;
    if (k < ALPHABET.length) return out;
  }
};

const SHORT_MODULE = 'a';
// Exports only the glue uses (wasm-bindgen's runtime and closure trampolines).
const INTERNAL_EXPORT = /^(wasm_bindgen__|__wbindgen_|__externref_)/;
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const count = (text, part) => text.split(part).length - 1;

/**
 * The renamed pair: `{ wasm, glue, imports, exports }` (the last two: Maps old name → new).
 * `glueModule` is the module name the glue provides its imports under ("./<name>_bg.js").
 * Throws, returning nothing, if the glue is not shaped as expected or the post-condition fails.
 */
export function shortenImports(wasm, glue, glueModule) {
  if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm module');
  const renamed = new Map();
  // Imports straight from a JS snippet (`offline` of js/beacon.js: no glue shim), which the glue
  // passes as the snippet's whole namespace object: `module\0field` → short name.
  const direct = new Map();
  const renamedExports = new Map();
  const keptExports = new Set();
  const shortImports = [];
  const sections = [wasm.subarray(0, 8)];
  const at = { pos: 8 };
  while (at.pos < wasm.length) {
    const id = wasm[at.pos++];
    const size = readU32(wasm, at);
    const body = wasm.subarray(at.pos, at.pos + size);
    at.pos += size;
    if (id === 7) {
      const inner = { pos: 0 };
      const n = readU32(body, inner);
      const entries = [u32(n)];
      for (let i = 0; i < n; i++) {
        const field = readName(body, inner);
        const descStart = inner.pos;
        inner.pos++; // kind
        readU32(body, inner); // index
        let newField = field;
        if (INTERNAL_EXPORT.test(field)) {
          newField = `_${shortName(renamedExports.size)}`;
          renamedExports.set(field, newField);
        } else keptExports.add(field);
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
    const n = readU32(body, inner);
    const entries = [u32(n)];
    for (let i = 0; i < n; i++) {
      const module = readName(body, inner);
      const field = readName(body, inner);
      const descStart = inner.pos;
      skipImportDesc(body, inner);
      let newField = field;
      let newModule = module;
      if (module === glueModule) {
        if (!renamed.has(field)) renamed.set(field, shortName(renamed.size + direct.size));
        newField = renamed.get(field);
        newModule = SHORT_MODULE;
        shortImports.push(newField);
      } else if (module === SHORT_MODULE) {
        throw new Error(`the wasm already imports from "${SHORT_MODULE}" (shortened twice?)`);
      } else {
        const key = `${module}\0${field}`;
        if (!direct.has(key)) direct.set(key, shortName(renamed.size + direct.size));
        newField = direct.get(key);
        newModule = SHORT_MODULE;
        shortImports.push(newField);
      }
      entries.push(name(newModule), name(newField), body.subarray(descStart, inner.pos));
    }
    const imports = Buffer.concat(entries);
    sections.push(Buffer.from([2]), u32(imports.length), imports);
  }
  if (renamed.size === 0) throw new Error(`no imports from ${glueModule}`);

  for (const [field, short] of renamed) {
    // Keys of the glue's import object: `        <field>: function(` at the start of a line.
    const key = new RegExp(`^(\\s*)${escape(field)}(\\s*:)`, 'm');
    if (count(glue, field) !== 1 || !key.test(glue)) {
      throw new Error(`import ${field} is not exactly one key of the glue's import object`);
    }
    glue = glue.replace(key, `$1${short}$2`);
  }

  // The snippets' imports join the import object as functions calling the snippet's export
  // (`        <short>: function(...args) { return import1.offline(...args); },`), and the
  // snippets' own keys (`        "./snippets/…/beacon.js": import1,`) go: the namespace
  // objects are then only read by property, so a bundler drops them (0.25 KB brotli).
  const namespaces = new Map(
    [...glue.matchAll(/^import \* as (\w+) from (".*")$/gm)].map(([, binding, module]) => [JSON.parse(module), binding]),
  );
  const added = [];
  for (const [key, short] of direct) {
    const [module, field] = key.split('\0');
    const binding = namespaces.get(module);
    if (!binding || !/^[A-Za-z_$][\w$]*$/.test(field)) {
      throw new Error(`import ${field} of ${module}: no namespace import of its module in the glue`);
    }
    added.push(`        ${short}: function(...args) { return ${binding}.${field}(...args); },\n`);
  }
  for (const module of namespaces.keys()) {
    const entry = new RegExp(`^ +${escape(JSON.stringify(module))}: \\w+,\\n`, 'gm');
    if (!entry.test(glue)) throw new Error(`${module} is not a key of the glue's import object`);
    glue = glue.replace(entry, '');
  }
  const end = '\n    };\n    return {\n';
  if (count(glue, end) !== 1) throw new Error("the end of the glue's import object is not where expected");
  glue = glue.replace(end, `\n${added.join('')}    };\n    return {\n`);

  // The import object's key: `"./<name>_bg.js": import0,`.
  const moduleKey = JSON.stringify(glueModule);
  if (count(glue, moduleKey) !== 1) throw new Error(`${moduleKey} is not exactly once in the glue`);
  glue = glue.replace(moduleKey, JSON.stringify(SHORT_MODULE));

  for (const [field, short] of renamedExports) {
    if (keptExports.has(short)) throw new Error(`the short export name ${short} is taken`);
    glue = glue.replace(new RegExp(`\\bwasm\\.${escape(field)}\\b`, 'g'), `wasm.${short}`);
  }

  // Post-condition: no old import name or module is left in the glue, no old export name as a
  // property or string (the glue's own functions of the same names are local, and minified
  // away: checkShortened looks again at the minified glue), and every import has its one key.
  for (const old of [...renamed.keys(), glueModule]) {
    if (glue.includes(old)) throw new Error(`${old} is still in the glue after renaming`);
  }
  for (const old of renamedExports.keys()) {
    if (new RegExp(`\\.${escape(old)}\\b|['"\`]${escape(old)}['"\`]`).test(glue)) {
      throw new Error(`export ${old} is still used in the glue after renaming`);
    }
  }
  for (const short of shortImports) {
    if ((glue.match(new RegExp(`^\\s*${short}\\s*:`, 'gm')) ?? []).length !== 1) {
      throw new Error(`import ${short} is not exactly one key of the renamed glue`);
    }
  }
  return { wasm: Buffer.concat(sections), glue, imports: renamed, exports: renamedExports };
}

// What wasm-bindgen's import and export names look like; none is left in a shortened, minified
// glue (its own functions named after exports are local, so minified to short names).
const WASM_BINDGEN_NAMES = /__wbg_\w+_[0-9a-f]{16}|wasm_bindgen__\w+|__wbindgen_\w+|__externref_\w+|\w+_bg\.js/g;

/**
 * The build's post-condition on the final files (the glue minified): no wasm-bindgen import or
 * export name left in the glue, every import of the wasm from "a" a key in the glue, and every
 * other import module (JS snippets) named there. Returns the problems found (none: all is well).
 */
export function checkShortened(wasm, glue) {
  const problems = [];
  for (const left of new Set(glue.match(WASM_BINDGEN_NAMES) ?? [])) problems.push(`${left} is still in the glue`);
  // The keys of the glue's import object: `name: function(` (minified `,name:function(`).
  // Nothing else in the glue is written so; the two lists must match exactly.
  const keys = [...glue.matchAll(/[{,]\s*([A-Za-z_$][\w$]*)\s*:\s*function\s*\(/g)].map((m) => m[1]);
  const fields = [];
  const section = sectionsOf(wasm).find((x) => x.id === 2);
  const at = { pos: 0 };
  const n = section ? readU32(section.body, at) : 0;
  for (let i = 0; i < n; i++) {
    const module = readName(section.body, at);
    const field = readName(section.body, at);
    skipImportDesc(section.body, at);
    // Imports from JS snippets come from their module's namespace object, unrenamed.
    if (module === SHORT_MODULE) fields.push(field);
    else if (!glue.includes(JSON.stringify(module))) problems.push(`import ${field}: module "${module}" is not in the glue`);
  }
  if (fields.length === 0) problems.push(`the wasm imports nothing from "${SHORT_MODULE}"`);
  for (const field of new Set(fields)) {
    const times = keys.filter((key) => key === field).length;
    if (times !== 1) problems.push(`import ${field} is ${times} times a key in the glue, not once`);
  }
  for (const key of new Set(keys)) if (!fields.includes(key)) problems.push(`the glue provides ${key}, which the wasm does not import`);
  return problems;
}

// As a script: rename the files in place, or fail changing nothing; with --check, only check.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--check') {
    const [wasmPath, gluePath] = process.argv.slice(3);
    const problems = checkShortened(await readFile(wasmPath), await readFile(gluePath, 'utf8'));
    if (problems.length) {
      console.error(`shorten-imports --check: ${wasmPath} and ${gluePath}:\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log('shorten-imports --check: no wasm-bindgen name left in the glue; every import has its key');
    process.exit(0);
  }
  const [wasmPath, gluePath] = process.argv.slice(2);
  if (!wasmPath || !gluePath) {
    console.error('usage: node scripts/shorten-imports.mjs <module_bg.wasm> <glue.js>');
    process.exit(2);
  }
  // The module name the glue provides its imports under (web target: "./<name>_bg.js").
  const glueModule = `./${basename(gluePath, '.js')}_bg.js`;
  let out;
  try {
    out = shortenImports(await readFile(wasmPath), await readFile(gluePath, 'utf8'), glueModule);
  } catch (error) {
    console.error(`shorten-imports: ${error.message} (${wasmPath}, ${gluePath}): not renaming anything`);
    process.exit(1);
  }
  await writeFile(wasmPath, out.wasm);
  await writeFile(gluePath, out.glue);
  console.log(
    `shorten-imports: ${out.imports.size} imports, their module and ${out.exports.size} glue-only exports renamed`,
  );
}
