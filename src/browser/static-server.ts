import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.map': 'application/json',
};

/**
 * Every response makes the page cross-origin isolated: SharedArrayBuffer, and so WebAssembly
 * threads (chromium-wasm's XNNPACK pool), exist only there. Everything the page loads comes from
 * this same origin, which these headers allow.
 */
const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `mounts` (URL prefix → directory) on 127.0.0.1 at a free port, plus fixed `pages`
 * (URL path → content, typed by the path's extension; HTML without one). Only files under a mounted directory are served. `mounts` is read on every
 * request: entries added later are served too. The longest matching prefix wins.
 */
export async function startStaticServer(mounts: Record<string, string>, pages: Record<string, string> = {}): Promise<StaticServer> {
  const server: Server = createServer(async (request, response) => {
    const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (pages[urlPath] !== undefined) {
      response.writeHead(200, { ...ISOLATION_HEADERS, 'content-type': CONTENT_TYPES[path.extname(urlPath) || '.html'] ?? CONTENT_TYPES['.html']! });
      response.end(pages[urlPath]);
      return;
    }
    const prefix = Object.keys(mounts)
      .filter((p) => urlPath.startsWith(p))
      .sort((a, b) => b.length - a.length)[0];
    const root = prefix === undefined ? undefined : path.resolve(mounts[prefix]!);
    const file = root === undefined ? undefined : path.resolve(root, `.${urlPath.slice(prefix!.length - 1)}`);
    const info = file && file.startsWith(root!) ? await stat(file).catch(() => null) : null;
    if (!file || !info?.isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { ...ISOLATION_HEADERS, 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
