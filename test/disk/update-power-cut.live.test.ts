// Live tier, power cuts during an update (issue 26): the nginx example built from the live archive
// as 2.0 (the machine, following a channel) and 3.0 (good), published; the channel served on
// loopback at 3 MB/s (test/support/channel/paced-serve.ts), so the download of 3.0's kernel and
// initrd lasts seconds under TCG and the test can kill QEMU (SIGKILL, the disk opened cache=none:
// a power cut) when a payload is 5 % … 100 % sent, while systemd-sysupdate finishes and checks a
// file, when the entry is asked for, as sysupdate renames each file into place, and as the machine
// reboots into 3.0. After each cut: every boot entry that systemd-boot could boot names files that
// are there with the published bytes (nothing half-written is bootable), and fsck.fat -n on the ESP
// says what the cut left (lost clusters, a FAT entry past the end: a FAT cut mid-write). The boot after
// a cut repairs the ESP with fsck.fat -a before it mounts it and checks it with fsck.fat -n (the guest's
// dosfstools, from the lock; its lines are on the console), and must complete (a good version, blessed)
// before its own update runs again and is cut at the next point; once 3.0 is blessed the next point
// starts from a fresh copy of the built disk. At the end the machine, after all of that, installs 3.0,
// 3.0 is blessed, and fsck.fat -n on the host finds the ESP clean. One boot at a time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { root } from '../cli/harness.js';
import { servePaced, type PacedServer } from '../support/channel/paced-serve.js';
import { bootableEntries, bootWatched, espSectors, fsckEsp, type Watched } from '../support/disk/uefi-watch.js';
import { ESP_CLEAN_MARK } from '../../src/vm/system/disk-boot.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-update-cut-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const needs = ['qemu-system-x86_64', 'fsck.fat', 'mcopy'];
const missing = needs.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const ovmf = spawnSync('test', ['-f', '/usr/share/OVMF/OVMF_CODE_4M.fd']).status === 0;
const skip = (missing.length > 0 || !ovmf) && `missing ${[...missing, ...(ovmf ? [] : ['OVMF'])].join(', ')} (apt-get install qemu-system-x86 dosfstools mtools ovmf)`;
const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);
const channel = join(work, 'channel');
const disk = join(work, 'machine.img');
const project = (v: string) => join(work, `v${v}`);
const MINUTE = 60_000;
const PACE = 3_000_000;

type Trigger =
  /** The server has sent this fraction of the file (0: it was asked for), then `delayMs`. */
  | { sent: 'linux' | 'initrd' | 'conf'; fraction: number; delayMs?: number }
  /** The console said this, then `delayMs`. */
  | { line: RegExp; delayMs?: number };
interface Point {
  phase: 'download' | 'write' | 'entry' | 'reboot';
  name: string;
  trigger: Trigger;
}

