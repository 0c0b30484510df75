/**
 * The record's documents for each example: how long a build spends writing manifest.json and
 * the two SBOMs (build.json's timings.manifest and timings.sbom), how large they are, and how
 * long `jeos audit` takes against the build's rootfs.tar and the same tree unpacked into a
 * directory (by the real tar, owners kept: run as root).
 *   npm run build && npx tsx bench/record.ts [examples/nginx …] [--runs 5]
 * Builds go to a scratch --out per example (the cache is shared, so a warm cache gives the
 * record's cost, not the archive's). Each audit figure is the median of --runs runs of the
 * audit's own time (report.timings.total) and of the whole CLI (process start included).
 * With --vm, each example also boots under jeos run (its VM output) and is audited as vm:NAME
 * (--vm-runs times, default 3: a VM's audit reads the whole tree through the guest).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const runs = Number(opt('--runs', '5'));
const vmRuns = Number(opt('--vm-runs', '3'));
const withVm = args.includes('--vm');
const named = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs' && args[i - 1] !== '--vm-runs');
const projects = (named.length ? named : ['nginx', 'nginx-tls', 'postgresql', 'python', 'redis'].map((n) => `examples/${n}`)).map((p) => resolve(p));
const cli = resolve('dist/jeos.mjs');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kB = (path: string) => (statSync(path).size / 1000).toFixed(0);

function jeos(...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...argv], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function auditTimes(project: string, out: string, against: string, n = runs): { audit: number; wall: number; drift?: string } {
  const audits: number[] = [];
  const walls: number[] = [];
  let drift: string | undefined;
  for (let i = 0; i < n; i++) {
    const began = process.hrtime.bigint();
    const r = jeos('audit', project, '--out', out, '--against', against, '--json');
    walls.push(Number(process.hrtime.bigint() - began) / 1e6);
    const report = JSON.parse(r.stdout);
    if (!report.ok || (!report.clean && !against.startsWith('vm:'))) throw new Error(`${against}: ${r.stdout.slice(0, 2000)}`);
    if (!report.clean) drift = Object.entries(report.counts as Record<string, number>).filter(([k, v]) => v && !['state', 'runtime'].includes(k)).map(([k, v]) => `${v} ${k}`).join(', ');
    audits.push(report.timings.total);
  }
  return { audit: median(audits), wall: median(walls), ...(drift ? { drift } : {}) };
}

/** Boot the build's VM with jeos run, audit it as vm:NAME, stop it. */
async function vmAudit(project: string, out: string): Promise<{ audit: number; wall: number; drift?: string }> {
  const name = `bench-${process.pid}-${project.split('/').pop()}`;
  const child = spawn(process.execPath, [cli, 'run', project, '--out', out, '--name', name, '--quiet'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let console = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${project}: no boot report within 300 s`)), 300_000);
      child.stdout.on('data', (d: Buffer) => {
        console += d.toString();
        if (/Finished .*jeos-report\.service/.test(console)) (clearTimeout(timer), resolve());
      });
      child.once('close', (code) => (clearTimeout(timer), reject(new Error(`${project}: jeos run ended (${code})`))));
    });
    return auditTimes(project, out, `vm:${name}`, vmRuns);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('close', r)));
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'jeos-bench-record-'));
const rows: string[] = [];
try {
  for (const project of projects) {
    const out = join(scratch, relative(resolve('examples'), project).replaceAll('/', '-'), 'out');
    mkdirSync(out, { recursive: true });
    const built = jeos('build', project, '--out', out, '--json');
    if (built.code !== 0) throw new Error(`jeos build ${project}: ${built.stderr.slice(-2000)}`);
    const record = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const paths = `${manifest.trees.image.length}/${manifest.trees.vm?.length ?? '-'}`;
    const root = join(scratch, 'root');
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root);
    if (spawnSync('tar', ['-xpf', join(out, 'rootfs.tar'), '-C', root, '--numeric-owner'], { stdio: 'inherit' }).status !== 0) throw new Error('tar failed');
    const tar = auditTimes(project, out, join(out, 'rootfs.tar'));
    const dir = auditTimes(project, out, root);
    const vm = withVm ? await vmAudit(project, out) : undefined;
    if (vm?.drift) process.stderr.write(`${project}: the running VM is not clean: ${vm.drift}\n`);
    rows.push(
      [
        relative(process.cwd(), project).padEnd(22),
        String(record.packages.length).padStart(5),
        paths.padStart(10),
        String(record.timings.manifest).padStart(8),
        kB(join(out, 'manifest.json')).padStart(9),
        String(record.timings.sbom).padStart(8),
        kB(join(out, 'sbom.spdx.json')).padStart(9),
        kB(join(out, 'sbom.cdx.json')).padStart(9),
        `${tar.audit} (${tar.wall.toFixed(0)})`.padStart(14),
        `${dir.audit} (${dir.wall.toFixed(0)})`.padStart(14),
        ...(vm ? [`${vm.audit} (${vm.wall.toFixed(0)})${vm.drift ? '*' : ''}`.padStart(16)] : []),
      ].join(' '),
    );
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(`# jeos build and audit, the record's documents per example; ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? '?'} (${cpus().length} CPUs, shared), node ${process.version}`);
console.log('# manifest ms / sbom ms: build.json timings (manifest.json with trim.json; both SBOMs, SPDX 2.3 and CycloneDX 1.6), one build each, warm cache');
console.log(`# audit: report.timings.total, median of ${runs} runs (whole CLI in parentheses), against out/rootfs.tar and the same tree unpacked into a directory`);
if (withVm) console.log(`# audit vm: against the example's VM under jeos run (vm:NAME, TCG), median of ${vmRuns} runs; * = not clean (see stderr)`);
console.log(`example                 pkgs  paths i/vm  manif ms  manif kB  sbom ms   spdx kB    cdx kB   audit tar ms   audit dir ms${withVm ? '     audit vm ms' : ''}`);
for (const r of rows) console.log(r);
