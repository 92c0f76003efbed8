'use client';
// A Next.js app-router page that uses the package as the README says: imported in a client
// component, init() and trackCall() in an effect. No next.config. Query: api, callId, endToken
// (none: a warm-up visit, which only loads the package).
import { useEffect } from 'react';
import init, { configure, trackCall } from 'voice-end-call';

let started; // once per page, although React (StrictMode in dev) may run the effect twice

async function start() {
  const query = new URLSearchParams(location.search);
  try {
    await init();
    if (query.get('api')) configure({ baseUrl: query.get('api') });
    if (query.get('callId')) trackCall({ callId: query.get('callId'), endToken: query.get('endToken') });
    window.outcome = { ok: true };
  } catch (error) {
    window.outcome = { ok: false, error: String(error?.message ?? error) };
  }
}

export default function Page() {
  useEffect(() => {
    started ??= start();
  }, []);
  return <p>next consumer</p>;
}
