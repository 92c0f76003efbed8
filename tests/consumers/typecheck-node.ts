// A Node-only project (no DOM lib): loads the wasm with no argument or from its bytes, ends
// a call by token. Must type-check with lib es2022 + @types/node and skipLibCheck false.
import init, { configure, endCall, EndCallError, trackedCalls, untrackCall } from 'voice-end-call';
import { useEndCall, type EndCallStatus } from 'voice-end-call/react';
import { readFile } from 'node:fs/promises';

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
