import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { sha256 } from '../util/hash.js';
import { decompressAll, type DecompressJob } from './decompress-all.js';

/**
 * Decompressed .deb members, kept so that a rebuild does not run xz again (xz is most
 * of a warm build's time). Layout: `<cacheDir>/members/v1/<sha256 of the compressed
 * member>`, holding the SHA256 of the decompressed bytes (64 hex digits) and then those
 * bytes. Both digests are checked on every use, so a damaged entry is only a miss.
 * Writes are atomic; a cache that cannot be written only costs speed.
 */
const VERSION = 'v1';
const HEADER = 64;


async function lookup(path: string): Promise<Buffer | undefined> {
  const stored = await readFile(path).catch(() => undefined);
  if (!stored || stored.length < HEADER) return undefined;
  const body = stored.subarray(HEADER);
  return stored.subarray(0, HEADER).toString('latin1') === sha256(body) ? body : undefined;
}

/** decompressAll, answering from the member cache where it can and filling it with what it had to decompress. */
export async function decompressCached(jobs: readonly DecompressJob[], processes: number, cacheDir: string | undefined): Promise<Buffer[]> {
  if (!cacheDir) return decompressAll(jobs, processes);
  const dir = join(cacheDir, 'members', VERSION);
  const cacheable = (job: DecompressJob) => job.compression === 'xz' || job.compression === 'zstd';
  const keys = jobs.map((job) => (cacheable(job) ? sha256(job.data) : undefined));
  const results = await Promise.all(keys.map((key) => (key ? lookup(join(dir, key)) : undefined)));
  const missing = jobs.map((_, i) => i).filter((i) => !results[i]);
  const fresh = await decompressAll(missing.map((i) => jobs[i]!), processes);
  await Promise.all(
    missing.map(async (i, k) => {
      results[i] = fresh[k]!;
      const key = keys[i];
      if (!key) return;
      const entry = Buffer.concat([Buffer.from(sha256(fresh[k]!), 'latin1'), fresh[k]!]);
      await writeFileAtomic(join(dir, key), entry, { durable: false }).catch(() => undefined);
    }),
  );
  return results as Buffer[];
}
