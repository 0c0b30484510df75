/**
 * Files a signed Release lists (the Packages and Contents indices): downloaded by
 * hash when the Release offers it, else by name, and refused unless their size and
 * SHA256 are the ones the Release lists. The two refusals mean the mirror
 * contradicts its own signed Release (it serves other bytes, or no longer has a
 * file it lists: mid-sync, or tampered with), not that the request was wrong, so
 * they have codes of their own; the live tests skip on exactly these.
 */
import { JeosError } from '../errors.js';
import { sha256 } from '../util/hash.js';
import { fetchBytes, NOT_FOUND, type Fetcher } from './http.js';
import type { Release, ReleaseFile } from './release.js';
import type { MirrorTimeouts, Waiting } from './watchdog.js';

/** The mirror served a file whose size or SHA256 is not what its signed Release lists. */
export const INDEX_HASH_MISMATCH = 'E_INDEX_HASH_MISMATCH';
/** The signed Release lists a file the mirror does not have (neither by hash nor by name). */
export const INDEX_NOT_ON_MIRROR = 'E_INDEX_NOT_ON_MIRROR';
/** The codes that say the mirror is inconsistent with its own signed Release. */
export const MIRROR_INCONSISTENT: ReadonlySet<string> = new Set([INDEX_HASH_MISMATCH, INDEX_NOT_ON_MIRROR]);

const HINT = 'the mirror is inconsistent (mid-sync) or the file was tampered with; retry later or use another mirror';

export interface ReleaseFileSource {
  mirror: string;
  suite: string;
  /** The verified Release that lists the file. */
  release: Release;
}

export interface ReleaseFileDownload {
  fetcher?: Fetcher;
  /** Default: DEFAULT_TIMEOUTS. */
  timeouts?: MirrorTimeouts;
  onProgress?: (url: string, received: number, total: number | undefined) => void;
  onWaiting?: (waiting: Waiting) => void;
}

/** Download one file of a suite's Release and check it against the Release; returns the bytes and the URL that served them. */
export async function downloadReleaseFile(
  { mirror, suite, release }: ReleaseFileSource,
  file: ReleaseFile,
  options: ReleaseFileDownload = {},
): Promise<{ bytes: Buffer; url: string }> {
  const fetcher = options.fetcher ?? fetchBytes;
  const dir = file.path.slice(0, file.path.lastIndexOf('/') + 1);
  const plain = `${mirror}dists/${suite}/${file.path}`;
  const urls = release.acquireByHash ? [`${mirror}dists/${suite}/${dir}by-hash/SHA256/${file.sha256}`, plain] : [plain];
  const missing: string[] = [];
  for (const url of urls) {
    let bytes: Buffer;
    try {
      bytes = await fetcher(url, {
        onProgress: (received, total) => options.onProgress?.(url, received, total),
        ...(options.timeouts ? { timeouts: options.timeouts } : {}),
        ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
      });
    } catch (e) {
      if (!(e instanceof JeosError && e.code === NOT_FOUND)) throw e;
      missing.push(url);
      continue;
    }
    const actual = sha256(bytes);
    if (bytes.length !== file.size || actual !== file.sha256) {
      throw new JeosError(
        INDEX_HASH_MISMATCH,
        `${url} does not match the signed Release (sha256 ${actual.slice(0, 16)}…, ${bytes.length} bytes; expected ${file.sha256.slice(0, 16)}…, ${file.size} bytes)`,
        { hint: HINT, details: missing.map((m) => `not on the mirror: ${m}`) },
      );
    }
    return { bytes, url };
  }
  throw new JeosError(INDEX_NOT_ON_MIRROR, `the signed Release of ${suite} lists ${file.path}, but ${mirror} does not have it`, {
    hint: HINT,
    details: missing.map((m) => `not found: ${m}`),
  });
}
