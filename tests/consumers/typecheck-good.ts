// Uses every export and type of the package; must type-check under --strict.
import init, {
  configure,
  trackCall,
  endCall,
  untrackCall,
  trackedCalls,
  onCallEnded,
  EndCallError,
  type EndCallResponse,
  type EndCallErrorKind,
  type CallEndedEvent,
  type Options,
  type ValidationErrorItem,
} from 'voice-end-call';

async function main(): Promise<void> {
  await init();
  await init(new URL('./voice_end_call_bg.wasm', 'https://example.test/'));
  await init(new Uint8Array([0, 97, 115, 109]));
  const options: Options = { baseUrl: '/voice-proxy', timeoutMs: 5000, retries: 3, beforeUnload: true, deferred: false, outbox: true, outboxTtlMs: 3_600_000 };
  configure(options);
  const id: string = trackCall({ callId: 'call_1', endToken: 'et_1' });
  trackCall({ call_id: 'call_2', end_token: 'et_2', server_url: 'wss://x', participant_token: 'p' });
  const ids: string[] = trackedCalls();
  const was: boolean = untrackCall(id);
  const stop: () => void = onCallEnded((event: CallEndedEvent) => {
    const via: 'manual' | 'beforeunload' | 'pagehide' | 'outbox' | 'recovered' = event.via;
    console.log(event.callId, via, event.response?.creditsUsed);
  });
  try {
    const response: EndCallResponse = await endCall('call_2', { endToken: 'et_2', timeoutMs: 1000, retries: 0 });
    const seconds: number = response.actualDurationSeconds;
    const endedAt: string = response.endedAt;
    console.log(ids, was, seconds, endedAt, response.callId, response.status, response.creditsUsed);
    // "If still tracked": null when the call is already over.
    const maybe: EndCallResponse | null = await endCall('call_1', { ifTracked: true, timeoutMs: 1000 });
    const plain: EndCallResponse = await endCall('call_1', { ifTracked: false });
    const flag: boolean = ids.length > 0;
    const either: EndCallResponse | null = await endCall('call_1', { ifTracked: flag });
    console.log(maybe?.callId, plain.callId, either);
  } catch (error) {
    if (error instanceof EndCallError) {
      const kind: EndCallErrorKind = error.kind;
      const status: number | undefined = error.status;
      const detail = error.detail?.[0]?.msg;
      console.log(kind, status, detail, error.message, error.cause);
      // A discriminated union: the kind narrows the fields.
      if (error.kind === 'http') {
        const httpStatus: number = error.status;
        console.log(httpStatus);
      }
      switch (error.kind) {
        case 'validation': {
          const items: ValidationErrorItem[] = error.detail;
          const code: number = error.status;
          console.log(items[0]?.loc, code);
          break;
        }
        case 'invalid-response': {
          const code: number = error.status;
          console.log(code);
          break;
        }
        case 'network':
        case 'timeout':
          console.log(error.cause);
          break;
        default:
          console.log(error.kind);
      }
    }
  }
  stop();
  const made = new EndCallError('http', 'example', { status: 400 });
  const madeStatus: number = made.status;
  const plainError: Error = new EndCallError('config', 'example');
  const invalid = new EndCallError('validation', 'example', { status: 422, detail: [{ loc: ['path'], msg: 'bad', type: 't' }] });
  const unknownKind = new EndCallError(kind(), 'example', { status: 500 });
  console.log(made.kind, madeStatus, plainError.message, invalid.detail.length, unknownKind.kind);
  console.log(made instanceof Error, made.name === 'EndCallError');
}

function kind(): 'http' | 'invalid-response' {
  return 'http';
}
void main();
