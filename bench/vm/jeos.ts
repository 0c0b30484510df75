/**
 * The jeos side of bench/vm.ts: the nginx example with `outputs: [tar, vm]`, built by the
 * bundled CLI (dist/jeos.mjs, so run `npm run build` first) into out/vm/{vmlinuz,initrd.img,cmdline},
 * and `jeos test --vm --accel tcg --json` (the accelerator the bench harness uses too).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const cli = resolve('dist/jeos.mjs');

export interface JeosImage {
  project: string;
  kernel: string;
  initrd: string;
  append: string;
  initrdBytes: number;
  /** The kernel package jeos.lock pinned (`lock.kernel`). */
  kernelPackage: string;
  kernelVersion: string;
  /** jeos build with an empty cache (indices and .debs downloaded, no lock) and again with everything cached, ms. */
  coldBuildMs: number;
  warmBuildMs: number;
}

/** What `jeos test --vm --json` prints (the fields the bench reads). */
export interface JeosTestReport {
  ok: boolean;
  accel?: string;
  machine?: string;
  timings?: { kernel?: number; userspace?: number; ready?: number; total?: number };
  memory?: { totalMiB: number; availableMiB: number; usedMiB: number } | null;
  failedUnits?: string[];
  healthcheck?: { ok: boolean; detail?: string };
}

function build(project: string, cache: string): number {
  const t = performance.now();
  const r = spawnSync('node', [cli, 'build', project, '--quiet', '--cache-dir', cache], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`jeos build failed:\n${(r.stderr + r.stdout).slice(-3000)}`);
  return Math.round(performance.now() - t);
}

export function makeJeos(work: string, example: string): JeosImage {
  const project = join(work, 'jeos-nginx');
  cpSync(example, project, { recursive: true });
  rmSync(join(project, 'out'), { recursive: true, force: true });
  rmSync(join(project, 'jeos.lock'), { force: true }); // locked afresh, from the archive mmdebstrap reads too
  const yamlPath = join(project, 'jeos.yaml');
  const yaml = readFileSync(yamlPath, 'utf8');
  if (!/^outputs:.*$/m.test(yaml)) throw new Error(`${yamlPath} has no outputs: line`);
  writeFileSync(yamlPath, yaml.replace(/^outputs:.*$/m, 'outputs: [tar, vm]'));

  const cache = join(work, 'jeos-cache');
  const coldBuildMs = build(project, cache);
  const warmBuildMs = build(project, cache);
  const vm = join(project, 'out', 'vm');
  const lock = JSON.parse(readFileSync(join(project, 'jeos.lock'), 'utf8')) as { kernel?: { name: string; version: string } };
  if (!lock.kernel) throw new Error('jeos.lock has no kernel entry');
  return {
    project,
    kernel: join(vm, 'vmlinuz'),
    initrd: join(vm, 'initrd.img'),
    append: readFileSync(join(vm, 'cmdline'), 'utf8').trim(),
    initrdBytes: statSync(join(vm, 'initrd.img')).size,
    kernelPackage: lock.kernel.name,
    kernelVersion: lock.kernel.version,
    coldBuildMs,
    warmBuildMs,
  };
}

/** `jeos test DIR --vm --json --memory M`; its JSON report (also when it fails), plus its wall time. */
export function jeosTest(project: string, memoryMiB: number): { report: JeosTestReport; wallMs: number; stderr: string } {
  const t = performance.now();
  const r = spawnSync('node', [cli, 'test', project, '--vm', '--accel', 'tcg', '--json', '--memory', String(memoryMiB)], { encoding: 'utf8', timeout: 300_000 });
  const wallMs = performance.now() - t;
  let report: JeosTestReport;
  try {
    report = JSON.parse(r.stdout) as JeosTestReport;
  } catch {
    report = { ok: false };
  }
  if (r.status !== 0) report.ok = false;
  return { report, wallMs, stderr: r.stderr };
}
