// The size ledger: what each part of the package costs of everything a page loads, in brotli
// bytes, the rows summing exactly to the shipped total (scripts/bench.mjs prints it).
//
// Method (docs/size.md, "The ledger"):
//   - JS: every file a page loads is compressed on its own, as a server sends it, so each JS
//     file's row is its exact brotli size.
//   - wasm: every byte of the shipped module is given to one group. Function bodies go by the
//     function's demangled name, which scripts/wasm-pipeline.sh keeps in a second copy of the
//     very same module (<lib>_bg.named.wasm; checked byte for byte against the shipped one):
//     `<crate>::<module>::…` anywhere in the name → that module (so drop glue and generic
//     code instantiated for a module's types count for the module), else the first crate named:
//     wasm_bindgen, js_sys/web_sys, the allocator (lol_alloc, GlobalAlloc), core/alloc. The
//     other sections go whole: imports, data (string constants and statics), and the module's
//     structure (types, function/table/element indices, exports, header).
//   - The module is compressed as one stream, so a group's share is an estimate: each group's
//     bytes are compressed alone and the shipped wasm's brotli size is split in proportion to
//     those sizes. As a check, each group is also left out of the module once ("leave-one-out":
//     how much smaller the rest compresses) and those savings are scaled the same way; the
//     difference between the two estimates is the stated error of each row.
//
// Groups come from whatever module paths the names hold: renaming or splitting a module needs
// no change here.
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { readName, readU32, sections, skipImportDesc, withoutCustomSections } from './wasm.mjs';

export function brotliSize(buffer) {
  return brotliCompressSync(buffer, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: zlibConstants.BROTLI_MAX_QUALITY,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: buffer.length,
    },
  }).length;
}

/** Function index → name, from the module's `name` custom section. */
function functionNames(wasm) {
  const names = new Map();
  const section = sections(wasm).find((s) => s.id === 0 && s.name === 'name');
  if (!section) throw new Error('the module has no name section');
  const at = { pos: 0 };
  readName(section.body, at); // "name"
  while (at.pos < section.body.length) {
    const id = section.body[at.pos++];
    const size = readU32(section.body, at);
    const end = at.pos + size;
    if (id === 1) {
      const count = readU32(section.body, at);
      for (let i = 0; i < count; i++) {
        const index = readU32(section.body, at);
        names.set(index, readName(section.body, at));
      }
    }
    at.pos = end;
  }
  return names;
}

function importedFunctionCount(section) {
  const at = { pos: 0 };
  const count = readU32(section.body, at);
  let functions = 0;
  for (let i = 0; i < count; i++) {
    readName(section.body, at);
    readName(section.body, at);
    if (skipImportDesc(section.body, at) === 0) functions++;
  }
  return functions;
}

function exportedFunctionNames(section) {
  const names = new Set();
  if (!section) return names;
  const at = { pos: 0 };
  const count = readU32(section.body, at);
  for (let i = 0; i < count; i++) {
    const field = readName(section.body, at);
    const kind = section.body[at.pos++];
    readU32(section.body, at);
    if (kind === 0) names.add(field);
  }
  return names;
}

export const GROUP = {
  bindgen: 'wasm-bindgen runtime',
  bindings: 'js-sys/web-sys bindings',
  allocator: 'allocator (lol_alloc)',
  core: 'core/alloc',
  unnamed: 'functions without a name (made by wasm-bindgen or wasm-opt)',
  imports: 'import section',
  data: 'data (strings, statics)',
  structure: 'module structure (types, indices, exports)',
};

