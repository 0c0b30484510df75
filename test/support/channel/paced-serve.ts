/**
 * A channel directory served on loopback at a set pace, telling the test how far each response
 * has gone: a power-cut test kills the guest when a payload is 30 % sent, or when the entry is
 * asked for. The pace stretches the download so that the points between are reachable under TCG;
 * the bytes are the channel's own. GET and HEAD; 404 for anything that is not a file under root.
 */
import { open, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';

export interface Progress {
  /** URL path, e.g. /jeos-3.0.initrd. */
  path: string;
  sent: number;
  size: number;
}

export interface PacedServer {
  url: string;
  requests: string[];
  /** Called when a request arrives (sent 0) and after every chunk written. */
  onProgress: ((p: Progress) => void) | undefined;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

export async function servePaced(root: string, bytesPerSecond: number): Promise<PacedServer> {
  const base = resolve(root);
  const paced: PacedServer = { url: '', requests: [], onProgress: undefined, close: async () => {} };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    paced.requests.push(path);
    void (async () => {
      const file = join(base, decodeURIComponent(path));
      const st = file.startsWith(base + sep) ? await stat(file).catch(() => undefined) : undefined;
      if (!st?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size, 'last-modified': st.mtime.toUTCString() });
      paced.onProgress?.({ path, sent: 0, size: st.size });
      if (req.method === 'HEAD') return void res.end();
      const fh = await open(file, 'r');
      try {
        let sent = 0;
        const t0 = Date.now();
        while (sent < st.size && !res.destroyed) {
          const buf = Buffer.alloc(Math.min(CHUNK, st.size - sent));
          const { bytesRead } = await fh.read(buf, 0, buf.length, sent);
          if (bytesRead === 0) break;
          await new Promise<void>((ok) => (res.write(buf.subarray(0, bytesRead)) ? ok() : res.once('drain', ok)));
          sent += bytesRead;
          paced.onProgress?.({ path, sent, size: st.size });
          const due = t0 + (sent / bytesPerSecond) * 1000;
          if (due > Date.now()) await new Promise((ok) => setTimeout(ok, due - Date.now()));
        }
        res.end();
      } finally {
        await fh.close();
      }
    })().catch(() => res.destroy());
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  paced.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  paced.close = () =>
    new Promise<void>((ok, fail) => {
      server.close((e) => (e ? fail(e) : ok()));
      server.closeAllConnections();
    });
  return paced;
}
