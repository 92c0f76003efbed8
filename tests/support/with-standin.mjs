// Runs a command with the stand-in API up, its URL in STANDIN_URL; exits with its status.
// Used for the wasm-bindgen tests, which read STANDIN_URL at compile time.
import { spawn } from 'node:child_process';
import { startStandin } from './standin.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node tests/support/with-standin.mjs <command> [args...]');
  process.exit(2);
}
const standin = await startStandin();
const child = spawn(command, args, {
  stdio: 'inherit',
  env: { ...process.env, STANDIN_URL: standin.url },
});
const code = await new Promise((resolve) => {
  child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  child.on('error', (error) => {
    console.error(error.message);
    resolve(1);
  });
});
await standin.close();
process.exit(code);
