/**
 * Figures for issue 5: the jeos nginx VM, in each of its four shapes, against a conventional
 * Debian VM, side by side in the same run, under the same accelerator (TCG, -cpu max,-erms: KVM hangs
 * on the machines this was written on) and with the same kernel.
 *   npm run build && npx tsx bench/vm.ts [--runs N] [--memory MiB] [--no-memory]
 *     [--shapes systemd/initramfs,systemd/disk,busybox/initramfs,busybox/disk] [--only conventional|jeos]
 *     [--dir examples/nginx] [--pvh jeos|all|none] [--cpus N] [--append ARGS] [--json] [--keep]
 *
 * Conventional: `mmdebstrap --variant=minbase --include=systemd-sysv,nginx,linux-image-cloud-amd64,
 *   initramfs-tools trixie` (+ trixie-updates, trixie-security; mirrors from apt's configuration or
 *   JEOS_MIRROR / JEOS_SECURITY_MIRROR), DHCP by systemd-networkd enabled from a customize hook,
 *   the tree put on ext4 with `mkfs.ext4 -d`, booted with its own /boot/vmlinuz and initramfs-tools
 *   initrd, `root=/dev/vda rw console=ttyS0 panic=-1`, the disk on virtio-blk (snapshot=on: every
 *   boot starts from the same bytes). Made once per bench run (bench/vm/conventional.ts).
 * jeos: one shape per INIT/ROOT of --shapes (default all four: vm.init systemd | busybox, vm.root
 *   initramfs | disk), each the example copied to a directory of its own with `outputs: [tar, vm]` and
 *   its `vm:` keys, no jeos.lock (locked afresh from the same suites), built twice with a cache the
 *   shapes share (only the first shape's first build starts from an empty one): out/vm/{vmlinuz,cmdline}
 *   and initrd.img, or root.img attached as the first NVMe drive with snapshot=on (bench/vm/jeos.ts).
 *
 * Kernel entry (--pvh): `jeos` (default) boots each jeos shape as jeos run and jeos test do, the
 *   kernel's uncompressed ELF through its PVH entry (src/boot/vm/pvh.ts), and the conventional VM from
 *   its vmlinuz, as its boot loader would; `all` boots the conventional VM through PVH as well (the
 *   same boot path for every VM), `none` boots every vmlinuz as it is.
 *
 * Kernel arguments: each jeos shape boots with its out/vm/cmdline plus what jeos run and jeos test add
 *   under TCG (accelCmdline: noreplace-smp with one vCPU), the conventional VM with its own. --append
 *   adds to every VM's command line, the conventional one's too, and is passed to jeos test; for
 *   instance `norandmaps`, which turns off address-space randomisation (QEMU 7.2's TCG translates
 *   code per virtual address, so with randomisation each process has its shared libraries
 *   translated anew).
 * Virtual CPUs (--cpus, default 1, as the conventional VM's reference time in issue 5 was taken): the
 *   same -smp for every VM, the conventional one too (jeos test gets --cpus). Under TCG each vCPU is a
 *   host thread (MTTCG); jeos run and jeos test use one under TCG unless vm.cpus or --cpus asks for more.
 *
 * Timing: every run boots the conventional VM, then each shape in turn, all through the same harness
 * (bench/vm/qemu.ts: spawn qemu, GET http://127.0.0.1:PORT/ forwarded to the guest's port 80, a new
 * request every 200 ms whatever the earlier ones are doing (each waits up to 2 s: QEMU's user
 * networking holds a request sent while the guest's network is down), so a time reads at most about
 * 200 ms late; times are ms since the spawn), each shape's harness boot followed by `jeos test --vm --json` on that shape (its own
 * timings.kernel/userspace/ready and guest memory used; it keeps several probes in flight).
 * Medians over --runs (default 3), and per shape the ratio conventional / shape of time to HTTP 200
 * (target >= 8). Figures and sizes are printed by bench/vm/report.ts.
 * Smallest memory (skipped with --no-memory): each VM booted through the harness with -m from the
 * ladder below, descending until one attempt fails (qemu exits: panic=-1 and -no-reboot turn a panic
 * into an exit; or no HTTP 200 within 3x that VM's median, at least 60 s). One attempt per size. The
 * smallest size that served is reported; `jeos test --vm --memory` confirms it for each shape.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeConventional, CONVENTIONAL_APPEND } from './vm/conventional.js';
import { makeJeos, jeosTest, parseShapes, shapeName, ALL_SHAPES } from './vm/jeos.js';
import { boot, qemuVersion, ACCEL, PLATFORM, type BootResult } from './vm/qemu.js';
import { bootKernel } from '../src/boot/vm/pvh.js';
import { accelCmdline, joinCmdline } from '../src/boot/vm/qemu.js';
import { harnessMedians, sec, toJson, toText, type Ladder, type Run, type Side } from './vm/report.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const runs = Number(opt('--runs', '3'));
const memoryMiB = Number(opt('--memory', '256'));
const only = opt('--only', 'both');
const shapes = only === 'conventional' ? [] : parseShapes(opt('--shapes', ALL_SHAPES));
const json = args.includes('--json');
const doMemory = !args.includes('--no-memory');
const pvh = opt('--pvh', 'jeos');
const cpus = Number(opt('--cpus', '1'));
const extra = opt('--append', '').trim();
const withExtra = (append: string) => [append, extra].filter(Boolean).join(' ');
/** What jeos run and jeos test add to a jeos image's command line under TCG (src/boot/vm/qemu.ts accelCmdline). */
const jeosAdds = accelCmdline('tcg', cpus);
if (!['jeos', 'all', 'none'].includes(pvh)) throw new Error(`--pvh ${pvh}: expected jeos, all or none`);
const ladder = [256, 160, 128, 112, 96, 88, 80, 72, 64];
const progress = (line: string) => process.stderr.write(`  · ${line}\n`);
const describe = (r: BootResult) => (r.ok ? `HTTP 200 at ${sec(r.ready)}` : `FAILED: ${r.failure}\n${r.consoleTail}`);

