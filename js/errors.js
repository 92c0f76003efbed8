// The error class shared by the JS wrapper and the wasm module (imported by both, so that
// `instanceof EndCallError` holds whichever side made the error).

/** Every failure of voice-end-call is an EndCallError; `kind` says which. */
export class EndCallError extends Error {
  /**
   * @param {string} kind one of the documented kinds
   * @param {string} message what happened and what to do
   * @param {{status?: number, detail?: unknown[], cause?: unknown}} [extra]
   */
  constructor(kind, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'EndCallError';
    this.kind = kind;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.detail !== undefined) this.detail = extra.detail;
  }
}

// Positional factory for the Rust side (cheaper to call from wasm than building an object).
export function createError(kind, message, status, detail, cause) {
  return new EndCallError(kind, message, { status, detail, cause });
}
