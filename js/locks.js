// The library's storage IO: the offline outbox, and orphan recovery's Web Locks and records.
// src/outbox.rs and src/orphans.rs decide what is stored, recorded and sent, and validate what
// they read back (storage is shared with the whole origin); this file only holds locks, reads
// and writes, and waits. Every storage error (denied, full, corrupt JSON) is swallowed: both
// are a best effort on top of a best effort, and must never break a page.
//
// While a page tracks a call that no fetchLater holds, it holds the exclusive Web Lock named
// after the call's record key and keeps the record stored under that key. Other pages of the
// origin wait on the lock. The browser releases a lock when its page dies in any way (crash,
// kill, close), so a waiter is granted it exactly then; it finds the record still there only
// if the holder never deleted it, i.e. never ended or untracked the call itself. The lock is
// exclusive, so only one waiter at a time looks, and the first deletes the record before it
// sends: no two pages send the same end.

const PREFIX = 'voice-end-call:live:v1:';

// A page that deletes a record and then lets the lock go (or dies): another page may be
// granted the lock before the deletion reaches its view of localStorage. Measured: Firefox,
// two tabs of one origin, one reloading while the other waited — the waiter read the deleted
// record at once and sent a duplicate. So a waiter that finds a record looks again this much
// later, still holding the lock, and acts only if the record is still there.
const CONFIRM_AFTER_MS = 500;

function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // denied (sandboxed frame, privacy settings)
  }
}

function locks() {
  return globalThis.navigator?.locks ?? null;
}

function write(key, record) {
  try {
    storage()?.setItem(key, record);
  } catch {
    // Full or denied: this call is not recoverable, nothing else changes.
  }
}

function remove(key) {
  try {
    storage()?.removeItem(key);
  } catch {
    // Denied: nothing was stored either.
  }
}

// ---- Entries: the outbox's and the records' format, {callId, endToken, baseUrl, time} ----

/** An entry (`time`: when the page was left, or the record written, ms since the epoch). */
export function entry(callId, endToken, baseUrl, time) {
  return { callId, endToken, baseUrl, time };
}

/** An entry's fields [callId, endToken, baseUrl, time], unchecked (null: not readable). */
export function fields(value) {
  try {
    return [value.callId, value.endToken, value.baseUrl, value.time];
  } catch {
    return null;
  }
}

/** A record's fields (see `fields`), from its JSON text. */
export function recordFields(text) {
  try {
    return fields(JSON.parse(text));
  } catch {
    return null;
  }
}

// ---- The outbox: ends a page could not send as it was left, for the next init() ----

const OUTBOX = 'voice-end-call:outbox:v1';

// [storage or null, the stored entries ([] when none or unreadable)].
function outbox() {
  const store = storage();
  try {
    const list = JSON.parse(store?.getItem(OUTBOX) ?? '[]');
    return [store, Array.isArray(list) ? list : []];
  } catch {
    return [store, []];
  }
}

function writeOutbox(store, list) {
  try {
    if (list.length) store.setItem(OUTBOX, JSON.stringify(list));
    else store.removeItem(OUTBOX);
    return true;
  } catch {
    return false;
  }
}

/** Add entries, replacing stored ones of the same calls, in one write. Whether they are stored. */
export function outboxAdd(entries) {
  const [store, list] = outbox();
  const ids = entries.map((e) => e.callId);
  return !!store && writeOutbox(store, [...list.filter((e) => !ids.includes(e?.callId)), ...entries]);
}

/** Take every stored entry out (so another tab replaying at once does not send them too). */
export function outboxTake() {
  const [store, list] = outbox();
  return list.length && writeOutbox(store, []) ? list : [];
}

const read = (store, key) => {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
};

/** Whether this page can record calls for recovery (Web Locks and localStorage). */
function canGuard() {
  return Boolean(locks() && storage());
}

/** Delete the record of a call (its page is about to send the end). */
export function forget(callId) {
  remove(PREFIX + callId);
}

