/**
 * How long `jeos audit` takes on a built project, per target: out/rootfs.tar, the same tree
 * unpacked into a directory (by the real tar, owners kept: run as root), out/oci, out/vm/initrd.img
 * (--vm) and, with --container NAME, a running container of the image.
 *   npm run build && npx tsx bench/audit.ts PROJECT [--runs 7] [--container NAME]
 * Each figure is the median of --runs runs of the whole CLI (process start included) and of the
 * audit's own time (report.timings.total: reading the target and comparing).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name: string, dflt?: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const project = resolve(args[0] && !args[0].startsWith('--') ? args[0] : 'examples/nginx');
const runs = Number(opt('--runs', '7'));
const container = opt('--container');
const cli = resolve('dist/jeos.mjs');
const out = join(project, 'out');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function measure(against: string, extra: string[] = []): { wall: number; audit: number; paths: string } {
  const walls: number[] = [];
  const audits: number[] = [];
  let paths = '';
  for (let i = 0; i < runs; i++) {
    const began = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, 'audit', project, '--against', against, '--json', ...extra], { encoding: 'utf8', maxBuffer: 256 << 20 });
    walls.push(Number(process.hrtime.bigint() - began) / 1e6);
    const report = JSON.parse(r.stdout);
    if (!report.ok) throw new Error(`${against}: ${r.stdout}`);
    if (!report.clean) throw new Error(`${against}: not clean: ${JSON.stringify(report.counts)}`);
    audits.push(report.timings.total);
    paths = `${report.target.kind}${report.target.via ? `/${report.target.via}` : ''}`;
  }
  return { wall: median(walls), audit: median(audits), paths };
}

const scratch = mkdtempSync(join(tmpdir(), 'jeos-bench-audit-'));
try {
  const root = join(scratch, 'root');
  spawnSync('mkdir', [root]);
  const tar = spawnSync('tar', ['-xpf', join(out, 'rootfs.tar'), '-C', root, '--numeric-owner'], { stdio: 'inherit' });
  if (tar.status !== 0) throw new Error('tar failed');
  const targets: Array<[string, string, string[]]> = [
    ['out/rootfs.tar', join(out, 'rootfs.tar'), []],
    ['directory (rootfs.tar unpacked)', root, []],
    ['out/oci', join(out, 'oci'), []],
    ['out/vm/initrd.img --vm', join(out, 'vm/initrd.img'), ['--vm']],
    ...(container ? [[`container:${container}`, `container:${container}`, []] as [string, string, string[]]] : []),
  ];
  console.log(`jeos audit ${project}: median of ${runs} runs; ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? '?'} (${cpus().length} CPUs), node ${process.version}`);
  console.log('target                              kind             audit (ms)   whole CLI (ms)');
  for (const [label, against, extra] of targets) {
    const m = measure(against, extra);
    console.log(`${label.padEnd(36)}${m.paths.padEnd(17)}${String(m.audit).padStart(10)}   ${m.wall.toFixed(0).padStart(14)}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
