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
} from 'voice-end-call';

async function main(): Promise<void> {
  await init();
  await init(new URL('./voice_end_call_bg.wasm', 'https://example.test/'));
  const options: Options = { baseUrl: '/voice-proxy', timeoutMs: 5000, retries: 3, beforeUnload: true, deferred: false, outbox: true, outboxTtlMs: 3_600_000 };
  configure(options);
  const id: string = trackCall({ callId: 'call_1', endToken: 'et_1' });
  trackCall({ call_id: 'call_2', end_token: 'et_2', server_url: 'wss://x', participant_token: 'p' });
  const ids: string[] = trackedCalls();
  const was: boolean = untrackCall(id);
  const stop: () => void = onCallEnded((event: CallEndedEvent) => {
    const via: 'manual' | 'beforeunload' | 'pagehide' | 'outbox' = event.via;
    console.log(event.callId, via, event.response?.creditsUsed);
  });
  try {
    const response: EndCallResponse = await endCall('call_2', { endToken: 'et_2', timeoutMs: 1000, retries: 0 });
    const seconds: number = response.actualDurationSeconds;
    const endedAt: string = response.endedAt;
    console.log(ids, was, seconds, endedAt, response.callId, response.status, response.creditsUsed);
  } catch (error) {
    if (error instanceof EndCallError) {
      const kind: EndCallErrorKind = error.kind;
      const status: number | undefined = error.status;
      const detail = error.detail?.[0]?.msg;
      console.log(kind, status, detail, error.message);
    }
  }
  stop();
  const made = new EndCallError('config', 'example', { status: 400 });
  console.log(made.kind);
}
void main();
