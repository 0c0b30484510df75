import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { JeosError } from '../errors.js';
import { NOT_FOUND } from '../archive/http.js';
import type { StreamFetcher, StreamResponse } from './types.js';

export const UNREACHABLE_HINT =
  "check the network and the mirror URL (JEOS_MIRROR, debian.mirror in jeos.yaml, or apt's sources), or use --offline with a filled cache";

/** The reason behind a fetch failure: undici hides the system error (ECONNREFUSED, …) in `cause`. */
export function reasonOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as (Error & { code?: string }) | undefined;
  if (cause instanceof Error) return cause.code ? `${cause.code}: ${cause.message}` : cause.message;
  return e.message;
}

export function unreachable(url: string, cause: unknown): JeosError {
  return new JeosError('E_MIRROR_UNREACHABLE', `cannot reach ${url} (${reasonOf(cause)})`, { hint: UNREACHABLE_HINT, cause });
}

function statusError(url: string, status: number): JeosError {
  const err = new JeosError('E_HTTP_STATUS', `${url} answered HTTP ${status}`, {
    hint: 'the mirror is failing; retry later or use another mirror',
  });
  // The same flag src/archive/http.ts sets: worth another attempt.
  (err as JeosError & { transient?: boolean }).transient = status >= 500 || status === 429;
  return err;
}

/** `Content-Range: bytes 100-199/200` → [100, 200]; the length may be `*`. */
function parseContentRange(value: string | null): [number, number | undefined] | undefined {
  const m = value && /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(value.trim());
  if (!m) return undefined;
  return [Number(m[1]), m[2] === '*' ? undefined : Number(m[2])];
}

async function fromHttp(url: string, offset: number, signal: AbortSignal): Promise<StreamResponse> {
  // identity: a .deb is already compressed, and Content-Length/Range must count the file's own bytes.
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal });
  } catch (e) {
    throw unreachable(url, e);
  }
  const { status } = response;
  if (status === 416 && offset > 0) {
    // The partial file is not a prefix the server can continue: start over.
    await response.body?.cancel();
    return fromHttp(url, 0, signal);
  }
  if (status === 404 || status === 410) {
    await response.body?.cancel();
    throw new JeosError(NOT_FOUND, `${url} was not found (HTTP ${status})`, {
      hint: 'the mirror does not have this file; check the mirror URL',
    });
  }
  if ((status !== 200 && status !== 206) || !response.body) {
    await response.body?.cancel();
    throw statusError(url, status);
  }
  const body = response.body as unknown as AsyncIterable<Uint8Array>;
  if (status === 206) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (!range || range[0] !== offset) {
      // A range we did not ask for: ask for the whole file instead of guessing.
      await response.body.cancel();
      return fromHttp(url, 0, signal);
    }
    return { start: range[0], length: range[1], body };
  }
  const length = Number(response.headers.get('content-length'));
  return { start: 0, length: Number.isSafeInteger(length) && length >= 0 && response.headers.has('content-length') ? length : undefined, body };
}

async function fromFile(url: string, offset: number, signal: AbortSignal): Promise<StreamResponse> {
  const path = fileURLToPath(url);
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new JeosError(NOT_FOUND, `${url} does not exist`, { hint: 'check the mirror URL' });
    throw unreachable(url, e);
  });
  const start = offset <= st.size ? offset : 0;
  return { start, length: st.size, body: createReadStream(path, { start, signal }) };
}

/** The default transport: http(s) through the global fetch, with Range requests; file:// from disk. */
export const streamFetch: StreamFetcher = (url, { offset, signal }) =>
  url.startsWith('file:') ? fromFile(url, offset, signal) : fromHttp(url, offset, signal);
