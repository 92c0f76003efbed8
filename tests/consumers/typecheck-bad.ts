// Must NOT type-check: each line misuses the API. Proves the declarations are not `any`.
import { trackCall, endCall, configure, EndCallError, type EndCallResponse } from 'voice-end-call';
import { useEndCall } from 'voice-end-call/react';
import { createRelay, toNodeHandler } from 'voice-end-call/relay';

trackCall({ callId: 42, endToken: 'et' }); // callId must be a string
void endCall('call', { endToken: 7 }); // endToken must be a string
configure({ baseURL: 'https://x' }); // unknown option (typo)
const n: number = trackCall({ callId: 'a', endToken: 'b' }); // returns a string
void endCall('call', { ifTracked: true, endToken: 'et' }); // ifTracked ends tracked calls only
export const r: Promise<EndCallResponse> = endCall('call', { ifTracked: true }); // may be null
export const s = (e: EndCallError): number => (e.kind === 'network' ? e.status : 0); // no status
export const h = new EndCallError('http', 'no status'); // http needs its status
export const c = new EndCallError('config', 'm', { status: 400 }); // config has no status
export const u = useEndCall({ callId: 'a', endToken: 'b' }, { endOnUnmount: 'no' }); // a boolean
export const v = useEndCall({ callId: 1, endToken: 'b' }); // callId must be a string
createRelay({ baseUrl: 'https://dev.voice.ai' }); // the relay's option is apiBaseUrl
createRelay({ apiBaseUrl: 'https://dev.voice.ai', timeoutMs: '5000' }); // a number
export const w: Promise<string> = createRelay({ apiBaseUrl: 'https://dev.voice.ai' })(new Request('http://x/')); // a Response
export const x = toNodeHandler((request: Request) => request.text()); // must answer a Response
console.log(n);
