import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { JeosError } from '../errors.js';
import { DEFAULT_TIMEOUTS, deadlineIn, Watchdog, type Deadline, type MirrorTimeouts, type Waiting } from './watchdog.js';

export interface FetchOptions {
  /** Attempts after the first for transient failures (network errors, 5xx, a stall after progress). */
  retries?: number;
  /** How long to wait for an answer, for data, and for the whole file (DEFAULT_TIMEOUTS). */
  timeouts?: MirrorTimeouts;
  /** Called with bytes received so far and the total when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Called every few seconds while the mirror sends nothing. */
  onWaiting?: (waiting: Waiting) => void;
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

async function once(url: string, options: FetchOptions, deadline: Deadline): Promise<Buffer> {
  if (url.startsWith('file:')) {
    try {
      return await readFile(fileURLToPath(url));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new JeosError(NOT_FOUND, `${url} does not exist`, { hint: 'check the mirror URL and the suite name' });
      throw unreachable(url, e);
    }
  }
  const watchdog = new Watchdog(url, options.timeouts ?? DEFAULT_TIMEOUTS, { onWaiting: options.onWaiting, deadline });
  try {
    return await overHttp(url, options, watchdog);
  } catch (e) {
    throw watchdog.timedOut ?? e;
  } finally {
    watchdog.dispose();
  }
}

async function overHttp(url: string, options: FetchOptions, watchdog: Watchdog): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: watchdog.signal });
  } catch (e) {
    throw unreachable(url, e);
  }
  watchdog.responded();
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new JeosError(NOT_FOUND, `${url} was not found (HTTP ${response.status})`, { hint: 'check the mirror URL and the suite name; a mirror being updated can miss files for a while' });
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
      watchdog.received(chunk.length);
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
  // One deadline for the file, across its attempts.
  const deadline = deadlineIn((options.timeouts ?? DEFAULT_TIMEOUTS).deadlineMs);
  for (let attempt = 0; ; attempt++) {
    try {
      return await once(url, options, deadline);
    } catch (e) {
      const transient = e instanceof JeosError && (e.code === 'E_MIRROR_UNREACHABLE' || (e as { transient?: boolean }).transient);
      const pause = 250 * 2 ** attempt;
      if (!transient || attempt >= retries || performance.now() + pause >= deadline.at) throw e;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
};