const qemu = qemuVersion(); // fails early when QEMU is missing
const load = { start: loadavg()[0]!, max: loadavg()[0]!, end: 0 };
const sampleLoad = () => (load.max = Math.max(load.max, loadavg()[0]!));
const work = mkdtempSync(join(tmpdir(), 'jeos-bench-vm-'));

type BootAt = (m: number, deadlineMs: number) => Promise<BootResult>;
const bootAt = new Map<Side, BootAt>();
let conventional: Side | undefined;
const cache = join(work, 'jeos-cache');
/** The file -kernel gets: the uncompressed ELF (PVH entry) when --pvh says so for this VM. */
async function kernelFor(vmlinuz: string, usePvh: boolean): Promise<string> {
  const k = await bootKernel(vmlinuz, { cacheDir: cache, pvh: usePvh });
  if (usePvh && k.entry !== 'pvh') progress(`${vmlinuz}: booted as it is (${k.reason})`);
  return k.path;
}
if (only !== 'jeos') {
  progress('mmdebstrap + mkfs.ext4 (conventional VM)');
  const c = await makeConventional(work);
  conventional = { name: 'conventional', conventional: c, boots: [], tests: [] };
  const kernel = await kernelFor(c.kernel, pvh === 'all');
  bootAt.set(conventional, (m, deadlineMs) =>
    boot({ kernel, initrd: c.initrd, disk: { path: c.disk, bus: 'virtio' }, append: withExtra(CONVENTIONAL_APPEND), memoryMiB: m, cpus, deadlineMs }));
}
const jeosSides: Side[] = [];
for (const [i, shape] of shapes.entries()) {
  progress(`jeos build ${shapeName(shape)} (twice)`);
  const image = makeJeos(work, resolve(opt('--dir', 'examples/nginx')), shape, cache, i === 0);
  const side: Side = { name: shapeName(shape), image, boots: [], tests: [] };
  jeosSides.push(side);
  const kernel = await kernelFor(image.kernel, pvh !== 'none');
  bootAt.set(side, (m, deadlineMs) =>
    boot({ kernel, initrd: image.initrd, disk: image.disk ? { path: image.disk, bus: 'nvme' } : undefined, append: joinCmdline(image.append, extra, jeosAdds), memoryMiB: m, cpus, deadlineMs }));
}

// Time to HTTP 200, alternating: the conventional VM, then each shape (harness, then jeos test --vm).
for (let i = 0; i < runs; i++) {
  for (const side of [conventional, ...jeosSides]) {
    if (!side) continue;
    sampleLoad();
    const r = await bootAt.get(side)!(memoryMiB, 300_000);
    progress(`run ${i + 1}/${runs} ${side.name}${side.image ? ' (harness)' : ''}: ${describe(r)}`);
    side.boots.push(r);
    if (!side.image) continue;
    sampleLoad();
    const t = jeosTest(side.image.project, memoryMiB, pvh !== 'none', cpus, extra);
    progress(`run ${i + 1}/${runs} ${side.name} (jeos test --vm): ${t.report.ok ? `ok, ready ${sec(t.report.timings?.ready)}` : `FAILED\n${t.stderr.slice(-2000)}`}`);
    side.tests.push(t.report);
  }
}

// Smallest memory.
async function descend(side: Side): Promise<Ladder> {
  const deadlineMs = Math.max(60_000, 3 * (harnessMedians(side.boots).ready ?? 60_000));
  const out: Ladder = { smallestMiB: null, attempts: [] };
  for (const m of ladder) {
    sampleLoad();
    const r = await bootAt.get(side)!(m, deadlineMs);
    progress(`${side.name} -m ${m}: ${describe(r)}`);
    out.attempts.push({ memoryMiB: m, ok: r.ok, ready: r.ready, ...(r.failure ? { failure: r.failure } : {}) });
    if (!r.ok) break;
    out.smallestMiB = m;
  }
  return out;
}
if (doMemory) {
  for (const side of [conventional, ...jeosSides]) {
    if (!side) continue;
    side.ladder = await descend(side);
    if (side.image && side.ladder.smallestMiB) side.testAtSmallest = jeosTest(side.image.project, side.ladder.smallestMiB, pvh !== 'none', cpus, extra).report;
  }
}

// Report.
load.end = loadavg()[0]!;
const run: Run = {
  qemu,
  accel: `${ACCEL.slice(1).join(' ').replace(' -cpu', ', -cpu')}; ${PLATFORM.join(' ')}`,
  memoryMiB, runs, ladder, load,
  appendConventional: withExtra(CONVENTIONAL_APPEND),
  appendAll: extra,
  appendJeos: jeosAdds.join(' '),
  pvh,
  cpus,
  conventional,
  shapes: jeosSides,
  memory: doMemory,
};
if (json) process.stdout.write(JSON.stringify(toJson(run), null, 2) + '\n');
else process.stdout.write(toText(run).join('\n') + '\n');
if (args.includes('--keep')) process.stderr.write(`work directory kept: ${work}\n`);
else rmSync(work, { recursive: true, force: true });
