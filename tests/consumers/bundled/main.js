// The app of the bundler consumers (tests/toolchains.test.mjs): imports the package by name,
// as the README says, with no configuration of the bundler. Query: api, callId, endToken (no
// callId: a warm-up visit of a dev server, which only loads the package).
import init, { configure, trackCall } from 'voice-end-call';

const query = new URLSearchParams(location.search);
try {
  await init();
  if (query.get('api')) configure({ baseUrl: query.get('api') });
  if (query.get('callId')) trackCall({ callId: query.get('callId'), endToken: query.get('endToken') });
  window.outcome = { ok: true };
} catch (error) {
  window.outcome = { ok: false, error: String(error?.message ?? error) };
}
