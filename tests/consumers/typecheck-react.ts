// The React entry's types, without React's own types (the hook's signature needs none).
import { useEndCall, type EndCallStatus, type UseEndCallResult } from 'voice-end-call/react';
import type { EndCallResponse } from 'voice-end-call';

export function useCall(call: { callId: string; endToken: string } | null): string {
  const result: UseEndCallResult = useEndCall(call);
  const status: EndCallStatus = result.status;
  const raw = useEndCall({ call_id: 'c', end_token: null, server_url: 'wss://x' }, { endOnUnmount: false });
  const hangUp: () => Promise<EndCallResponse | null> = raw.hangUp;
  if (result.error?.kind === 'http') return String(result.error.status.toFixed(0));
  void hangUp;
  return status;
}
