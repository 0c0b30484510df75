import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../util/hash.js';
import { decompressAll, type DecompressJob } from './decompress-all.js';
import { ceilingLimit } from './limits.js';

/**
 * Decompressed .deb members, kept so that a rebuild does not run xz again (xz is most
 * of a warm build's time). Layout: `<cacheDir>/members/v1/<sha256 of the compressed
 * member>`, holding the SHA256 of the decompressed bytes (64 hex digits) and then those
 * bytes. Both digests are checked on every use, so a damaged entry is only a miss.
 * Writes are atomic; a cache that cannot be written only costs speed. Only members that
 * decompressed within their limit are stored, and an entry larger than the member's limit
 * is a miss without being read (the member is then decompressed, and refused).
 */
const VERSION = 'v1';
const HEADER = 64;


async function lookup(path: string, limit: number): Promise<Buffer | undefined> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return undefined;
  try {
    const { size } = await file.stat();
    if (size < HEADER || size - HEADER > limit) return undefined;
    const stored = await file.readFile();
    const body = stored.subarray(HEADER);
    return stored.subarray(0, HEADER).toString('latin1') === sha256(body) ? body : undefined;
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}

/** Digest then bytes, written without joining them (a member may be hundreds of MiB), renamed into place. */
async function store(path: string, body: Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const file = await open(tmp, 'wx');
    try {
      await file.writev([Buffer.from(sha256(body), 'latin1'), body]);
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch {
    await rm(tmp, { force: true });
  }
}

/** decompressAll, answering from the member cache where it can and filling it with what it had to decompress. */
export async function decompressCached(jobs: readonly DecompressJob[], processes: number, cacheDir: string | undefined): Promise<Buffer[]> {
  if (!cacheDir) return decompressAll(jobs, processes);
  const dir = join(cacheDir, 'members', VERSION);
  const cacheable = (job: DecompressJob) => job.compression === 'xz' || job.compression === 'zstd';
  const keys = jobs.map((job) => (cacheable(job) ? sha256(job.data) : undefined));
  const results = await Promise.all(keys.map((key, i) => (key ? lookup(join(dir, key), (jobs[i]!.limit ?? ceilingLimit()).bytes) : undefined)));
  const missing = jobs.map((_, i) => i).filter((i) => !results[i]);
  const fresh = await decompressAll(missing.map((i) => jobs[i]!), processes);
  if (missing.some((i) => keys[i])) await mkdir(dir, { recursive: true }).catch(() => undefined);
  await Promise.all(
    missing.map(async (i, k) => {
      results[i] = fresh[k]!;
      const key = keys[i];
      if (!key) return;
      await store(join(dir, key), fresh[k]!);
    }),
  );
  return results as Buffer[];
}
