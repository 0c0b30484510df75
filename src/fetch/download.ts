import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { JeosError } from '../errors.js';
import { NOT_FOUND } from '../archive/http.js';
import { TIMEOUT, Watchdog, type MirrorTimeouts } from '../archive/watchdog.js';
import type { LockedPackage } from '../lock/types.js';
import { unreachable } from './transport.js';
import type { FetchEvent, StreamFetcher } from './types.js';

export interface DownloadJob {
  pkg: LockedPackage;
  url: string;
  /** Where the bytes are written; whatever is there already is taken as a prefix to resume from. */
  partial: string;
}

export interface DownloadSettings {
  fetcher: StreamFetcher;
  retries: number;
  retryDelayMs: number;
  /** Connect and stall limits (a .deb has no deadline). */
  timeouts: MirrorTimeouts;
  onEvent?: (event: FetchEvent) => void;
}

const LOCK_HINT = 'the mirror serves a different file than the lock names: run jeos lock again to lock what the mirror has now, or check the mirror (JEOS_MIRROR, debian.mirror in jeos.yaml)';

function label(pkg: LockedPackage): string {
  return `${pkg.name} ${pkg.version} (${pkg.architecture})`;
}

function mismatch(job: DownloadJob, actual: string, details: string[]): JeosError {
  return new JeosError('E_FETCH_CHECKSUM', `${label(job.pkg)}: ${job.url} does not match the lock (${actual})`, {
    hint: LOCK_HINT,
    details: [`expected: sha256 ${job.pkg.sha256}, ${job.pkg.size} bytes`, ...details],
  });
}

function sizeMismatch(job: DownloadJob, served: string): JeosError {
  return mismatch(job, `it is ${served} bytes, the lock says ${job.pkg.size}`, [`actual:   ${served} bytes`]);
}

/**
 * Worth another attempt: the connection broke, the server failed (5xx), the transfer stopped
 * short, or it stalled after real progress. A mirror that never answered, or only trickles,
 * is not retried: it would only multiply the wait.
 */
function isTransient(e: unknown): boolean {
  if (!(e instanceof JeosError)) return false;
  return e.code === 'E_MIRROR_UNREACHABLE' || e.code === 'E_FETCH_TRUNCATED' || (e as { transient?: boolean }).transient === true;
}

/** A transport error with the package in front and, where a generic one will not do, a hint for .debs. */
function forPackage(e: unknown, pkg: LockedPackage): unknown {
  if (!(e instanceof JeosError) || e.code === 'E_FETCH_CHECKSUM') return e;
  const hint =
    e.code === NOT_FOUND
      ? 'the mirror no longer has this version (mirrors drop superseded versions): run jeos lock again to lock the current ones, or use a mirror that keeps old versions'
      : e.hint;
  const out = new JeosError(e.code, `${label(pkg)}: ${e.message}`, { hint, cause: e, details: e.details });
  if ((e as { transient?: boolean }).transient) (out as JeosError & { transient?: boolean }).transient = true;
  return out;
}

async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done);
    done += bytesWritten;
  }
}

/**
 * One request: continue from the partial file's end if there is one (hashing the
 * prefix first), or from byte 0 if the server ignores the Range. Returns the
 * SHA256 of the whole file, and whether a prefix from before was kept.
 */
