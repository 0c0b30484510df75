import type { JeosError } from '../errors.js';
import type { Mirrors } from '../archive/mirrors.js';
import type { MirrorTimeouts, Waiting } from '../archive/watchdog.js';
import type { LockedPackage } from '../lock/types.js';

/**
 * The transport the fetch stage streams .debs through; passed in so tests and
 * other tools can supply their own. `offset` > 0 asks for the bytes from there
 * on (an HTTP Range request); a server that ignores it answers from byte 0,
 * which `start` says.
 *
 * Failures are JeosErrors: E_HTTP_NOT_FOUND, E_HTTP_STATUS (with `transient`
 * set for 5xx and 429) and E_MIRROR_UNREACHABLE. An error thrown while the
 * body is read counts as a broken connection.
 */
export type StreamFetcher = (url: string, request: { offset: number; signal: AbortSignal }) => Promise<StreamResponse>;

export interface StreamResponse {
  /** Byte position in the file where `body` begins: the requested offset if the Range was honoured, else 0. */
  start: number;
  /** Length of the whole file, when the server said it. */
  length: number | undefined;
  body: AsyncIterable<Uint8Array>;
}

export interface FetchPackagesOptions {
  /** The jeos cache directory (defaultCacheDir()); .debs go under `<cacheDir>/debs/`. */
  cacheDir: string;
  /** The mirrors, or a function from suite to mirror base URL (with a trailing slash). */
  mirrors: Mirrors | ((suite: string) => string);
  /** Use only the cache; fail naming every package it lacks. */
  offline?: boolean;
  /** Downloads (and cache checks) at once. Default 4. */
  concurrency?: number;
  /** Further attempts after a transient failure (network error, 5xx, cut-off transfer). Default 4. */
  retries?: number;
  /** Wait before the first retry, doubled for each further one. Default 250 ms. */
  retryDelayMs?: number;
  /**
   * How long to wait for a mirror to answer (connectMs) and, once it does, for each
   * STALL_BYTES of data (stallMs); deadlineMs is for metadata and not used here.
   * Default: DEFAULT_TIMEOUTS (30 s each), or settings.timeouts.
   */
  timeouts?: MirrorTimeouts;
  fetcher?: StreamFetcher;
  onEvent?: (event: FetchEvent) => void;
  /** Milliseconds clock for the `finished` event. Default performance.now. */
  now?: () => number;
}

/** One locked package and where its verified .deb is. */
export interface FetchedPackage {
  pkg: LockedPackage;
  /** `<cacheDir>/debs/sha256/<sha256>`: read-only by convention, shared by every build. */
  path: string;
  from: 'cache' | 'download';
}

/**
 * Progress of the fetch stage, in this order: `cached`/`damaged` while the cache
 * is checked, `start` for what is left to download, then `progress`, `waiting`, `retry`
 * and `done` per download, and `finished` once.
 */
export type FetchEvent =
  | { kind: 'cached'; pkg: LockedPackage; path: string }
  /** A cached file no longer matched the lock (size or SHA256); it was removed and is fetched again. */
  | { kind: 'damaged'; pkg: LockedPackage; path: string }
  | { kind: 'start'; packages: number; bytes: number; cached: number }
  /** `received` counts the whole file, including a resumed prefix; `total` is the lock's size. */
  | { kind: 'progress'; pkg: LockedPackage; url: string; received: number; total: number }
  | { kind: 'retry'; pkg: LockedPackage; url: string; attempt: number; error: JeosError; resumeFrom: number; delayMs: number }
  /** The mirror has sent nothing for `waitedMs` on this download; it is given up at `limitMs`. */
  | ({ kind: 'waiting'; pkg: LockedPackage } & Waiting)
  /** `bytes` is what was transferred for it in this run (less than its size after a resume). */
  | { kind: 'done'; pkg: LockedPackage; path: string; bytes: number }
  /** `bytes` transferred over all downloads. */
  | { kind: 'finished'; downloaded: number; cached: number; bytes: number; ms: number };
