import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { JeosError } from '../errors.js';

export interface FetchOptions {
  /** Attempts after the first for transient failures (network errors, 5xx). */
  retries?: number;
  timeoutMs?: number;
  /** Called with bytes received so far and the total when known. */
  onProgress?: (received: number, total: number | undefined) => void;
}

/** The HTTP client is passed in, so tests and other tools can supply their own. */
export type Fetcher = (url: string, options?: FetchOptions) => Promise<Buffer>;

export const NOT_FOUND = 'E_HTTP_NOT_FOUND';

function unreachable(url: string, cause: unknown): JeosError {
  const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
  return new JeosError('E_MIRROR_UNREACHABLE', `cannot reach ${url} (${reason})`, {
    hint: 'check the network and the mirror URL (JEOS_MIRROR, debian.mirror in jeos.yaml, or apt\'s sources), or use --offline with a filled cache',
    cause,
  });
}

async function once(url: string, options: FetchOptions): Promise<Buffer> {
  if (url.startsWith('file:')) {
    try {
      return await readFile(fileURLToPath(url));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new JeosError(NOT_FOUND, `${url} does not exist`);
      throw unreachable(url, e);
    }
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 120_000) });
  } catch (e) {
    throw unreachable(url, e);
  }
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new JeosError(NOT_FOUND, `${url} was not found (HTTP ${response.status})`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const err = new JeosError('E_HTTP_STATUS', `${url} answered HTTP ${response.status}`, {
      hint: 'the mirror is failing; retry later or use another mirror',
    });
    (err as JeosError & { transient?: boolean }).transient = response.status >= 500 || response.status === 429;
    throw err;
  }
  const total = Number(response.headers.get('content-length')) || undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(Buffer.from(chunk));
      received += chunk.length;
      options.onProgress?.(received, total);
    }
  } catch (e) {
    throw unreachable(url, e);
  }
  return Buffer.concat(chunks);
}

/** Fetch a URL (http, https or file) into memory, retrying transient failures. */
export const fetchBytes: Fetcher = async (url, options = {}) => {
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(url, options);
    } catch (e) {
      const transient = e instanceof JeosError && (e.code === 'E_MIRROR_UNREACHABLE' || (e as { transient?: boolean }).transient);
      if (!transient || attempt >= retries) throw e;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
};
