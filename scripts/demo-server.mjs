// The demo: the stand-in API on one loopback origin, the page (www/) and a tiny "app
// backend" on another, so the browser exercises real CORS. The backend holds the API key and
// hands the browser only {callId, endToken} — the pattern the README recommends.
//   node scripts/demo-server.mjs [--port 8080] [--api-port 8787]
//   (or DEMO_PORT / API_PORT; 0 picks a free port)
import { startStandin } from '../tests/support/standin.mjs';
import { startStaticServer } from '../tests/support/static-server.mjs';

function option(flag, envName, fallback) {
  const at = process.argv.indexOf(flag);
  const raw = at > 0 ? process.argv[at + 1] : process.env[envName];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${flag} / ${envName} must be a port number (0 picks a free one), got ${raw}`);
    process.exit(2);
  }
  return value;
}

const API_KEY = 'vk_standin_demo_key'; // the stand-in's; a real key stays on your server too
const api = await startStandin({ port: option('--api-port', 'API_PORT', 8787), apiKey: API_KEY });

async function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const page = await startStaticServer({
  host: 'localhost',
  port: option('--port', 'DEMO_PORT', 8080),
  mounts: { '/': 'www', '/dist/': 'dist' },
  proxy: { '/voice-proxy/': api.url },
  routes: {
    // What your backend does: call connection-details with the API key, pass on call_id and
    // end_token (plus what the voice client needs), never the key.
    '/backend/start-call': async (req, res) => {
      if (req.method !== 'POST') return json(res, 405, { error: 'POST only' });
      const upstream = await fetch(`${api.url}/api/v1/connection/connection-details`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ agent_id: 'demo-agent' }),
      });
      const details = await upstream.json();
      if (!upstream.ok) return json(res, 502, { error: 'connection-details failed' });
      return json(res, 200, { callId: details.call_id, endToken: details.end_token });
    },
    '/backend/config': async (_req, res) => json(res, 200, { apiUrl: api.url }),
  },
});

const url = page.url.replace('127.0.0.1', 'localhost');
console.log(`voice-end-call demo:  ${url}/`);
console.log(`stand-in API:         ${api.url}  (records: ${api.url}/__standin/records)`);
console.log('Ctrl+C to stop.');

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await page.close();
    await api.close();
    process.exit(0);
  });
}
