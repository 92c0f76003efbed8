// A loopback port where nothing listens (for "connection refused"): bound by the OS, then
// released. Another process could take it in between; on a test machine that is negligible.
import http from 'node:http';

export async function unusedPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