/** The group of a function, by its demangled name. */
export function groupOf(name, crate, exports) {
  if (!name) return GROUP.unnamed;
  const own = name.match(new RegExp(`\\b${crate}(?:\\[[0-9a-f]+\\])?::([A-Za-z_][A-Za-z0-9_]*)`));
  if (own) return `${crate}::${own[1]}`;
  // The #[wasm_bindgen] wrappers of the exported functions are named after the export.
  if (exports.has(name)) return `${crate} (export wrappers)`;
  if (/^__wbindgen_|^__wbg_/.test(name)) return GROUP.bindgen;
  if (/GlobalAlloc|^__rust_(alloc|dealloc|realloc|alloc_zeroed)$|^__rdl_|^__rg_/.test(name)) return GROUP.allocator;
  if (/^(memcpy|memmove|memset|memcmp|bcmp)$/.test(name)) return GROUP.core;
  // Methods of primitive types (`<str>::…`, `<[T]>::…`, `<u32 as …>::…`).
  if (/^<&?(?:mut )?(?:str|\[|[iu](?:8|16|32|64|128|size)\b|f32|f64|bool|char)/.test(name)) return GROUP.core;
  const first = name.match(/([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::/)?.[1];
  if (first === 'wasm_bindgen') return GROUP.bindgen;
  if (first === 'js_sys' || first === 'web_sys') return GROUP.bindings;
  if (first === 'lol_alloc' || first === 'spin' || first === 'lock_api') return GROUP.allocator;
  if (['core', 'alloc', 'std', 'compiler_builtins', '__rustc'].includes(first)) return GROUP.core;
  return first ? `other: ${first}` : `other: ${name.slice(0, 40)}`;
}

/**
 * Which bytes of `wasm` belong to which group: Map group → {raw, pieces: [[start, end]],
 * functions}. `named` is the same module with its name section.
 */
export function wasmGroups(wasm, named, crate) {
  if (!withoutCustomSections(named, ['name']).equals(wasm)) {
    throw new Error('the named copy is not the shipped module plus names: build again (scripts/build.sh)');
  }
  const names = functionNames(named);
  const all = sections(wasm);
  const imports = all.find((s) => s.id === 2);
  const firstFunction = imports ? importedFunctionCount(imports) : 0;
  const exports = exportedFunctionNames(all.find((s) => s.id === 7));
  const groups = new Map();
  const add = (group, start, end, isFunction = false) => {
    if (end <= start) return;
    const g = groups.get(group) ?? { raw: 0, pieces: [], functions: 0 };
    g.raw += end - start;
    g.pieces.push([start, end]);
    if (isFunction) g.functions++;
    groups.set(group, g);
  };
  add(GROUP.structure, 0, 8);
  for (const s of all) {
    if (s.id === 2) add(GROUP.imports, s.start, s.end);
    else if (s.id === 11 || s.id === 12) add(GROUP.data, s.start, s.end);
    else if (s.id === 0) add(`custom section ${s.name}`, s.start, s.end);
    else if (s.id !== 10) add(GROUP.structure, s.start, s.end);
    else {
      const bodyStart = s.end - s.body.length;
      const at = { pos: 0 };
      const count = readU32(s.body, at);
      add(GROUP.structure, s.start, bodyStart + at.pos);
      for (let i = 0; i < count; i++) {
        const start = at.pos;
        const size = readU32(s.body, at);
        at.pos += size;
        add(groupOf(names.get(firstFunction + i), crate, exports), bodyStart + start, bodyStart + at.pos, true);
      }
    }
  }
  return groups;
}

/** Splits `total` in proportion to `weights` (integers summing exactly to `total`). */
function apportion(total, weights) {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0; k++, left--) out[order[k % order.length][1]]++;
  return out;
}

/**
 * The ledger. `wasm` and `named`: the shipped module and its named copy; `js`: {label: bytes}
 * of every JS file a page loads. Rows are sorted by cost; `total` equals the sum of the shipped
 * files' brotli sizes.
 */
export function ledger({ wasm, named, crate, js }) {
  const groups = wasmGroups(wasm, named, crate);
  const wasmBrotli = brotliSize(wasm);
  const entries = [...groups.entries()];
  const bytesOf = (pieces) => Buffer.concat(pieces.map(([a, b]) => wasm.subarray(a, b)));
  const alone = entries.map(([, g]) => brotliSize(bytesOf(g.pieces)));
  const saved = entries.map(([, g]) => {
    const inGroup = new Set(g.pieces.map(([a]) => a));
    const rest = [];
    for (const [, other] of entries) for (const p of other.pieces) if (!inGroup.has(p[0])) rest.push(p);
    rest.sort((a, b) => a[0] - b[0]);
    return Math.max(0, wasmBrotli - brotliSize(bytesOf(rest)));
  });
  const attributed = apportion(wasmBrotli, alone);
  const leaveOneOut = apportion(wasmBrotli, saved);
  const rows = entries.map(([group, g], i) => ({
    part: group,
    file: 'wasm',
    raw: g.raw,
    functions: g.functions,
    brotli: attributed[i],
    leaveOneOut: leaveOneOut[i],
    error: Math.abs(leaveOneOut[i] - attributed[i]),
  }));
  rows.sort((a, b) => b.brotli - a.brotli);
  const jsRows = Object.entries(js).map(([label, bytes]) => ({
    part: `JS: ${label}`,
    file: label,
    raw: bytes.length,
    functions: null,
    brotli: brotliSize(bytes),
    leaveOneOut: null,
    error: 0,
  }));
  jsRows.sort((a, b) => b.brotli - a.brotli);
  const all = [...rows, ...jsRows];
  const total = all.reduce((sum, r) => sum + r.brotli, 0);
  return {
    wasmBrotli,
    total,
    rows: all,
    // Bytes that would move between wasm rows if the leave-one-out estimate were used instead.
    movedBetweenEstimates: Math.round(rows.reduce((sum, r) => sum + r.error, 0) / 2),
  };
}
