/**
 * bench/vm.ts's figures: medians of the timed boots, the ratio conventional / jeos shape for
 * time to HTTP 200, and the text table or JSON report.
 */
import type { ConventionalImage } from './conventional.js';
import type { JeosImage, JeosTestReport } from './jeos.js';
import type { BootResult } from './qemu.js';

/** One attempt of the memory ladder. */
export interface Ladder {
  smallestMiB: number | null;
  attempts: { memoryMiB: number; ok: boolean; ready: number | null; failure?: string }[];
}

/** What was measured of one VM: the conventional one (no `image`) or one jeos shape. */
export interface Side {
  name: string;
  boots: BootResult[];
  conventional?: ConventionalImage;
  image?: JeosImage;
  tests: JeosTestReport[];
  ladder?: Ladder;
  testAtSmallest?: JeosTestReport;
}

export interface Run {
  qemu: string;
  accel: string;
  memoryMiB: number;
  runs: number;
  ladder: number[];
  /** 1-minute load average at the start, the highest seen before a boot, and at the end. */
  load: { start: number; max: number; end: number };
  appendConventional: string;
  /** --append: added to every VM's command line. */
  appendAll: string;
  /** What jeos run adds to the jeos shapes' command lines under TCG (accelCmdline). */
  appendJeos: string;
  /** Which VMs booted the kernel's uncompressed ELF through its PVH entry: the jeos shapes, all, or none. */
  pvh: string;
  /** -smp of every VM. */
  cpus: number;
  conventional?: Side;
  shapes: Side[];
  memory: boolean;
}

export const median = (xs: (number | null | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)]! : null;
};
export const sec = (ms: number | null | undefined) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '—');
const mb = (bytes: number | undefined) => (typeof bytes === 'number' ? `${(bytes / 1e6).toFixed(1)} MB` : '—');
/** Width of the name column. */
const W = 26;
const x = (r: number | null) => (r === null ? '—' : `${r.toFixed(1)}x`);
const ratio = (a: number | null, b: number | null) => (a !== null && b ? a / b : null);

export function harnessMedians(rs: BootResult[]) {
  return {
    console: median(rs.map((r) => r.console)),
    init: median(rs.map((r) => r.init)),
    systemd: median(rs.map((r) => r.systemd)),
    ready: median(rs.filter((r) => r.ok).map((r) => r.ready)),
    failed: rs.filter((r) => !r.ok).length,
  };
}

export function testMedians(ts: JeosTestReport[]) {
  return {
    kernel: median(ts.map((t) => t.timings?.kernel)),
    userspace: median(ts.map((t) => t.timings?.userspace)),
    ready: median(ts.filter((t) => t.ok).map((t) => t.timings?.ready)),
    usedMiB: median(ts.map((t) => t.memory?.usedMiB)),
    failed: ts.filter((t) => !t.ok).length,
  };
}

/** conventional / shape, time to HTTP 200: the harness's medians, and the harness's conventional over jeos test's ready. */
function ratios(run: Run, shape: Side) {
  const conv = run.conventional ? harnessMedians(run.conventional.boots).ready : null;
  return { harness: ratio(conv, harnessMedians(shape.boots).ready), jeosTest: ratio(conv, testMedians(shape.tests).ready) };
}

