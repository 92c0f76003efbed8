// Must NOT type-check: each line misuses the API. Proves the declarations are not `any`.
import { trackCall, endCall, configure } from 'voice-end-call';

trackCall({ callId: 42, endToken: 'et' }); // callId must be a string
void endCall('call', { endToken: 7 }); // endToken must be a string
configure({ baseURL: 'https://x' }); // unknown option (typo)
const n: number = trackCall({ callId: 'a', endToken: 'b' }); // returns a string
console.log(n);
