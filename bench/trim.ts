/**
 * Figures for issue 6: what the file-level trim saves, and how little memory each trimmed VM serves
 * with, for the workloads in examples/, side by side in one run.
 *   npm run build && npx tsx bench/trim.ts [--only nginx,redis,…] [--no-memory] [--no-minbase] [--json] [--keep]
 *
 * Sizes (bench/trim/size.ts: bytes of regular files, hard links once, plus symlink target lengths;
 * directories not counted), for each workload:
 *   trimmed    out/rootfs.tar of `jeos build` (trim on, the default), extracted
 *   untrimmed  out/rootfs.tar of `jeos build --no-trim`, extracted
 *   minbase    `mmdebstrap --variant=minbase --include=<workload.packages> trixie` (+ trixie-updates,
 *              trixie-security; mirrors from apt's configuration or JEOS_MIRROR / JEOS_SECURITY_MIRROR)
 * and the ratios minbase / trimmed and untrimmed / trimmed. Each example is copied to a scratch
 * directory without its jeos.lock (locked afresh from the archive mmdebstrap reads too); one cache for
 * every jeos build of the run.
 *
 * Smallest memory (skipped with --no-memory): `jeos test DIR --vm --accel tcg --memory M` on the
 * trimmed build, one attempt per size, starting at the example's vm.memory: while it passes, the next
 * smaller size of the ladder; if it fails, the next larger one until one passes. The smallest size that
 * passed is reported, with the first failure below it and what failed (from jeos test's report).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { minbaseWith, type Minbase } from './trim/minbase.js';
import { tarSize, type TreeSize } from './trim/size.js';
import { jeosTest } from './vm/jeos.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const EXAMPLES = ['nginx', 'redis', 'postgresql', 'python', 'nginx-tls'];
const only = opt('--only', EXAMPLES.join(',')).split(',');
const json = args.includes('--json');
const LADDER = [48, 64, 80, 96, 112, 128, 160, 192, 256, 320, 384, 448, 512, 640, 768, 1024];
const cli = resolve('dist/jeos.mjs');
const log = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');
const progress = (line: string) => process.stderr.write(`  · ${line}\n`);
const MB = (b: number | undefined) => (b === undefined ? '—' : `${(b / 1e6).toFixed(2)} MB`);
const MiB = (b: number | undefined) => (b === undefined ? '—' : `${(b / 2 ** 20).toFixed(2)} MiB`);

const work = mkdtempSync(join(tmpdir(), 'jeos-bench-trim-'));
const cache = join(work, 'jeos-cache');

interface Build {
  size: TreeSize;
  ms: number;
  packages: number;
  /** The VM's initramfs, compressed and unpacked (build.json), when vm is an output. */
  initrd?: { bytes: number; unpackedBytes: number };
}

function build(example: string, trim: boolean): { project: string; result: Build } {
  const project = join(work, `${example}-${trim ? 'trimmed' : 'untrimmed'}`);
  cpSync(resolve('examples', example), project, { recursive: true });
  rmSync(join(project, 'out'), { recursive: true, force: true });
  rmSync(join(project, 'jeos.lock'), { force: true });
  const t = performance.now();
  const r = spawnSync('node', [cli, 'build', project, '--quiet', '--cache-dir', cache, ...(trim ? [] : ['--no-trim'])], { encoding: 'utf8' });
  const ms = Math.round(performance.now() - t);
  if (r.status !== 0) throw new Error(`jeos build ${example}${trim ? '' : ' --no-trim'} failed:\n${(r.stderr + r.stdout).slice(-3000)}`);
  const record = JSON.parse(readFileSync(join(project, 'out/build.json'), 'utf8'));
  const vm = (record.outputs as { format: string; vm?: { initrd?: { size: number; uncompressedSize: number } } }[]).find((o) => o.format === 'vm');
  const initrd = vm?.vm?.initrd && { bytes: vm.vm.initrd.size, unpackedBytes: vm.vm.initrd.uncompressedSize };
  return { project, result: { size: tarSize(join(project, 'out/rootfs.tar'), work), ms, packages: record.packages.length, initrd } };
}