const installed = (f: string) => new RegExp(`Successfully installed '[^']*jeos-3\\.0\\.${f}'`);
const points: Point[] = [
  ...[0.05, 0.25, 0.5, 0.75].map((f): Point => ({ phase: 'download', name: `the kernel ${f * 100} % sent`, trigger: { sent: 'linux', fraction: f } })),
  { phase: 'write', name: 'the kernel all sent', trigger: { sent: 'linux', fraction: 1 } },
  ...[0.05, 0.3, 0.6, 0.9].map((f): Point => ({ phase: 'download', name: `the initrd ${f * 100} % sent`, trigger: { sent: 'initrd', fraction: f } })),
  { phase: 'write', name: 'the initrd all sent', trigger: { sent: 'initrd', fraction: 1 } },
  { phase: 'write', name: 'the initrd all sent + 0.3 s', trigger: { sent: 'initrd', fraction: 1, delayMs: 300 } },
  ...[0, 50, 150, 300, 600].map((d): Point => ({ phase: 'entry', name: `the entry asked for + ${d} ms`, trigger: { sent: 'conf', fraction: 0, delayMs: d } })),
  { phase: 'entry', name: 'the kernel renamed into place', trigger: { line: installed('linux') } },
  { phase: 'entry', name: 'the initrd renamed into place', trigger: { line: installed('initrd') } },
  { phase: 'entry', name: 'the entry renamed into place (+3)', trigger: { line: /Successfully installed '[^']*jeos-3\.0\.conf'/ } },
  { phase: 'reboot', name: 'jeos-update says installed', trigger: { line: /jeos-update: installed 3\.0/ } },
  { phase: 'reboot', name: 'the reboot into 3.0 + 1 s', trigger: { line: /jeos-update: rebooting into 3\.0/, delayMs: 1000 } },
];

describe('power cuts while a machine updates itself: every cut leaves a clean ESP and a good version that boots', { skip }, () => {
  let server: PacedServer;
  let sums: Map<string, string>;

  before(async () => {
    await mkdir(channel);
    server = await servePaced(channel, PACE);
    const port = new URL(server.url).port;
    assert.equal((await jeos('key', 'new', '--out', join(work, 'keys'))).code, 0);
    for (const v of ['2', '3']) {
      await cp(join(root, 'examples/nginx'), project(v), { recursive: true });
      await rm(join(project(v), 'jeos.lock'), { force: true });
      await rm(join(project(v), 'out'), { recursive: true, force: true });
      await copyFile(join(work, 'keys/channel.pub'), join(project(v), 'channel.pub'));
      // The first check as soon as the boot is complete (jeos-update waits for boot-complete.target).
      const update = `update:\n  channel: http://10.0.2.2:${port}/\n  key: channel.pub\n  schedule: {first: 1s, every: 1h, spread: 0s}\n`;
      const yaml = (await readFile(join(project(v), 'jeos.yaml'), 'utf8')).replace(/^outputs:.*$/m, `outputs: [disk]\nversion: "${v}.0"\n${update}`);
      await writeFile(join(project(v), 'jeos.yaml'), yaml);
    }
  });
  after(async () => {
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  test('builds 2.0 and 3.0; publishes 3.0', async () => {
    for (const v of ['2', '3']) {
      const built = await jeos('build', project(v), '--quiet');
      assert.equal(built.code, 0, built.stderr + built.stdout);
    }
    const published = await jeos('publish', project('3'), '--channel', channel, '--key', join(work, 'keys'));
    assert.equal(published.code, 0, published.stderr + published.stdout);
    sums = new Map((await readFile(join(channel, 'SHA256SUMS'), 'utf8')).trim().split('\n').map((l) => [l.slice(66), l.slice(0, 64)] as [string, string]));
    await copyFile(join(project('2'), 'out/disk.img'), disk);
  });

  /**
   * The version whose boot completed before the cut. jeos-update runs only once boot-complete.target is
   * active, so an update under way (a file of 3.0 being served, a line of jeos-update) is itself proof that
   * the running boot completed, even when the console's completion mark had not been read yet.
   */
  function cameUpBefore(vm: Watched): string | null {
    const recorded = vm.log.boots.find((b) => b.timings.complete !== null)?.version ?? vm.log.boots.at(-1)?.version;
    if (recorded) return recorded;
    // Seen twice in 2026-12-06's runs: a boot the console's record (DiskBootLog) holds without its version although the
    // guest's lines name it (cause not found yet). jeos-update, which runs only once boot-complete.target is active, names
    // the version that runs, from its kernel command line: the guest's own word. The lines that should have set it are kept.
    const running = vm.grep(/jeos-update: .*\(running [^,) ]+/).map((l) => /\(running ([^,) ]+)/.exec(l)![1]!).at(-1) ?? null;
    if (running) recordGaps.push(`boots recorded ${JSON.stringify(vm.log.boots)}; the lines: ${vm.grep(/Kernel command line|BdsDxe|Linux version|JEOS_BOOT_COMPLETE|EFI stub/).join(' | ')}`);
    return running;
  }
  /** Where the boot record missed a version the guest named (for finding why: diagnostics, not failures). */
  const recordGaps: string[] = [];

  /** Boot the disk and cut at the point; 'updated' when 3.0 completed its boot first (nothing left to cut). */
  async function attempt(point: Point): Promise<{ outcome: 'cut' | 'updated'; vm: Watched; ranBefore: string | null }> {
    let cut = false;
    const fire = (vm: Watched, delayMs = 0) => {
      if (cut) return;
      cut = true;
      if (delayMs === 0) void vm.kill();
      else setTimeout(() => void vm.kill(), delayMs);
    };
    let vm!: Watched;
    const t = point.trigger;
    vm = await bootWatched({ disk, onLine: (line) => 'line' in t && t.line.test(line) && fire(vm, t.delayMs) });
    let ranBefore: string | null = null;
    server.onProgress = (p) => {
      if (!('sent' in t) || !p.path.endsWith(`jeos-3.0.${t.sent}`) || p.sent < t.fraction * p.size || cut) return;
      // The update runs only on a blessed boot: the version that came up before this cut.
      ranBefore = cameUpBefore(vm);
      fire(vm, t.delayMs);
    };
    try {
      await vm.waitFor(point.name, (w) => cut || w.log.boots.some((b) => b.version === '3.0' && b.timings.complete !== null), 5 * MINUTE);
    } catch (e) {
      // Never leave this QEMU running on the disk the next point copies over and boots.
      await vm.kill();
      throw e;
    } finally {
      server.onProgress = undefined;
    }
    if ('line' in t) ranBefore = cameUpBefore(vm);
    if (!cut) await vm.kill();
    else await new Promise((ok) => setTimeout(ok, (t.delayMs ?? 0) + 200)).then(() => vm.kill());
    return { outcome: cut ? 'cut' : 'updated', vm, ranBefore };
  }

  /**
   * What the boot after a cut (the first of `vm`) said of the ESP before mounting it: nothing when
   * fsck.fat -a found it clean, else what it repaired and whether fsck.fat -n then found it clean.
   * A problem when it is still damaged, or when the cut left damage (`damaged`) and no check said clean.
   */
  function repairOf(vm: Watched, damaged: boolean): { said: string; problem?: string } {
    const lines = vm.log.boots[0]!.said.filter((l) => l.startsWith('jeos-disk: ')).map((l) => l.slice('jeos-disk: '.length));
    const said = lines.length ? lines.join(' | ').replace(/\s+/g, ' ') : 'clean, nothing to repair';
    const clean = lines.some((l) => l === ESP_CLEAN_MARK);
    if (lines.some((l) => l.startsWith('the ESP is still damaged'))) return { said, problem: `the boot after the cut could not repair the ESP: ${said}` };
    if (damaged && !clean) return { said, problem: `the cut left the ESP damaged and the boot after it did not say it was clean: ${said}` };
    return { said };
  }

  // After each cut, what fsck.fat -n on the host found (the damage the cut left), and whether the next boot
  // repaired it: collected by the test below, asserted by the test after it.
  const repairFailures: string[] = [];

  test(`${points.length} power cuts over download, write, entry and reboot; each followed by a good version, nothing half-written bootable`, async (t) => {
    if (skippedEarlier(t)) return;
    const esp = await espSectors(project('2'));
    const tally: string[] = [];
    const failures: string[] = [];
    let fsckClean = 0;
    let repaired = 0;
    let nothingHalfBootable = 0;
    let cameUp = 0;
    // Whether the disk the next boot starts from was left damaged by the cut before (fsck.fat -n on the host).
    let damaged = false;
    for (const [i, point] of points.entries()) {
      try {
        let r = await attempt(point);
        if (i > 0) {
          const repair = repairOf(r.vm, damaged);
          if (repair.problem) repairFailures.push(`after the cut at "${points[i - 1]!.name}": ${repair.problem}`);
          else if (damaged) repaired++;
          tally.push(`         the boot after it, before mounting the ESP: ${repair.said}`);
        }
        if (r.outcome === 'updated') {
          // The cut before left 3.0 installed, and it came up and was blessed: a good version. A fresh machine for this point.
          tally.push('  (3.0 came up and was blessed after that cut; the next point starts from a fresh copy of the built disk)');
          await copyFile(join(project('2'), 'out/disk.img'), disk);
          r = await attempt(point);
          assert.equal(r.outcome, 'cut', `a fresh 2.0 reached "${point.name}"`);
        }
        // This boot completed before its update ran: the cut before it (if any, on this disk) left a good version.
        assert.ok(r.ranBefore !== null, `a version completed its boot before the cut at "${point.name}":\n${r.vm.tail()}`);
        if (i > 0) cameUp++;
        const fsck = await fsckEsp(disk, esp, work);
        const bootable = bootableEntries(disk, esp, sums);
        const entries = bootable.entries.map((e) => e.replace('/loader/entries/', '')).join(' ');
        const damage = fsck.ok ? 'clean' : fsck.out.split('\n').filter((l) => /cluster chain|Reclaimed|FATs differ|orphan|Free cluster summary/i.test(l)).map((l) => l.trim()).join('; ');
        tally.push(`${point.phase.padEnd(8)} ${point.name.padEnd(34)} (${r.ranBefore} had come up) fsck: ${damage}; entries: ${entries}${bootable.problems.length ? `; ${bootable.problems.join('; ')}` : ''}${bootable.leftovers.length ? `; unbootable leftover ${bootable.leftovers.join('; ')}` : ''}`);
        if (fsck.ok) fsckClean++;
        damaged = !fsck.ok;
        if (!bootable.problems.length) nothingHalfBootable++;
        else failures.push(`after the cut at "${point.name}": ${bootable.problems.join('; ')}`);
      } catch (e) {
        failures.push(`${point.name}: ${(e as Error).message}`);
        tally.push(`${point.phase.padEnd(8)} ${point.name.padEnd(34)} FAILED: ${(e as Error).message.split('\n')[0]}`);
        await copyFile(join(project('2'), 'out/disk.img'), disk);
        damaged = false;
      }
    }
    t.diagnostic(`power cuts: ${points.length} tried; a good version came up after ${cameUp + 1} (the last checked below); fsck.fat -n clean right after ${fsckClean}, the rest repaired by the next boot: ${repaired}; nothing half-written bootable after ${nothingHalfBootable}\n${tally.join('\n')}`);
    // The boot after the last cut, and the update after all of them: 3.0 installed (again if need be) and blessed.
    const vm = await bootWatched({ disk });
    try {
      await vm.waitFor('3.0 blessed', (w) => w.log.boots.some((b) => b.version === '3.0' && b.timings.complete !== null), 6 * MINUTE);
      assert.ok(vm.log.boots[0]!.timings.complete !== null, 'the boot after the last cut completed');
    } finally {
      await vm.kill();
    }
    const repair = repairOf(vm, damaged);
    if (repair.problem) repairFailures.push(`after the cut at "${points.at(-1)!.name}": ${repair.problem}`);
    t.diagnostic(`after the last cut: ${vm.log.boots.map((b) => b.version).join(' → ')} blessed; before mounting the ESP: ${repair.said}`);
    if (recordGaps.length) t.diagnostic(`the boot record missed the version ${recordGaps.length} time(s), the guest's jeos-update named it:\n${recordGaps.join('\n')}`);
    // The machine wrote the ESP (3.0's files, its entry blessed, the leftovers removed) and synced before saying the boot was complete.
    const fsck = await fsckEsp(disk, await espSectors(project('2')), work);
    assert.ok(fsck.ok, `fsck.fat -n once 3.0 came up after all the cuts:\n${fsck.out}`);
    assert.deepEqual(failures, []);
  });

  test('after each of those cuts the next boot repairs the ESP before mounting it (fsck.fat -a), and fsck.fat -n then finds it clean', (t) => {
    if (skippedEarlier(t)) return;
    assert.deepEqual(repairFailures, []);
  });
});
