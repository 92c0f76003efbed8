// A bundled app: imports the package by name; Vite resolves and emits the wasm asset.
import init, { configure, trackCall } from 'voice-end-call';

const query = new URLSearchParams(location.search);
await init();
configure({ baseUrl: query.get('api') });
trackCall({ callId: query.get('callId'), endToken: query.get('endToken') });
window.ready = true;
