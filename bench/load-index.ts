/**
 * Figures for issue 2: loading trixie main amd64 (~69k packages) from the cache
 * into memory, cold (decompress + parse the cached Packages.xz, and write the
 * pre-parsed form) and warm (read the pre-parsed form). Each load runs in a fresh
 * Node process, as a CLI command would, and includes loading the keyring and
 * verifying the InRelease signature and Valid-Until. The live archive is read
 * once to fill a private cache (mirror from apt's configuration or JEOS_MIRROR).
 *   npx tsx bench/load-index.ts [--runs N] [--suite trixie]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArchive, type ArchiveOptions } from '../src/archive/client.js';
import { FORMAT_VERSION } from '../src/archive/parsed-cache.js';
import { ArchiveCache } from '../src/archive/cache.js';
import { resolveSettings } from '../src/settings/index.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};

async function options(cacheDir: string, suite: string): Promise<ArchiveOptions> {
  // Exactly this suite (a --suite flag would add its -updates and -security companions).
  return resolveSettings({ flags: { cacheDir, arch: 'amd64' }, debian: { suites: [suite] } });
}

if (args[0] === '--child') {
  // One measured load, offline, in this fresh process.
  const o = await options(args[1]!, args[2]!);
  const t = performance.now();
  const index = await loadArchive({ ...o, offline: true });
  process.stdout.write(JSON.stringify({ ms: performance.now() - t, packages: index.packages.length }) + '\n');
} else {
  const runs = Number(opt('--runs', '5'));
  const suite = opt('--suite', 'trixie');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cacheDir = await mkdtemp(join(tmpdir(), 'jeos-bench-'));
  try {
    const first = await loadArchive(await options(cacheDir, suite));
    const index = first.suites[0]!.indices[0]!;
    console.log(`${suite} main amd64: ${first.packages.length} packages, ${(index.size / 1e6).toFixed(1)} MB ${index.path}`);
    const parsed = new ArchiveCache(cacheDir).parsedPath(index.sha256, FORMAT_VERSION);
    const child = () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', cacheDir, suite], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      const out = JSON.parse(r.stdout) as { ms: number; packages: number };
      if (out.packages !== first.packages.length) throw new Error('package count changed between loads');
      return out.ms;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      await rm(parsed, { force: true });
      cold.push(child());
      warm.push(child());
    }
    const row = (label: string, xs: number[], target: number) =>
      console.log(
        `${label.padEnd(32)} median ${(median(xs) / 1000).toFixed(3)} s  (min ${(Math.min(...xs) / 1000).toFixed(3)}, max ${(Math.max(...xs) / 1000).toFixed(3)})  target <= ${target} s  ${median(xs) / 1000 <= target ? 'met' : 'MISSED'}`,
      );
    console.log(`runs: ${runs}, each a fresh process; times include keyring load and signature check`);
    row('cold (Packages.xz from cache)', cold, 1.5);
    row('warm (pre-parsed cache)', warm, 0.3);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}