/**
 * Hold the lock of `key` and, once it is granted, keep `record` stored under `key`.
 * `release()` deletes the record and lets the lock go (a request still waiting is withdrawn).
 */
function guard(key, record) {
  const controller = new AbortController();
  let state = 'waiting'; // → 'held' → 'released'
  let letGo;
  locks()
    .request(key, { signal: controller.signal }, () => {
      if (state !== 'waiting') return undefined;
      state = 'held';
      write(key, record);
      return new Promise((resolve) => {
        letGo = resolve;
      });
    })
    .catch(() => {}); // withdrawn (AbortError) or refused: nothing is held
  return {
    update(next) {
      record = next;
      if (state === 'held') write(key, record);
    },
    release() {
      if (state === 'held') {
        remove(key);
        letGo();
      } else if (state === 'waiting') {
        controller.abort();
      }
      state = 'released';
    },
  };
}

// The calls this page guards: callId → {token, baseUrl, handle}.
const guarded = new Map();

/**
 * Guard exactly `calls`, [[callId, endToken, baseUrl], ...] (src/page.rs passes every armed
 * call that no fetchLater holds while recovery is on, after every change): a call no longer
 * listed is let go (its record deleted first), a new one is guarded, and one whose token or
 * base URL changed gets its record rewritten. Where the page cannot guard (no Web Locks or no
 * storage), or a call has no base URL to record, that call is not guarded.
 */
export function guardCalls(calls) {
  const listed = new Set(calls.map(([id]) => id));
  for (const [id, kept] of guarded) {
    if (!listed.has(id)) {
      guarded.delete(id);
      kept.handle.release();
    }
  }
  if (!canGuard()) return;
  for (const [id, token, baseUrl] of calls) {
    if (baseUrl === undefined) continue;
    const kept = guarded.get(id);
    const record = () => JSON.stringify(entry(id, token, baseUrl, Date.now()));
    if (!kept) {
      try {
        guarded.set(id, { token, baseUrl, handle: guard(PREFIX + id, record()) });
      } catch {
        // Not guarded: this call is not recoverable, nothing else changes.
      }
    } else if (kept.token !== token || kept.baseUrl !== baseUrl) {
      kept.token = token;
      kept.baseUrl = baseUrl;
      kept.handle.update(record());
    }
  }
}

const waitingOn = new Set();
let listening = false;

/**
 * Wait on the lock of every record stored now, and of every record another page stores from
 * now on. When one is granted with its record still there (twice, CONFIRM_AFTER_MS apart),
 * `onOrphan([callId, record])` decides: it leaves the record alone (this page tracks that call
 * itself, or recovery is off), or deletes the record and sends the end. Never throws (a host
 * page's patched locks or EventTarget may).
 */
export function watch(onOrphan) {
  try {
    watchOrphans(onOrphan);
  } catch {}
}

function watchOrphans(onOrphan) {
  const store = storage();
  if (!locks() || !store) return;
  const wait = (key) => {
    if (waitingOn.has(key)) return;
    waitingOn.add(key);
    locks()
      .request(key, async () => {
        waitingOn.delete(key);
        if (read(store, key) === null) return; // ended or untracked by its page
        await new Promise((resolve) => setTimeout(resolve, CONFIRM_AFTER_MS));
        const record = read(store, key);
        if (record === null) return; // its deletion was on its way
        try {
          onOrphan([key.slice(PREFIX.length), record]);
        } catch {}
      })
      .catch(() => waitingOn.delete(key));
  };
  try {
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (key !== null && key.startsWith(PREFIX)) wait(key);
    }
  } catch {}
  if (!listening && typeof addEventListener === 'function') {
    listening = true;
    // Fires in the other pages of the origin when one stores a record.
    addEventListener('storage', (event) => {
      if (event.key?.startsWith(PREFIX) && event.newValue !== null) wait(event.key);
    });
  }
}
