// A React 19 app without JSX, under StrictMode: one view shows a call through useEndCall,
// the tests switch views as a router would (window.show) and read the hook's state from the
// DOM. The app never calls init() itself: the hook does.
import { StrictMode, createElement as h, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import * as lib from 'voice-end-call';
import { useEndCall } from 'voice-end-call/react';

const query = new URLSearchParams(location.search);
window.lib = lib;
window.appEffects = 0; // App's mount effect runs: 2 under StrictMode in development, else 1

function CallView({ call, endOnUnmount }) {
  const { status, error, hangUp } = useEndCall(call, endOnUnmount === undefined ? undefined : { endOnUnmount });
  return h(
    'section',
    { id: 'call', 'data-call-id': call.callId, 'data-status': status },
    h('p', { id: 'status' }, status),
    h('p', { id: 'error' }, error ? `${error.kind}: ${error.message}` : ''),
    h('button', { id: 'hangup', onClick: hangUp }, 'Hang up'),
  );
}

function App() {
  const first = { callId: query.get('callId'), endToken: query.get('endToken'), baseUrl: query.get('api') };
  const [view, setView] = useState({ call: first });
  useEffect(() => {
    window.appEffects += 1;
    window.show = setView; // { call, endOnUnmount, layout } or {} for a view without a call
  }, []);
  if (!view.call) return h('p', { id: 'home' }, 'home');
  const shown = h(CallView, { key: view.call.callId, call: { ...view.call }, endOnUnmount: view.endOnUnmount });
  // layout 'moved': the same call in another place of the tree (React unmounts and mounts it).
  return view.layout === 'moved' ? h('div', { id: 'moved' }, shown) : shown;
}

createRoot(document.getElementById('root')).render(h(StrictMode, null, h(App)));
