// A Node-only project (no DOM lib): loads the wasm with no argument or from its bytes, ends
// a call by token, serves the relay. Must type-check with lib es2022 + @types/node and
// skipLibCheck false.
import init, { configure, endCall, EndCallError, trackedCalls, untrackCall } from 'voice-end-call';
import { useEndCall, type EndCallStatus } from 'voice-end-call/react';
import { createRelay, toNodeHandler } from 'voice-end-call/relay';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

await init();
await init(await readFile(new URL(import.meta.resolve('voice-end-call/voice_end_call_bg.wasm'))));
await init(new URL(import.meta.resolve('voice-end-call/voice_end_call_bg.wasm')));
configure({ baseUrl: 'https://dev.voice.ai' });
console.log(trackedCalls(), untrackCall('call_1'));
try {
  const ended = await endCall('call_1', { endToken: process.env.END_TOKEN ?? '' });
  console.log(ended.creditsUsed);
} catch (error) {
  if (error instanceof EndCallError && error.kind === 'http') console.log(error.status.toFixed(0));
}
const status: EndCallStatus = 'idle';
console.log(status, typeof useEndCall);

// The relay on Node's own http server.
const relayEnds = toNodeHandler(createRelay({ apiBaseUrl: 'https://dev.voice.ai' }));
createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/voice-end') return relayEnds(req, res);
  res.writeHead(404).end();
});
