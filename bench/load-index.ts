/**
 * Figures for issue 2: loading trixie main amd64 (~69k packages) from the cache
 * into memory, cold (decompress + parse the cached Packages.xz) and warm (the
 * pre-parsed form). Runs against the live archive once to fill a private cache,
 * then measures offline. Mirror from apt's configuration or JEOS_MIRROR.
 *   npx tsx bench/load-index.ts [--runs N] [--suite trixie]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArchive, type ArchiveOptions } from '../src/archive/client.js';
import { FORMAT_VERSION } from '../src/archive/parsed-cache.js';
import { ArchiveCache } from '../src/archive/cache.js';
import { discoverMirrors } from '../src/archive/mirrors.js';
import { DEFAULT_KEYRING } from '../src/archive/signature.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const runs = Number(opt('--runs', '5'));
const suite = opt('--suite', 'trixie');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const cacheDir = await mkdtemp(join(tmpdir(), 'jeos-bench-'));
try {
  const options: ArchiveOptions = {
    mirrors: await discoverMirrors(),
    suites: [suite],
    components: ['main'],
    architecture: 'amd64',
    keyring: process.env.JEOS_KEYRING ?? DEFAULT_KEYRING,
    cacheDir,
  };
  const first = await loadArchive(options);
  const index = first.suites[0]!.indices[0]!;
  console.log(`${suite} main amd64: ${first.packages.length} packages, ${(index.size / 1e6).toFixed(1)} MB ${index.path}`);
  const cache = new ArchiveCache(cacheDir);
  const parsed = cache.parsedPath(index.sha256, FORMAT_VERSION);

  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    await rm(parsed, { force: true });
    let t = performance.now();
    await loadArchive({ ...options, offline: true });
    cold.push(performance.now() - t);
    t = performance.now();
    const again = await loadArchive({ ...options, offline: true });
    warm.push(performance.now() - t);
    if (again.packages.length !== first.packages.length) throw new Error('package count changed between loads');
  }
  const row = (label: string, xs: number[], target: number) =>
    console.log(`${label.padEnd(34)} median ${(median(xs) / 1000).toFixed(3)} s  (min ${(Math.min(...xs) / 1000).toFixed(3)}, max ${(Math.max(...xs) / 1000).toFixed(3)})  target <= ${target} s  ${median(xs) / 1000 <= target ? 'MET' : 'MISSED'}`);
  console.log(`runs: ${runs} (each load verifies the InRelease signature and Valid-Until)`);
  row('cold (Packages.xz from cache)', cold, 1.5);
  row('warm (pre-parsed cache)', warm, 0.3);
} finally {
  await rm(cacheDir, { recursive: true, force: true });
}
