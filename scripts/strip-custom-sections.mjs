// Removes custom sections from a wasm module in place, leaving every other byte as it is.
//
// Usage: node scripts/strip-custom-sections.mjs <module.wasm> <section name>...
// scripts/build.sh uses it on `target_features` before wasm-bindgen: the precompiled `core`
// lists reference-types and multivalue there even when the crate is built without them, and
// wasm-bindgen would then emit the externref/multivalue glue.
import { readFile, writeFile } from 'node:fs/promises';
import { sections, withoutCustomSections } from './lib/wasm.mjs';

const [file, ...names] = process.argv.slice(2);
if (!file || names.length === 0) {
  console.error('usage: node scripts/strip-custom-sections.mjs <module.wasm> <section name>...');
  process.exit(2);
}
const wasm = await readFile(file);
const present = sections(wasm).filter((s) => s.id === 0 && names.includes(s.name)).map((s) => s.name);
await writeFile(file, withoutCustomSections(wasm, names));
console.log(`strip-custom-sections: removed ${present.length ? present.join(', ') : 'nothing'} from ${file}`);
