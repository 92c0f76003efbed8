// Reading and rewriting a wasm module's sections (the core spec's binary format), for the
// build's post-processing (scripts/strip-custom-sections.mjs, scripts/shorten-imports.mjs)
// and the bench's size ledger (scripts/lib/ledger.mjs).

/** Reads an unsigned LEB128 at `at.pos` and advances it. */
export function readU32(buf, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[at.pos++];
    if (byte === undefined) throw new Error('truncated LEB128');
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return value;
    shift += 7;
  }
}

/** The unsigned LEB128 encoding of `value`. */
export function u32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
}

/** Reads a length-prefixed UTF-8 name at `at.pos` and advances it. */
export function readName(buf, at) {
  const length = readU32(buf, at);
  const name = buf.subarray(at.pos, at.pos + length).toString('utf8');
  at.pos += length;
  return name;
}

/** A length-prefixed UTF-8 name. */
export function name(text) {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

/** Skips an import's description (kind byte + type) at `at.pos`; returns the kind (0: func). */
export function skipImportDesc(buf, at) {
  const kind = buf[at.pos++];
  const limits = () => {
    const flags = buf[at.pos++];
    readU32(buf, at);
    if (flags & 1) readU32(buf, at);
  };
  if (kind === 0) readU32(buf, at); // func: type index
  else if (kind === 1) {
    at.pos++; // table: reftype + limits
    limits();
  } else if (kind === 2) limits(); // memory
  else if (kind === 3) at.pos += 2; // global: valtype + mutability
  else if (kind === 4) {
    at.pos++; // tag: attribute + type index
    readU32(buf, at);
  } else throw new Error(`unknown import kind ${kind}`);
  return kind;
}

/**
 * The module's sections in order: `{ id, name, start, end, body }`, where `start`..`end` is
 * the whole section (id byte, size, body) in `wasm`, `body` its contents and `name` a custom
 * section's name (null for the others).
 */
export function sections(wasm) {
  if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error('not a wasm module');
  const out = [];
  const at = { pos: 8 };
  while (at.pos < wasm.length) {
    const start = at.pos;
    const id = wasm[at.pos++];
    const size = readU32(wasm, at);
    const body = wasm.subarray(at.pos, at.pos + size);
    if (body.length !== size) throw new Error('truncated section');
    at.pos += size;
    out.push({ id, name: id === 0 ? readName(body, { pos: 0 }) : null, start, end: at.pos, body });
  }
  return out;
}

/** A section as bytes: id, size, body. */
export function section(id, body) {
  return Buffer.concat([Buffer.from([id]), u32(body.length), body]);
}

/** The module without the custom sections named in `names`. */
export function withoutCustomSections(wasm, names) {
  const kept = sections(wasm).filter((s) => !(s.id === 0 && names.includes(s.name)));
  return Buffer.concat([wasm.subarray(0, 8), ...kept.map((s) => wasm.subarray(s.start, s.end))]);
}
