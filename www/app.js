// Demo page: the real flow of an app using voice-end-call.
import init, { configure, trackCall, endCall, untrackCall, trackedCalls, onCallEnded, EndCallError } from '/dist/index.js';

const $ = (id) => document.getElementById(id);
const STARTED = 'voice-end-call-demo:started'; // demo-only memory across reloads
const PATHS = 'voice-end-call-demo:paths'; // how each call was handed off when the page was left

function notePath(id, path) {
  const paths = JSON.parse(sessionStorage.getItem(PATHS) || '{}');
  paths[id] = path;
  sessionStorage.setItem(PATHS, JSON.stringify(paths));
}

// Registered before any call is tracked, so it runs before the library's own pagehide
// listener and still sees the tracked calls: record which path will end them.
addEventListener('pagehide', (event) => {
  if (typeof trackedCalls !== 'function') return;
  let ids = [];
  try {
    ids = trackedCalls();
  } catch {
    return; // not initialized yet
  }
  const deferred = typeof window.fetchLater === 'function' && !event.persisted;
  for (const id of ids) notePath(id, deferred ? 'deferred (fetchLater, sent by the browser)' : 'pagehide (keepalive fetch)');
});

function log(text, bad = false) {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  item.append(time, text);
  if (bad) item.className = 'bad';
  $('timeline').prepend(item);
}

function describe(error) {
  if (!(error instanceof EndCallError)) return String(error);
  const extra = error.status ? ` (HTTP ${error.status})` : '';
  return `EndCallError kind "${error.kind}"${extra}: ${error.message}`;
}

function remember(ids) {
  sessionStorage.setItem(STARTED, JSON.stringify(ids));
}
function remembered() {
  try {
    return JSON.parse(sessionStorage.getItem(STARTED) || '[]');
  } catch {
    return [];
  }
}

function renderCalls() {
  const list = $('calls');
  list.textContent = '';
  const ids = trackedCalls();
  if (ids.length === 0) {
    list.innerHTML = '<li class="empty">No call in progress.</li>';
    return;
  }
  for (const id of ids) {
    const item = document.createElement('li');
    const label = document.createElement('span');
    label.className = 'id';
    label.textContent = id;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'tracked';
    const hangUp = document.createElement('button');
    hangUp.textContent = 'Hang up';
    hangUp.onclick = async () => {
      hangUp.disabled = true;
      try {
        const response = await endCall(id);
        remember(remembered().filter((known) => known !== id));
        log(`Hung up ${id} (manual endCall): status "${response.status}", ${response.actualDurationSeconds}s, ${response.creditsUsed} credits`);
      } catch (error) {
        log(describe(error), true);
      }
      renderCalls();
      refreshRecords();
    };
    const forget = document.createElement('button');
    forget.textContent = 'Forget';
    forget.title = 'untrackCall: the call was ended some other way';
    forget.onclick = () => {
      untrackCall(id);
      log(`Forgot ${id} (untrackCall: nothing sent)`);
      renderCalls();
    };
    item.append(label, badge, hangUp, forget);
    list.append(item);
  }
}

let apiUrl;
async function refreshRecords() {
  const res = await fetch(`${apiUrl}/__standin/records`);
  const { records } = await res.json();
  const body = $('records');
  body.textContent = '';
  if (records.length === 0) {
    body.innerHTML = '<tr><td colspan="5" class="empty">Nothing yet.</td></tr>';
    return records;
  }
  for (const record of records.slice().reverse()) {
    const row = document.createElement('tr');
    const cells = [
      record.callId ?? record.rawPath,
      `${record.status}${record.duplicate ? ' (repeat)' : ''}`,
      record.auth,
      record.cookie ? 'sent!' : 'none',
      new Date(record.receivedAt).toLocaleTimeString(),
    ];
    cells.forEach((text, i) => {
      const cell = document.createElement('td');
      cell.textContent = text;
      if (i === 0) cell.className = 'mono';
      row.append(cell);
    });
    body.append(row);
  }
  return records;
}

async function main() {
  await init();
  ({ apiUrl } = await (await fetch('/backend/config')).json());
  const applyRoute = () => configure({ baseUrl: $('proxy').checked ? '/voice-proxy' : apiUrl });
  applyRoute();
  $('proxy').onchange = () => {
    applyRoute();
    log(`Calls started from now on end via ${$('proxy').checked ? '/voice-proxy (same origin)' : apiUrl}`);
  };

  onCallEnded((event) => {
    if (event.via === 'beforeunload') notePath(event.callId, 'beforeunload (keepalive fetch)');
  });

  // Back on the page: did the calls of the previous visit get ended, and how?
  const before = remembered();
  if (before.length) {
    await new Promise((resolve) => setTimeout(resolve, 800)); // let a deferred end arrive
    const records = await refreshRecords();
    const paths = JSON.parse(sessionStorage.getItem(PATHS) || '{}');
    for (const id of before) {
      const ended = records.some((r) => r.callId === id && r.status === 200);
      const via = paths[id] ? ` via ${paths[id]}` : '';
      log(ended ? `Call ${id} from your last visit was ended when you left the page${via}.` : `Call ${id} from your last visit has no end yet.`, !ended);
    }
    remember([]);
    sessionStorage.removeItem(PATHS);
  } else {
    refreshRecords();
  }

  $('start').disabled = false;
  $('start').onclick = async () => {
    const { callId, endToken } = await (await fetch('/backend/start-call', { method: 'POST' })).json();
    trackCall({ callId, endToken });
    remember([...remembered(), callId]);
    log(`Started ${callId}; it is tracked and will be ended if you leave.`);
    renderCalls();
  };
  $('refresh').onclick = refreshRecords;
  $('wrong-token').onclick = async () => {
    const { callId } = await (await fetch('/backend/start-call', { method: 'POST' })).json();
    try {
      await endCall(callId, { endToken: 'et_this_is_not_the_right_token' });
    } catch (error) {
      log(describe(error), true);
    }
    refreshRecords();
  };
  $('bad-id').onclick = async () => {
    try {
      await endCall('not a valid id!', { endToken: 'et_whatever' });
    } catch (error) {
      log(`${describe(error)} — detail: ${JSON.stringify(error.detail)}`, true);
    }
    refreshRecords();
  };
  $('untracked').onclick = async () => {
    try {
      await endCall('call_never_tracked');
    } catch (error) {
      log(describe(error), true);
    }
  };
  renderCalls();
  log('Ready.');
}

main().catch((error) => log(describe(error), true));
