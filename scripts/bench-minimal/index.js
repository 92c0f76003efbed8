// The minimal module's entry: loads its wasm as js/index.js loads the package's by default (a
// fetch of the file next to this module, compiled while it streams).
import initWasm, { arm } from './bench_minimal.js';

export { arm };

export default function init() {
  return initWasm({ module_or_path: fetch(new URL('./bench_minimal_bg.wasm', import.meta.url)) });
}
