import { spawn } from 'node:child_process';
import { Builder } from 'selenium-webdriver';
import { startStandin } from '../tests/support/standin.mjs';
import { startStaticServer } from '../tests/support/static-server.mjs';
const standin = await startStandin({ preflightDelayMs: 500 });
const pages = await startStaticServer({ host: 'localhost', mounts: { '/dist/': 'dist', '/e2e/': 'tests/e2e' } });
const port = 4444 + Math.floor(Math.random() * 1000);
const driver = spawn('xvfb-run', ['-a', 'WebKitWebDriver', `--port=${port}`], { stdio: 'ignore', detached: true });
await new Promise(r => setTimeout(r, 1500));
async function session() {
  const caps = { browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'] } };
  return await Promise.race([new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities(caps).build(), new Promise((_, rej) => setTimeout(() => rej(new Error('session timeout')), 20000))]);
}
async function one(kind) {
  const c = standin.state.mintCall();
  const t0 = Date.now();
  const d = await session();
  const t1 = Date.now();
  await d.get(`${pages.url}/e2e/page.html?` + new URLSearchParams({ api: standin.url, calls: `${c.call_id}:${c.end_token}` }));
  await d.wait(async () => await d.executeScript('return window.ready === true'), 10000);
  if (kind === 'quit') await d.quit();
  if (kind === 'nav') { await d.get(`${pages.url}/e2e/page.html?noinit=1`); }
  if (kind === 'reload') { await d.navigate().refresh(); }
  if (kind === 'tab') { const first = await d.getWindowHandle(); await d.switchTo().newWindow('tab'); const second = await d.getWindowHandle(); await d.switchTo().window(first); await d.close(); await d.switchTo().window(second); }
  await new Promise(r => setTimeout(r, 2000));
  if (kind !== 'quit') await d.quit();
  return `${standin.state.records({ callId: c.call_id }).length}(${t1 - t0}ms)`;
}
try {
  for (const kind of ['quit', 'nav', 'reload', 'tab']) {
    const res = [];
    for (let i = 0; i < 3; i++) res.push(await one(kind).catch(e => 'E:' + e.message.slice(0, 60)));
    console.log(kind, res.join(', '));
  }
} finally {
  process.kill(-driver.pid, 'SIGTERM');
  await pages.close(); await standin.close();
}
