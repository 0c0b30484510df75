/**
 * Figures for issue 4: building the nginx example, cold and warm, side by side with
 * `mmdebstrap --variant=extract --include=nginx` (apt's closure, unpacked, no scripts)
 * in the same run. Mirrors come from apt's configuration (or JEOS_MIRROR / JEOS_SECURITY_MIRROR).
 *   npm run build && npx tsx bench/build.ts [--runs N] [--dir examples/nginx]
 *
 * jeos cold:   empty cache (Packages indices and .debs downloaded), no jeos.lock: lock + fetch + build.
 * jeos fetch:  a lock and the indices present, .deb cache empty (what a CI build with a committed lock does).
 * jeos warm:   everything cached, lock present.
 * mmdebstrap:  always cold (it downloads indices and packages into its own temporary apt).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trixieSources } from './trixie-sources.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const runs = Number(opt('--runs', '3'));
const example = resolve(opt('--dir', 'examples/nginx'));
const cli = resolve('dist/jeos.mjs');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = performance.now();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr.toString().slice(-2000)}`);
  return ms;
}

const work = mkdtempSync(join(tmpdir(), 'jeos-bench-build-'));
const project = join(work, 'nginx');
cpSync(example, project, { recursive: true });
rmSync(join(project, 'jeos.lock'), { force: true });
const out = join(work, 'out');

const sources = await trixieSources();

const results: Record<string, number[]> = { 'jeos cold': [], 'jeos fetch': [], 'jeos warm': [], mmdebstrap: [] };
let mmdebstrapSize = 0;
for (let i = 0; i < runs; i++) {
  const cache = join(work, `cache-${i}`);
  rmSync(join(project, 'jeos.lock'), { force: true });
  results['jeos cold']!.push(timed('node', [cli, 'build', project, '--out', out, '--quiet'], { JEOS_CACHE_DIR: cache }));
  rmSync(join(cache, 'debs'), { recursive: true, force: true });
  results['jeos fetch']!.push(timed('node', [cli, 'build', project, '--out', out, '--quiet'], { JEOS_CACHE_DIR: cache }));
  for (let w = 0; w < 3; w++) results['jeos warm']!.push(timed('node', [cli, 'build', project, '--out', out, '--quiet'], { JEOS_CACHE_DIR: cache }));
  const target = join(work, `mmdebstrap-${i}.tar`);
  results.mmdebstrap!.push(timed('mmdebstrap', ['--quiet', '--variant=extract', '--include=nginx', 'trixie', target, ...sources]));
  mmdebstrapSize = statSync(target).size;
  rmSync(target);
  rmSync(cache, { recursive: true, force: true });
}

const jeosSize = statSync(join(out, 'rootfs.tar')).size;
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
console.log(`nginx example, ${runs} runs (median ms; warm is the median of ${runs * 3})`);
for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(12)} ${v.toFixed(0).padStart(7)} ms`);
console.log(`  jeos cold / mmdebstrap:  ${(m['jeos cold']! / m.mmdebstrap!).toFixed(2)}  (target <= 0.5)`);
console.log(`  jeos fetch / mmdebstrap: ${(m['jeos fetch']! / m.mmdebstrap!).toFixed(2)}`);
console.log(`  jeos warm:               ${(m['jeos warm']! / 1000).toFixed(2)} s  (target <= 0.5 s)`);
console.log(`  rootfs.tar: jeos ${mb(jeosSize)}, mmdebstrap extract ${mb(mmdebstrapSize)}`);
rmSync(work, { recursive: true, force: true });
