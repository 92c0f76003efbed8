// Minifies the wasm-bindgen glue in place (about 1.4 KB less, brotli). Export names are
// kept (module: true mangles only locals), so the JS entry's imports still resolve.
import { readFile, writeFile } from 'node:fs/promises';
import { minify } from 'terser';

const file = process.argv[2];
const result = await minify(await readFile(file, 'utf8'), {
  module: true,
  compress: { passes: 2 },
  mangle: true,
  format: { comments: false },
});
await writeFile(file, result.code);