interface Attempt { memoryMiB: number; ok: boolean; ready?: number; usedMiB?: number; failure?: string }
interface Memory { smallestMiB: number | null; attempts: Attempt[] }

/** What stopped a VM: jeos test's failure, the health check's last word, and the kernel's own reason from the console. */
function whyFailed(r: { failure?: string; healthcheck?: { detail?: string }; console?: string }, stderr: string): string {
  const console = r.console ?? '';
  const kernel = [
    /Kernel panic - not syncing: [^\n]*/.exec(console)?.[0],
    /Initramfs unpacking failed: [^\n]*/.exec(console)?.[0],
    /Out of memory: Killed process \d+ \([^)]*\)/.exec(console)?.[0],
    /unpack_to_rootfs/.test(console) ? 'while unpacking the initramfs' : undefined,
  ].filter(Boolean);
  const parts = [r.failure, r.healthcheck?.detail === 'not probed yet' ? undefined : r.healthcheck?.detail, ...kernel].filter(Boolean);
  return parts.length ? parts.join('; ') : stderr.trim().split('\n').slice(-2).join(' ') || 'failed';
}

function attempt(project: string, m: number): Attempt {
  const t = jeosTest(project, m);
  const r = t.report as typeof t.report & { failure?: string; healthcheck?: { ok: boolean; detail?: string }; console?: string };
  const failure = r.ok ? undefined : whyFailed(r, t.stderr);
  return { memoryMiB: m, ok: r.ok, ready: r.timings?.ready, usedMiB: r.memory?.usedMiB, ...(failure ? { failure } : {}) };
}

function smallestMemory(example: string, project: string, start: number): Memory {
  const out: Memory = { smallestMiB: null, attempts: [] };
  let i = LADDER.findIndex((m) => m >= start);
  if (i < 0) i = LADDER.length - 1;
  const tryAt = (j: number) => {
    const a = attempt(project, LADDER[j]!);
    progress(`${example} -m ${a.memoryMiB}: ${a.ok ? `ok, ready ${((a.ready ?? 0) / 1000).toFixed(1)} s, ${a.usedMiB ?? '?'} MiB used` : `FAILED: ${a.failure}`}`);
    out.attempts.push(a);
    return a.ok;
  };
  if (tryAt(i)) {
    out.smallestMiB = LADDER[i]!;
    for (let j = i - 1; j >= 0 && tryAt(j); j--) out.smallestMiB = LADDER[j]!;
  } else {
    for (let j = i + 1; j < LADDER.length; j++) {
      if (tryAt(j)) {
        out.smallestMiB = LADDER[j]!;
        break;
      }
    }
  }
  return out;
}

interface Row {
  example: string;
  packages: string[];
  trimmed: Build;
  untrimmed: Build;
  minbase?: Minbase;
  memory?: Memory;
}

const load = { start: loadavg()[0]!, end: 0 };
const rows: Row[] = [];
for (const example of only) {
  if (!EXAMPLES.includes(example)) throw new Error(`unknown workload ${example} (one of ${EXAMPLES.join(', ')})`);
  const config = parse(readFileSync(resolve('examples', example, 'jeos.yaml'), 'utf8')) as { workload: { packages: string[] }; outputs?: string[]; vm?: { memory?: number } };
  const packages = config.workload.packages;
  progress(`${example}: jeos build (trimmed)`);
  const trimmed = build(example, true);
  progress(`${example}: jeos build --no-trim`);
  const untrimmed = build(example, false);
  rmSync(untrimmed.project, { recursive: true, force: true });
  let minbase: Minbase | undefined;
  if (!args.includes('--no-minbase')) {
    progress(`${example}: mmdebstrap --variant=minbase --include=${packages.join(',')}`);
    minbase = await minbaseWith(packages, work, example);
  }
  let memory: Memory | undefined;
  if (!args.includes('--no-memory') && config.outputs?.includes('vm')) memory = smallestMemory(example, trimmed.project, config.vm?.memory ?? 256);
  rows.push({ example, packages, trimmed: trimmed.result, untrimmed: untrimmed.result, minbase, memory });
}
load.end = loadavg()[0]!;