async function attempt(job: DownloadJob, settings: DownloadSettings, counter: { bytes: number }): Promise<{ digest: string; resumed: boolean }> {
  const { pkg, url, partial } = job;
  let have = await sizeOf(partial);
  if (have > pkg.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  let hash: Hash = createHash('sha256');
  if (have > 0) for await (const chunk of createReadStream(partial, { end: have - 1 })) hash.update(chunk as Buffer);
  let position = have;
  let kept = have > 0;
  if (have < pkg.size) {
    const watchdog = new Watchdog(url, settings.timeouts, {
      onWaiting: (w) => settings.onEvent?.({ kind: 'waiting', pkg, ...w }),
    });
    // The watchdog's timeout when it fired; else what the transport or the body stream throws,
    // other than a JeosError, is a broken connection.
    const network = (e: unknown) => watchdog.timedOut ?? (e instanceof JeosError ? e : unreachable(url, e));
    try {
      const response = await settings.fetcher(url, { offset: have, signal: watchdog.signal }).catch((e) => {
        throw network(e);
      });
      watchdog.responded();
      const iterator = response.body[Symbol.asyncIterator]();
      if ((response.length !== undefined && response.length !== pkg.size) || (response.start !== have && response.start !== 0)) {
        await iterator.return?.();
        if (response.length !== pkg.size) throw sizeMismatch(job, String(response.length));
        throw new Error(`the fetcher answered ${url} from byte ${response.start}; asked for ${have} (or 0)`);
      }
      if (response.start !== have) {
        // The server ignored the Range: the body is the whole file.
        hash = createHash('sha256');
        position = 0;
        kept = false;
      }
      const fh = await open(partial, position > 0 ? 'a' : 'w').catch(async (e) => {
        await iterator.return?.();
        throw e;
      });
      let finished = false;
      try {
        for (;;) {
          const next = await iterator.next().catch((e) => {
            throw network(e);
          });
          if (next.done) {
            finished = true;
            break;
          }
          const chunk = next.value;
          watchdog.received(chunk.length);
          if (position + chunk.length > pkg.size) throw sizeMismatch(job, `more than ${pkg.size}`);
          hash.update(chunk);
          await writeAll(fh, chunk);
          position += chunk.length;
          counter.bytes += chunk.length;
          settings.onEvent?.({ kind: 'progress', pkg, url, received: position, total: pkg.size });
        }
      } finally {
        await fh.close();
        // Stop the transfer when leaving early (a refused size, a full disk).
        if (!finished) await iterator.return?.().catch(() => undefined);
      }
    } finally {
      watchdog.dispose();
    }
  }
  if (position < pkg.size) {
    throw new JeosError('E_FETCH_TRUNCATED', `${url} ended after ${position} of ${pkg.size} bytes`, {
      hint: 'the connection or the mirror keeps breaking off the transfer: run again (the download resumes where it stopped) or use another mirror',
    });
  }
  return { digest: hash.digest('hex'), resumed: kept };
}

/**
 * Download `job.url` into `job.partial`, hashing while writing, until the file
 * is whole and matches the lock's SHA256 and size. Transient failures are
 * retried with backoff, each retry resuming with a Range request. A digest that
 * does not match after a resume gets one download from scratch (the prefix may
 * be stale) before it is refused. A refused file is removed; a partial file is
 * kept only when the last failure was transient, for the next run to resume.
 * Returns the bytes transferred.
 */
export async function downloadVerified(job: DownloadJob, settings: DownloadSettings): Promise<number> {
  const counter = { bytes: 0 };
  let restarted = false;
  for (let failures = 0; ; ) {
    let result: { digest: string; resumed: boolean };
    try {
      result = await attempt(job, settings, counter);
    } catch (e) {
      const err = forPackage(e, job.pkg);
      // A partial file is kept for the next run after a timeout too: it resumes from there.
      if (!isTransient(err) && !(err instanceof JeosError && err.code === TIMEOUT)) await rm(job.partial, { force: true });
      if (!isTransient(err) || failures >= settings.retries) throw err;
      failures++;
      const delayMs = settings.retryDelayMs * 2 ** (failures - 1);
      const resumeFrom = await sizeOf(job.partial);
      settings.onEvent?.({ kind: 'retry', pkg: job.pkg, url: job.url, attempt: failures, error: err as JeosError, resumeFrom, delayMs });
      await sleep(delayMs);
      continue;
    }
    if (result.digest === job.pkg.sha256) return counter.bytes;
    await rm(job.partial, { force: true });
    if (result.resumed && !restarted) {
      restarted = true;
      continue;
    }
    throw mismatch(job, `its sha256 is ${result.digest}, the lock says ${job.pkg.sha256}`, [`actual:   sha256 ${result.digest}, ${job.pkg.size} bytes`]);
  }
}
