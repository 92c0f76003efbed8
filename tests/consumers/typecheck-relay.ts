// voice-end-call/relay as a server uses it (Fetch handler: Next.js, Hono, Bun, Deno, Workers);
// must type-check under --strict with the DOM lib or with only @types/node.
import { EndCallError } from 'voice-end-call';
import {
  createRelay,
  type RelayErrorBody,
  type RelayErrorKind,
  type RelayForwardInit,
  type RelayHandler,
  type RelayOptions,
} from 'voice-end-call/relay';

const options: RelayOptions = { apiBaseUrl: 'https://dev.voice.ai', timeoutMs: 5000, maxBodyBytes: 4096 };
const relay: RelayHandler = createRelay(options);
export const POST = relay; // a Next.js route handler

export async function handle(request: Request): Promise<Response> {
  await relay.ready;
  const response: Response = await relay(request);
  if (!response.ok) {
    const body = (await response.json()) as RelayErrorBody;
    const kind: RelayErrorKind = body.error.kind;
    console.log(kind, body.error.message);
  }
  return response;
}

createRelay({ apiBaseUrl: 'https://dev.voice.ai', fetch });
createRelay({
  apiBaseUrl: 'https://dev.voice.ai',
  fetch: (url: string, init: RelayForwardInit) => fetch(url, { ...init, headers: { ...init.headers, 'x-trace': '1' } }),
});
createRelay({ apiBaseUrl: 'https://dev.voice.ai', wasm: new Uint8Array([0, 97, 115, 109]) });
relay.ready.catch((error: unknown) => {
  if (error instanceof EndCallError && error.kind === 'config') console.log(error.message);
});
