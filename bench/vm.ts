/**
 * Figures for issue 5: the jeos nginx VM against a conventional Debian VM, side by side in
 * the same run, under the same accelerator (TCG, -cpu max: KVM hangs on the machines this
 * was written on) and with the same kernel.
 *   npm run build && npx tsx bench/vm.ts [--runs N] [--memory MiB] [--no-memory]
 *                                        [--only conventional|jeos] [--dir examples/nginx] [--json] [--keep]
 *
 * Conventional: `mmdebstrap --variant=minbase --include=systemd-sysv,nginx,linux-image-cloud-amd64,
 *   initramfs-tools trixie` (+ trixie-updates, trixie-security; mirrors from apt's configuration or
 *   JEOS_MIRROR / JEOS_SECURITY_MIRROR), DHCP by systemd-networkd enabled from a customize hook,
 *   the tree put on ext4 with `mkfs.ext4 -d`, booted with its own /boot/vmlinuz and initramfs-tools
 *   initrd, `root=/dev/vda rw console=ttyS0 panic=-1`, the disk on virtio-blk (snapshot=on: every
 *   boot starts from the same bytes). Made once per bench run (bench/vm/conventional.ts).
 * jeos: the example with `outputs: [tar, vm]`, no jeos.lock (locked afresh from the same suites),
 *   built with an empty cache and again warm; out/vm/{vmlinuz,initrd.img,cmdline} (bench/vm/jeos.ts).
 *
 * Timing: every run boots the conventional VM, then the jeos VM, each through the same harness
 * (bench/vm/qemu.ts: spawn qemu, GET http://127.0.0.1:PORT/ forwarded to the guest's port 80 every
 * 200 ms with a 1 s timeout; times are ms since the spawn), then `jeos test --vm --json` on the
 * jeos image (its own timings.kernel/userspace/ready). Medians over --runs (default 3), and the
 * ratio conventional / jeos of time to HTTP 200 (target >= 8).
 * Smallest memory (skipped with --no-memory): each side booted through the harness with -m from
 * the ladder below, descending until one attempt fails (qemu exits: panic=-1 and -no-reboot turn a
 * panic into an exit; or no HTTP 200 within 3x that side's median, at least 60 s). One attempt
 * per size. The smallest size that served is reported; `jeos test --vm --memory` confirms it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeConventional, CONVENTIONAL_APPEND, type ConventionalImage } from './vm/conventional.js';
import { makeJeos, jeosTest, type JeosImage, type JeosTestReport } from './vm/jeos.js';
import { boot, qemuVersion, ACCEL, type BootResult } from './vm/qemu.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const runs = Number(opt('--runs', '3'));
const memoryMiB = Number(opt('--memory', '256'));
const only = opt('--only', 'both');
const json = args.includes('--json');
const ladder = [256, 192, 160, 128, 112, 96, 80, 64, 48];
const doConventional = only !== 'jeos';
const doJeos = only !== 'conventional';
const log = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');
const progress = (line: string) => process.stderr.write(`  · ${line}\n`);

const median = (xs: (number | null | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)]! : null;
};
const sec = (ms: number | null | undefined) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '—');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const describe = (r: BootResult) => (r.ok ? `HTTP 200 at ${sec(r.ready)}` : `FAILED: ${r.failure}\n${r.consoleTail}`);

const qemu = qemuVersion();
const load = { start: loadavg()[0]!, end: 0 };
const work = mkdtempSync(join(tmpdir(), 'jeos-bench-vm-'));
let conventional: ConventionalImage | undefined;
let jeos: JeosImage | undefined;
if (doConventional) {
  progress('mmdebstrap + mkfs.ext4 (conventional VM)');
  conventional = await makeConventional(work);
}
if (doJeos) {
  progress('jeos build (cold, then warm)');
  jeos = makeJeos(work, resolve(opt('--dir', 'examples/nginx')));
}

const bootConventional = (m: number, deadlineMs: number) =>
  boot({ kernel: conventional!.kernel, initrd: conventional!.initrd, disk: conventional!.disk, append: CONVENTIONAL_APPEND, memoryMiB: m, deadlineMs });
const bootJeos = (m: number, deadlineMs: number) =>
  boot({ kernel: jeos!.kernel, initrd: jeos!.initrd, append: jeos!.append, memoryMiB: m, deadlineMs });

// Time to HTTP 200, alternating.
const boots = { conventional: [] as BootResult[], jeos: [] as BootResult[], jeosTest: [] as JeosTestReport[] };
for (let i = 0; i < runs; i++) {
  if (conventional) {
    const r = await bootConventional(memoryMiB, 300_000);
    progress(`run ${i + 1}/${runs} conventional: ${describe(r)}`);
    boots.conventional.push(r);
  }
  if (jeos) {
    const r = await bootJeos(memoryMiB, 300_000);
    progress(`run ${i + 1}/${runs} jeos (harness): ${describe(r)}`);
    boots.jeos.push(r);
    const t = jeosTest(jeos.project, memoryMiB);
    progress(`run ${i + 1}/${runs} jeos test --vm: ${t.report.ok ? `ok, ready ${sec(t.report.timings?.ready)}` : `FAILED\n${t.stderr.slice(-2000)}`}`);
    boots.jeosTest.push(t.report);
  }
}
const med = (rs: BootResult[]) => ({
  console: median(rs.map((r) => r.console)),
  init: median(rs.map((r) => r.init)),
  systemd: median(rs.map((r) => r.systemd)),
  ready: median(rs.filter((r) => r.ok).map((r) => r.ready)),
  failed: rs.filter((r) => !r.ok).length,
});
const medians = {
  conventional: med(boots.conventional),
  jeos: med(boots.jeos),
  jeosTest: {
    kernel: median(boots.jeosTest.map((t) => t.timings?.kernel)),
    userspace: median(boots.jeosTest.map((t) => t.timings?.userspace)),
    ready: median(boots.jeosTest.filter((t) => t.ok).map((t) => t.timings?.ready)),
    usedMiB: median(boots.jeosTest.map((t) => t.memory?.usedMiB)),
    failed: boots.jeosTest.filter((t) => !t.ok).length,
  },
};
const ratio = (a: number | null, b: number | null) => (a !== null && b ? a / b : null);
const ratios = {
  harness: ratio(medians.conventional.ready, medians.jeos.ready),
  jeosTest: ratio(medians.conventional.ready, medians.jeosTest.ready),
};

// Smallest memory.
interface Ladder { smallestMiB: number | null; attempts: { memoryMiB: number; ok: boolean; ready: number | null; failure?: string }[] }
async function descend(side: string, bootAt: (m: number, deadlineMs: number) => Promise<BootResult>, medianReady: number | null): Promise<Ladder> {
  const deadlineMs = Math.max(60_000, 3 * (medianReady ?? 60_000));
  const out: Ladder = { smallestMiB: null, attempts: [] };
  for (const m of ladder) {
    const r = await bootAt(m, deadlineMs);
    progress(`${side} -m ${m}: ${describe(r)}`);
    out.attempts.push({ memoryMiB: m, ok: r.ok, ready: r.ready, ...(r.failure ? { failure: r.failure } : {}) });
    if (!r.ok) break;
    out.smallestMiB = m;
  }
  return out;
}
const memory: { conventional?: Ladder; jeos?: Ladder; jeosTestAtSmallest?: JeosTestReport } = {};
if (!args.includes('--no-memory')) {
  if (conventional) memory.conventional = await descend('conventional', bootConventional, medians.conventional.ready);
  if (jeos) {
    memory.jeos = await descend('jeos', bootJeos, medians.jeos.ready);
    if (memory.jeos.smallestMiB) memory.jeosTestAtSmallest = jeosTest(jeos.project, memory.jeos.smallestMiB).report;
  }
}

// Report.
load.end = loadavg()[0]!;
const accel = `${ACCEL.slice(1).join(' ').replace(' -cpu', ', -cpu')}`;
if (json) {
  const image = (x: object | undefined) => x && Object.fromEntries(Object.entries(x).filter(([k]) => !['kernel', 'initrd', 'disk', 'project'].includes(k)));
  const strip = (rs: BootResult[]) => rs.map(({ consoleTail: _c, ...r }) => r);
  const report = {
    qemu, accel, memoryMiB, runs, loadAverage: load,
    conventional: conventional && { ...image(conventional), append: CONVENTIONAL_APPEND, boots: strip(boots.conventional), median: medians.conventional },
    jeos: jeos && { ...image(jeos), boots: strip(boots.jeos), median: medians.jeos, jeosTest: boots.jeosTest, jeosTestMedian: medians.jeosTest },
    ratio: ratios,
    memory: args.includes('--no-memory') ? null : memory,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
} else {
  log(`QEMU ${qemu}; accelerator ${accel}; -m ${memoryMiB} for the timed runs; ${runs} runs, medians, seconds since qemu spawn`);
  log(`  1-minute load average ${load.start.toFixed(1)} at the start, ${load.end.toFixed(1)} at the end (TCG is CPU-bound: other work on the machine slows both VMs)`);
  if (conventional) log(`  conventional kernel: ${conventional.kernelPackage} ${conventional.kernelVersion} (mmdebstrap's choice)`);
  if (jeos) log(`  jeos kernel:         ${jeos.kernelPackage} ${jeos.kernelVersion} (jeos.lock)`);
  if (conventional && jeos) {
    const same = conventional.kernelPackage === jeos.kernelPackage && conventional.kernelVersion === jeos.kernelVersion;
    log(`  same kernel: ${same ? 'yes' : 'NO — the figures compare different kernels'}`);
  }
  log('');
  log(`  ${''.padEnd(30)} ${'console'.padStart(8)} ${'/init'.padStart(8)} ${'systemd'.padStart(8)} ${'HTTP 200'.padStart(9)}`);
  const row = (name: string, m: ReturnType<typeof med>) =>
    log(`  ${name.padEnd(30)} ${sec(m.console).padStart(8)} ${sec(m.init).padStart(8)} ${sec(m.systemd).padStart(8)} ${sec(m.ready).padStart(9)}${m.failed ? `  (${m.failed} failed)` : ''}`);
  if (conventional) row('conventional (bench harness)', medians.conventional);
  if (jeos) {
    row('jeos (bench harness)', medians.jeos);
    const t = medians.jeosTest;
    log(`  ${`jeos test --vm (${boots.jeosTest[0]?.machine ?? '?'}, ${boots.jeosTest[0]?.accel ?? '?'})`.padEnd(30)} kernel ${sec(t.kernel)}, userspace ${sec(t.userspace)}, ready ${sec(t.ready)}, guest memory used ${t.usedMiB ?? '—'} MiB${t.failed ? `  (${t.failed} failed)` : ''}`);
  }
  if (conventional && jeos) {
    const x = (r: number | null) => (r === null ? '—' : `${r.toFixed(1)}x`);
    log(`  conventional / jeos, time to HTTP 200: ${x(ratios.harness)} (harness), ${x(ratios.jeosTest)} (jeos test)  (target >= 8x)`);
  }
  log('');
  if (conventional) {
    log(`  conventional: mmdebstrap ${sec(conventional.mmdebstrapMs)} + mkfs.ext4 ${sec(conventional.mkfsMs)}; tree ${mb(conventional.treeBytes)}, disk ${mb(conventional.diskBytes)}`);
  }
  if (jeos) {
    log(`  jeos: build ${sec(jeos.coldBuildMs)} cold, ${sec(jeos.warmBuildMs)} warm; initrd.img ${mb(jeos.initrdBytes)} (target <= 25 MB)`);
  }
  if (memory.conventional || memory.jeos) {
    log('');
    log(`  smallest -m that served HTTP 200 (ladder ${ladder.join(', ')}; one attempt each):`);
    for (const [side, l] of Object.entries({ conventional: memory.conventional, jeos: memory.jeos })) {
      if (!l) continue;
      const failed = l.attempts.find((a) => !a.ok);
      log(`    ${side.padEnd(13)} ${l.smallestMiB === null ? `none (> ${ladder[0]})` : `${l.smallestMiB} MiB`}${failed ? `  (fails at ${failed.memoryMiB}: ${failed.failure})` : '  (every size served)'}`);
    }
    if (memory.jeosTestAtSmallest) log(`    jeos test --vm --memory ${memory.jeos!.smallestMiB}: ${memory.jeosTestAtSmallest.ok ? 'ok' : 'FAILED'}`);
    log(`    target: jeos serves with -m 128 or less`);
  }
}
if (args.includes('--keep')) log(`work directory kept: ${work}`);
else rmSync(work, { recursive: true, force: true });
