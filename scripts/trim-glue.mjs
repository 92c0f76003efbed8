// Cuts from the wasm-bindgen glue what js/index.js never uses, before it is minified:
//   - `initSync` (the entry only loads asynchronously): no longer exported, so the minifier
//     drops it as dead code;
//   - the warning for the deprecated way of calling the init function (a bare path instead of
//     `{ module_or_path }`): js/index.js always passes the object.
// About 0.1 KB less, brotli. Each edit must match exactly once, or the script fails loudly,
// changing nothing (a new wasm-bindgen that words its glue differently: update the patterns).
//
// Usage: node scripts/trim-glue.mjs dist/voice_end_call.js
import { readFile, writeFile } from 'node:fs/promises';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/trim-glue.mjs <glue.js>');
  process.exit(2);
}

const EDITS = [
  {
    what: 'the initSync export',
    find: /^export \{ initSync, (__wbg_init as default) \};$/m,
    replace: 'export { $1 };',
  },
  {
    what: "the init function's deprecated-parameters warning",
    find: /if \(module_or_path !== undefined\) \{\s*if \(Object\.getPrototypeOf\(module_or_path\) === Object\.prototype\) \{\s*\(\{module_or_path\} = module_or_path\)\s*\} else \{\s*console\.warn\('using deprecated parameters for the initialization function; pass a single object instead'\)\s*\}\s*\}/,
    replace: 'if (module_or_path !== undefined) ({ module_or_path } = module_or_path);',
  },
];

let glue = await readFile(file, 'utf8');
for (const { what, find, replace } of EDITS) {
  const count = glue.match(new RegExp(find.source, `${find.flags}g`))?.length ?? 0;
  if (count !== 1) throw new Error(`trim-glue: ${what} found ${count} times in ${file} (expected once): not trimming anything`);
  glue = glue.replace(find, replace);
}
await writeFile(file, glue);
console.log(`trim-glue: ${EDITS.map((e) => e.what).join('; ')} removed`);