export function toJson(run: Run): object {
  const strip = (rs: BootResult[]) => rs.map(({ consoleTail: _c, ...r }) => r);
  const omit = (o: object, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
  const c = run.conventional;
  return {
    qemu: run.qemu, accel: run.accel, pvh: run.pvh, cpus: run.cpus, appendAll: run.appendAll, appendJeos: run.appendJeos, memoryMiB: run.memoryMiB, runs: run.runs, ladder: run.ladder, loadAverage: run.load,
    conventional: c && {
      ...omit(c.conventional!, ['kernel', 'initrd', 'disk']),
      append: run.appendConventional,
      boots: strip(c.boots),
      median: harnessMedians(c.boots),
      memory: run.memory ? c.ladder : null,
    },
    shapes: run.shapes.map((s) => ({
      shape: s.name,
      ...omit(s.image!, ['kernel', 'initrd', 'disk', 'project', 'shape']),
      boots: strip(s.boots),
      median: harnessMedians(s.boots),
      jeosTest: s.tests,
      jeosTestMedian: testMedians(s.tests),
      ratio: ratios(run, s),
      memory: run.memory ? s.ladder : null,
      jeosTestAtSmallest: run.memory ? s.testAtSmallest ?? null : null,
    })),
  };
}

export function toText(run: Run): string[] {
  const out: string[] = [];
  const log = (line = '') => out.push(line);
  const c = run.conventional;
  log(`QEMU ${run.qemu}; accelerator ${run.accel}; -smp ${run.cpus} for every VM; -m ${run.memoryMiB} for the timed runs; ${run.runs} runs, medians, seconds since qemu spawn`);
  log(`  1-minute load average ${run.load.start.toFixed(2)} at the start, at most ${run.load.max.toFixed(2)} before a boot, ${run.load.end.toFixed(2)} at the end (TCG is CPU-bound: other work on the machine slows every VM)`);
  if (run.appendAll) log(`  added to every VM's kernel command line (--append): ${run.appendAll}`);
  if (run.appendJeos) log(`  added to the jeos shapes' command lines, as jeos run and jeos test add it under TCG: ${run.appendJeos}`);
  log(`  kernel entry: ${{ jeos: 'the jeos shapes through PVH (the uncompressed ELF, as jeos run boots them), the conventional VM from its vmlinuz', all: 'every VM through PVH (the uncompressed ELF)', none: 'every VM from its vmlinuz (bzImage)' }[run.pvh] ?? run.pvh}`);
  if (c) log(`  conventional kernel: ${c.conventional!.kernelPackage} ${c.conventional!.kernelVersion} (mmdebstrap's choice)`);
  const kernels = new Set(run.shapes.map((s) => `${s.image!.kernelPackage} ${s.image!.kernelVersion}`));
  if (kernels.size) log(`  jeos kernel:         ${[...kernels].join(', ')} (jeos.lock${run.shapes.length > 1 ? ' of each shape' : ''})`);
  if (c && kernels.size) {
    const same = kernels.size === 1 && kernels.has(`${c.conventional!.kernelPackage} ${c.conventional!.kernelVersion}`);
    log(`  same kernel: ${same ? 'yes' : 'NO — the figures compare different kernels'}`);
  }

  log();
  log(`  ${'bench harness'.padEnd(W)} ${'console'.padStart(8)} ${'/init'.padStart(8)} ${'systemd'.padStart(8)} ${'HTTP 200'.padStart(9)} ${'conv./shape'.padStart(12)}`);
  const row = (s: Side) => {
    const m = harnessMedians(s.boots);
    const r = s.image ? x(ratios(run, s).harness) : '';
    log(`  ${(s.image ? `jeos ${s.name}` : s.name).padEnd(W)} ${sec(m.console).padStart(8)} ${sec(m.init).padStart(8)} ${sec(m.systemd).padStart(8)} ${sec(m.ready).padStart(9)} ${r.padStart(12)}${m.failed ? `  (${m.failed} failed)` : ''}`);
  };
  if (c) row(c);
  run.shapes.forEach(row);
  if (run.shapes.length) {
    const first = run.shapes[0]!.tests[0];
    log();
    log(`  ${`jeos test --vm (${first?.machine ?? '?'}, ${first?.accel ?? '?'})`.padEnd(W)} ${'kernel'.padStart(8)} ${'userspace'.padStart(10)} ${'ready'.padStart(8)} ${'used'.padStart(8)} ${'conv./shape'.padStart(12)}`);
    for (const s of run.shapes) {
      const t = testMedians(s.tests);
      const used = t.usedMiB === null ? '—' : `${t.usedMiB} MiB`;
      log(`  ${s.name.padEnd(W)} ${sec(t.kernel).padStart(8)} ${sec(t.userspace).padStart(10)} ${sec(t.ready).padStart(8)} ${used.padStart(8)} ${(c ? x(ratios(run, s).jeosTest) : '').padStart(12)}${t.failed ? `  (${t.failed} failed)` : ''}`);
    }
    log(`  (used: guest memory in use at ready; conv./shape: the harness's conventional median over jeos test's ready)`);
    if (c) log(`  target: conventional / jeos >= 8x for time to HTTP 200`);
  }

  log();
  if (c) {
    const ci = c.conventional!;
    log(`  ${'conventional'.padEnd(W)} mmdebstrap ${sec(ci.mmdebstrapMs)} + mkfs.ext4 ${sec(ci.mkfsMs)}; tree ${mb(ci.treeBytes)}, ext4 image ${mb(ci.diskBytes)}`);
  }
  for (const s of run.shapes) {
    const i = s.image!;
    const size = i.shape.root === 'initramfs'
      ? `initrd.img ${mb(i.initrdBytes)} (${mb(i.initrdUncompressedBytes)} uncompressed; target <= 25 MB)`
      : `root.img ${mb(i.diskUsedBytes)} in use (du -B1 ${mb(i.diskDuBytes)}; apparent size ${mb(i.diskBytes)})`;
    log(`  ${s.name.padEnd(W)} ${size}; build ${sec(i.firstBuildMs)}${i.coldCache ? ' (empty cache)' : ''}, ${sec(i.warmBuildMs)} again`);
  }

  const laddered = [c, ...run.shapes].filter((s): s is Side => !!s?.ladder);
  if (laddered.length) {
    log();
    log(`  smallest -m that served HTTP 200 (ladder ${run.ladder.join(', ')}; one attempt each, the bench harness):`);
    for (const s of laddered) {
      const l = s.ladder!;
      const failed = l.attempts.find((a) => !a.ok);
      const smallest = l.smallestMiB === null ? `none (> ${run.ladder[0]})` : `${l.smallestMiB} MiB`;
      const confirm = s.testAtSmallest ? `; jeos test --vm --memory ${l.smallestMiB}: ${s.testAtSmallest.ok ? 'ok' : 'FAILED'}` : '';
      log(`    ${s.name.padEnd(W - 2)} ${smallest.padStart(8)}  ${failed ? `(fails at ${failed.memoryMiB}: ${failed.failure})` : '(every size served)'}${confirm}`);
    }
    log(`    target: jeos serves with -m 128 or less`);
  }
  return out;
}