const ratio = (a: number | undefined, b: number) => (a === undefined ? undefined : a / b);
if (json) {
  process.stdout.write(
    JSON.stringify(
      {
        loadAverage: load,
        rows: rows.map((r) => ({
          ...r,
          ratio: { minbaseOverTrimmed: ratio(r.minbase?.size.bytes, r.trimmed.size.bytes), untrimmedOverTrimmed: r.untrimmed.size.bytes / r.trimmed.size.bytes },
        })),
      },
      null,
      2,
    ) + '\n',
  );
}
// The table too (on stderr with --json).
{
  const x = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)}x`);
  log('Root file system, bytes of files and symlinks (MB = 10^6 bytes); jeos locked afresh from trixie + updates + security');
  log(`  ${'workload'.padEnd(11)} ${'trimmed'.padStart(11)} ${'untrimmed'.padStart(11)} ${'minbase+PKG'.padStart(12)} ${'minbase/trim'.padStart(12)} ${'untrim/trim'.padStart(11)}  ${'VM initrd (trimmed)'.padEnd(20)} smallest -m`);
  for (const r of rows) {
    const m = r.memory;
    const mem = !m ? '—' : m.smallestMiB === null ? `none ≤ ${LADDER.at(-1)}` : `${m.smallestMiB} MiB`;
    log(
      `  ${r.example.padEnd(11)} ${MB(r.trimmed.size.bytes).padStart(11)} ${MB(r.untrimmed.size.bytes).padStart(11)} ${MB(r.minbase?.size.bytes).padStart(12)} ${x(ratio(r.minbase?.size.bytes, r.trimmed.size.bytes)).padStart(12)} ${x(r.untrimmed.size.bytes / r.trimmed.size.bytes).padStart(11)}  ${MiB(r.trimmed.initrd?.bytes).padEnd(20)} ${mem}`,
    );
  }
  log('');
  for (const r of rows) {
    log(`  ${r.example}: packages ${r.packages.join(', ')}; files trimmed ${r.trimmed.size.files} / untrimmed ${r.untrimmed.size.files}${r.minbase ? ` / minbase ${r.minbase.size.files}` : ''}; jeos packages ${r.trimmed.packages}; build ${(r.trimmed.ms / 1000).toFixed(1)} s${r.minbase ? `, mmdebstrap ${(r.minbase.ms / 1000).toFixed(1)} s` : ''}`);
    if (r.memory) {
      const tried = r.memory.attempts.map((a) => `${a.memoryMiB}${a.ok ? ' ok' : ' FAILED'}`).join(', ');
      const failed = r.memory.attempts.find((a) => !a.ok);
      log(`    -m ladder (one attempt each): ${tried}${failed ? `; at ${failed.memoryMiB}: ${failed.failure}` : ''}`);
    }
  }
  const nginx = rows.find((r) => r.example === 'nginx');
  if (nginx) {
    const b = nginx.trimmed.size.bytes;
    const rr = ratio(nginx.minbase?.size.bytes, b);
    log('');
    log(`  nginx targets: trimmed ${MB(b)} (${MiB(b)}) <= 14 MB: ${b <= 14e6 ? 'met' : 'NOT met'}; minbase+nginx / trimmed ${x(rr)} > 9x: ${rr === undefined ? '—' : rr > 9 ? 'met' : 'NOT met'}; VM serves with -m 64: ${nginx.memory ? (nginx.memory.attempts.some((a) => a.memoryMiB === 64 && a.ok) ? 'met' : 'NOT met') : '—'}`);
  }
  log(`  1-minute load average ${load.start.toFixed(1)} at the start, ${load.end.toFixed(1)} at the end (VMs run under TCG: other work slows them)`);
}
if (args.includes('--keep')) log(`work directory kept: ${work}`);
else rmSync(work, { recursive: true, force: true });
