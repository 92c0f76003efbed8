// Orphan recovery's IO: Web Locks and localStorage. src/orphans.rs decides what is recorded
// and what is sent; this file only holds locks, writes and reads records, and waits.
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

const read = (store, key) => {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
};

/** Whether this page can record calls for recovery (Web Locks and localStorage). */
export function canGuard() {
  return Boolean(locks() && storage());
}

/** The record key of a call. */
export function recordKey(callId) {
  return PREFIX + callId;
}

/**
 * Hold the lock of `key` and, once it is granted, keep `record` stored under `key`.
 * `release()` deletes the record and lets the lock go (a request still waiting is withdrawn).
 */
export function guard(key, record) {
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

const waitingOn = new Set();
let listening = false;

/**
 * Wait on the lock of every record stored now, and of every record another page stores from
 * now on. When one is granted with its record still there (twice, CONFIRM_AFTER_MS apart),
 * `onOrphan(callId, record)` decides: it leaves the record alone (this page tracks that call
 * itself, or recovery is off), or deletes the record and sends the end.
 */
export function watch(onOrphan) {
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
          onOrphan(key.slice(PREFIX.length), record);
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
