// The README's quick-start snippets, run as written: the backend snippet against the
// stand-in (only the API's host is substituted), and the browser snippet in Chromium, whose
// `fetch('/start-call')` reaches that backend snippet. The call must end exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startChromiumRig } from './support/rig.mjs';
import { settledRecords } from './support/records.mjs';

function snippet(name) {
  const readme = readFileSync('README.md', 'utf8');
  const match = readme.match(new RegExp(`<!-- snippet: ${name} [^>]*-->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``));
  assert.ok(match, `README snippet "${name}"`);
  return match[1];
}

let rig, standin, pages, browser;
before(async () => {
  rig = await startChromiumRig((standin) => ({
    host: 'localhost',
    mounts: { '/dist/': 'dist' },
    routes: browserSnippetRoutes(standin),
  }));
  ({ standin, pages, browser } = rig);
});
after(() => rig?.close());

/** Run the backend snippet with a minimal Express-like `app`; returns its routes. */
function runBackendSnippet(standin) {
  const routes = {};
  const app = { post: (path, handler) => (routes[path] = handler) };
  const code = snippet('backend').replaceAll('https://dev.voice.ai', standin.url);
  const env = { VOICE_AI_API_KEY: 'vk_standin_demo_key' };
  new Function('app', 'process', 'fetch', code)(app, { env }, fetch);
  return routes;
}

test('README backend snippet: returns callId and endToken, never the API key', async () => {
  const routes = runBackendSnippet(standin);
  const sent = await new Promise((resolve) => routes['/start-call']({}, { json: resolve }));
  assert.deepEqual(Object.keys(sent).sort(), ['callId', 'endToken', 'participantToken', 'serverUrl']);
  assert.match(sent.callId, /^call_/);
  assert.ok(!JSON.stringify(sent).includes('vk_'), 'the API key stays on the server');
});

/** The page server's routes: the backend snippet's /start-call, and the browser snippet's page. */
function browserSnippetRoutes(standin) {
  return {
    // The backend snippet runs on request, so that a missing snippet fails its test, not set-up.
    '/start-call': (req, res) =>
      runBackendSnippet(standin)['/start-call'](req, {
        json: (body) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
      }),
    // The snippet as written, after pointing the package at the stand-in (the snippet
    // itself ends calls at the default https://dev.voice.ai).
    '/index.html': (req, res) => {
      const code = snippet('browser');
      const imports = code.split('\n').filter((line) => line.startsWith('import '));
      const body = code.split('\n').filter((line) => !line.startsWith('import ')).join('\n');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html>
<script type="importmap">{"imports": {"voice-end-call": "/dist/index.js"}}</script>
<script type="module">
${imports.join('\n')}
import setUp, { configure as pointAt, trackedCalls as harnessTracked } from 'voice-end-call';
await setUp();
pointAt({ baseUrl: ${JSON.stringify(standin.url)} });
try {
${body}
  const trackedBefore = harnessTracked();
  window.result = { callId, trackedBefore, ended: await hangUp(), trackedAfter: harnessTracked() };
} catch (error) {
  window.result = { error: String(error) };
}
</script>`);
    },
  };
}

test('README browser snippet: tracks, then endCall ends the call exactly once', async () => {
  // A page of a context that stays: closing it is a tab close, where the browser sends a
  // deferred (fetchLater) request the manual end failed to withdraw. (A page from
  // browser.newPage() takes its own context down with it, and such a request with it.)
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pages.url}/index.html`);
  const result = await page.waitForFunction(() => window.result).then((handle) => handle.jsonValue());
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(result.trackedBefore, [result.callId]);
  assert.deepEqual(result.trackedAfter, []);
  assert.equal(result.ended.callId, result.callId);
  assert.equal(result.ended.status, 'ended');
  assert.equal(typeof result.ended.creditsUsed, 'number');
  await page.close();
  const records = await settledRecords(standin, { callIds: [result.callId] });
  await context.close();
  assert.equal(records.length, 1, 'exactly one end, also after the page closed');
  assert.equal(records[0].auth, 'valid');
});
