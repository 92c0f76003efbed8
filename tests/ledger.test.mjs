// The bench's size ledger (scripts/lib/ledger.mjs): how function names map to groups, and that
// the ledger of the built package accounts for every byte a page loads. No browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GROUP, brotliSize, groupOf, ledger } from '../scripts/lib/ledger.mjs';
import { withoutCustomSections } from '../scripts/lib/wasm.mjs';

const exports = new Set(['trackCall']);
const group = (name) => groupOf(name, 'voice_end_call', exports);

test('functions go to the crate module their name mentions, whatever the modules are called', () => {
  assert.equal(group('voice_end_call::tracker::track::h0edc7c16e80254b1'), 'voice_end_call::tracker');
  // A module that does not exist today (the tracker split up) needs no change.
  assert.equal(group('voice_end_call::leave_plan::send_all::h1'), 'voice_end_call::leave_plan');
  assert.equal(group('<voice_end_call::tracker::State as core::default::Default>::default::h1'), 'voice_end_call::tracker');
  // Drop glue and generic code named after a crate type count for that type's module.
  assert.equal(group('core::ptr::drop_in_place<voice_end_call::transport::Clock>::h1'), 'voice_end_call::transport');
  assert.equal(group('trackCall'), 'voice_end_call (export wrappers)');
});

test('everything else goes by the first crate its name mentions', () => {
  assert.equal(group('wasm_bindgen::convert::closures::_::invoke::h1'), GROUP.bindgen);
  assert.equal(group('__wbindgen_malloc'), GROUP.bindgen);
  assert.equal(group('<js_sys::Array as core::iter::traits::collect::Extend<A>>::extend::h1'), GROUP.bindings);
  assert.equal(group('web_sys::window::h1'), GROUP.bindings);
  assert.equal(group('<lol_alloc::free_list_allocator::FreeListAllocator<T> as core::alloc::global::GlobalAlloc>::alloc::h1'), GROUP.allocator);
  assert.equal(group('core::alloc::global::GlobalAlloc::realloc::h1'), GROUP.allocator);
  assert.equal(group('<core[c5930c85a12de822]::fmt::Formatter>::pad'), GROUP.core);
  assert.equal(group('alloc::vec::Vec<T,A>::retain_mut::h1'), GROUP.core);
  assert.equal(group('<str>::make_ascii_lowercase'), GROUP.core);
  assert.equal(group('memcmp'), GROUP.core);
  assert.equal(group(undefined), GROUP.unnamed);
});

const DIST = 'dist';
const NAMED = 'target/voice_end_call_bg.named.wasm';
const built = existsSync(path.join(DIST, 'voice_end_call_bg.wasm')) && existsSync(NAMED);

test('the ledger of the built package sums to exactly what a page loads', { skip: !built && 'no build (bash scripts/build.sh)' }, () => {
  const wasm = readFileSync(path.join(DIST, 'voice_end_call_bg.wasm'));
  const named = readFileSync(NAMED);
  assert.ok(withoutCustomSections(named, ['name']).equals(wasm), 'the named copy is the shipped module plus names');
  // The one JS file a page loads: the entry with the glue and snippets bundled in.
  const js = { 'index.js': readFileSync(path.join(DIST, 'index.js')) };
  const l = ledger({ wasm, named, crate: 'voice_end_call', js });
  const expected = brotliSize(wasm) + Object.values(js).reduce((sum, bytes) => sum + brotliSize(bytes), 0);
  assert.equal(l.total, expected);
  assert.equal(l.rows.reduce((sum, r) => sum + r.brotli, 0), expected);
  const wasmRows = l.rows.filter((r) => r.file === 'wasm');
  assert.equal(wasmRows.reduce((sum, r) => sum + r.raw, 0), wasm.length, 'every wasm byte is in one group');
  assert.equal(wasmRows.reduce((sum, r) => sum + r.leaveOneOut, 0), l.wasmBrotli);
  for (const part of ['core/alloc', GROUP.data, GROUP.imports, GROUP.bindgen]) {
    assert.ok(l.rows.some((r) => r.part === part), `a ${part} row`);
  }
  assert.ok(wasmRows.filter((r) => r.part.startsWith('voice_end_call::')).length >= 5, 'the crate is split by module');
  assert.ok(!l.rows.some((r) => r.part.startsWith('other: ')), `no unknown groups: ${l.rows.map((r) => r.part).join(', ')}`);
});
