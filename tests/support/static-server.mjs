// A static file server for test pages, the demo and the built package, on loopback.
// Serves only the directories it is given (mounted at URL prefixes), never the whole repo.
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.d.ts': 'text/plain; charset=utf-8',
};

/**
 * @param {{mounts: Record<string, string>, host?: string, port?: number,
 *          headers?: Record<string, string>, routes?: Record<string, (req, res) => void>}} opts
 *   mounts: URL prefix → directory, e.g. {'/': 'www', '/dist/': 'dist'}.
 *   routes: exact pathname → handler, checked before the mounts (e.g. a demo backend).
 *   proxy: URL prefix → upstream base URL. Requests under the prefix are forwarded with the
 *     prefix removed (what an app's backend route such as /voice-proxy does for the API).
 */
export async function startStaticServer({ mounts, host = '127.0.0.1', port = 0, headers = {}, routes = {}, proxy = {} }) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const sockets = new Set();
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://x');
      const route = routes[url.pathname];
      if (route) return await route(req, res);
      const proxied = Object.keys(proxy).find((p) => url.pathname.startsWith(p));
      if (proxied) return await forward(req, res, proxy[proxied] + req.url.slice(proxied.length - 1));
      let pathname = decodeURIComponent(url.pathname);
      if (pathname.endsWith('/')) pathname += 'index.html';
      const prefix = prefixes.find((p) => pathname.startsWith(p));
      if (!prefix) return notFound(res);
      const root = path.resolve(mounts[prefix]);
      const file = path.resolve(root, '.' + pathname.slice(prefix.length - 1));
      if (file !== root && !file.startsWith(root + path.sep)) return notFound(res);
      const info = await stat(file).catch(() => null);
      if (!info || !info.isFile()) return notFound(res);
      const type = TYPES[file.endsWith('.d.ts') ? '.d.ts' : path.extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(await readFile(file));
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error && error.message));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const actualPort = server.address().port;
  return {
    port: actualPort,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Forward one request upstream (method, Authorization, body) and relay the answer. Cookies
// are deliberately not forwarded.
async function forward(req, res, target) {
  const body = await new Promise((resolve) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
  const headers = {};
  for (const name of ['authorization', 'content-type']) {
    if (req.headers[name]) headers[name] = req.headers[name];
  }
  try {
    const upstream = await fetch(target, {
      method: req.method,
      headers,
      body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
    });
    const text = await upstream.text();
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
    res.end(text);
  } catch (error) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('upstream unreachable');
  }
}

function notFound(res) {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
}
