/**
 * The jeos side of bench/vm.ts: the nginx example in each of the four VM shapes (`vm.init`
 * systemd | busybox, `vm.root` initramfs | disk), each copied to a directory of its own with
 * `outputs: [tar, vm]` and its `vm:` keys set in jeos.yaml, built by the bundled CLI
 * (dist/jeos.mjs, so run `npm run build` first) into out/vm/{vmlinuz,cmdline} and initrd.img
 * or root.img; and `jeos test --vm --accel tcg --json` (the accelerator the bench harness uses too).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';

const cli = resolve('dist/jeos.mjs');

export interface Shape {
  init: 'systemd' | 'busybox';
  root: 'initramfs' | 'disk';
}
export const ALL_SHAPES = 'systemd/initramfs,systemd/disk,busybox/initramfs,busybox/disk';
export const shapeName = (s: Shape) => `${s.init}/${s.root}`;

/** `systemd/initramfs,busybox/disk` → shapes, in the order given. */
export function parseShapes(list: string): Shape[] {
  return list.split(',').filter(Boolean).map((word) => {
    const [init, root] = word.split('/');
    if ((init !== 'systemd' && init !== 'busybox') || (root !== 'initramfs' && root !== 'disk')) {
      throw new Error(`--shapes: "${word}" is not INIT/ROOT (INIT systemd or busybox, ROOT initramfs or disk)`);
    }
    return { init, root };
  });
}

export interface JeosImage {
  shape: Shape;
  project: string;
  kernel: string;
  /** out/vm/initrd.img (root: initramfs) or out/vm/root.img (root: disk). */
  initrd?: string;
  disk?: string;
  append: string;
  /** root: initramfs — initrd.img's size (zstd) and the archive's size before compression, from build.json. */
  initrdBytes?: number;
  initrdUncompressedBytes?: number;
  /** root: disk — root.img's apparent size, the bytes its blocks in use hold (build.json), and `du -B1` of the sparse file. */
  diskBytes?: number;
  diskUsedBytes?: number;
  diskDuBytes?: number;
  /** The kernel package jeos.lock pinned (`lock.kernel`). */
  kernelPackage: string;
  kernelVersion: string;
  /** The first jeos build (with the bench's shared cache: empty only for the first shape built) and a rebuild, ms. */
  firstBuildMs: number;
  coldCache: boolean;
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

interface BuildJson {
  outputs?: { format: string; vm?: { initrd?: { size: number; uncompressedSize: number }; disk?: { size: number; usedBytes: number } } }[];
}

function build(project: string, cache: string): number {
  const t = performance.now();
  const r = spawnSync('node', [cli, 'build', project, '--quiet', '--cache-dir', cache], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`jeos build ${project} failed:\n${(r.stderr + r.stdout).slice(-3000)}`);
  return Math.round(performance.now() - t);
}

/** Copy the example to WORK/jeos-nginx-INIT-ROOT, set its outputs and vm keys, drop its lock and out/. */
function prepare(work: string, example: string, shape: Shape): string {
  const project = join(work, `jeos-nginx-${shape.init}-${shape.root}`);
  cpSync(example, project, { recursive: true });
  rmSync(join(project, 'out'), { recursive: true, force: true });
  rmSync(join(project, 'jeos.lock'), { force: true }); // locked afresh, from the archive mmdebstrap reads too
  const yamlPath = join(project, 'jeos.yaml');
  const doc = parseDocument(readFileSync(yamlPath, 'utf8'));
  if (doc.errors.length) throw new Error(`${yamlPath}: ${doc.errors[0]!.message}`);
  doc.set('outputs', ['tar', 'vm']);
  doc.setIn(['vm', 'init'], shape.init);
  doc.setIn(['vm', 'root'], shape.root);
  writeFileSync(yamlPath, doc.toString());
  return project;
}

/** Build one shape; `cache` is shared by the shapes (the first build into an empty one is the cold build). */
export function makeJeos(work: string, example: string, shape: Shape, cache: string, coldCache: boolean): JeosImage {
  const project = prepare(work, example, shape);
  const firstBuildMs = build(project, cache);
  const warmBuildMs = build(project, cache);
  const vm = join(project, 'out', 'vm');
  const lock = JSON.parse(readFileSync(join(project, 'jeos.lock'), 'utf8')) as { kernel?: { name: string; version: string } };
  if (!lock.kernel) throw new Error(`${project}/jeos.lock has no kernel entry`);
  const info = (JSON.parse(readFileSync(join(project, 'out', 'build.json'), 'utf8')) as BuildJson).outputs?.find((o) => o.format === 'vm')?.vm;
  const image: JeosImage = {
    shape,
    project,
    kernel: join(vm, 'vmlinuz'),
    append: readFileSync(join(vm, 'cmdline'), 'utf8').trim(),
    kernelPackage: lock.kernel.name,
    kernelVersion: lock.kernel.version,
    firstBuildMs,
    coldCache,
    warmBuildMs,
  };
  if (shape.root === 'initramfs') {
    image.initrd = join(vm, 'initrd.img');
    image.initrdBytes = statSync(image.initrd).size;
    image.initrdUncompressedBytes = info?.initrd?.uncompressedSize;
  } else {
    image.disk = join(vm, 'root.img');
    image.diskBytes = statSync(image.disk).size;
    image.diskUsedBytes = info?.disk?.usedBytes;
    const du = spawnSync('du', ['-B1', image.disk], { encoding: 'utf8' });
    image.diskDuBytes = du.status === 0 ? Number(du.stdout.split('\t')[0]) : undefined;
  }
  return image;
}

/** `jeos test DIR --vm --json --memory M`; its JSON report (also when it fails), plus its wall time. */
export function jeosTest(project: string, memoryMiB: number, pvh = true, cpus?: number, append = ''): { report: JeosTestReport; wallMs: number; stderr: string } {
  const t = performance.now();
  const argv = [cli, 'test', project, '--vm', '--accel', 'tcg', '--json', '--memory', String(memoryMiB), ...(cpus ? ['--cpus', String(cpus)] : []), ...(pvh ? [] : ['--no-pvh']), ...(append ? ['--append', append] : [])];
  const r = spawnSync('node', argv, { encoding: 'utf8', timeout: 300_000 });
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
