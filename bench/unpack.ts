/**
 * Unpack every .deb in a directory into a fresh image tree and print how long it took
 * (the files are read into memory first, as the build does after fetch).
 *   npx tsx bench/unpack.ts DIR [--runs N] [--arch amd64] [--processes N]
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageTree } from '../src/tree/index.js';
import { unpackPackages } from '../src/unpack/index.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!dir) {
  console.error('usage: npx tsx bench/unpack.ts DIR [--runs N] [--arch amd64] [--processes N]');
  process.exit(2);
}
const runs = Number(opt('--runs', '5'));
const architecture = opt('--arch', 'amd64');
const processes = args.includes('--processes') ? Number(opt('--processes', '2')) : undefined;

const names = (await readdir(dir)).filter((n) => n.endsWith('.deb')).sort();
const debs = await Promise.all(names.map(async (n) => ({ label: n, bytes: await readFile(join(dir, n)) })));
const compressed = debs.reduce((sum, d) => sum + d.bytes.length, 0);
console.log(`${debs.length} packages, ${(compressed / 2 ** 20).toFixed(1)} MiB of .debs`);

const times: number[] = [];
for (let run = 1; run <= runs; run++) {
  const tree = new ImageTree();
  const began = performance.now();
  const { stats } = await unpackPackages(tree, debs, { architecture, ...(processes ? { processes } : {}) });
  const ms = performance.now() - began;
  times.push(ms);
  console.log(
    `run ${run}: ${ms.toFixed(0)} ms — ${stats.entries} entries, ${stats.files} files, ${(stats.bytes / 2 ** 20).toFixed(1)} MiB, ${tree.size} tree nodes`,
  );
}
const sorted = [...times].sort((a, b) => a - b);
console.log(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, best ${sorted[0]!.toFixed(0)} ms over ${runs} runs`);
