/**
 * Slow tier: the runner boots a real Debian kernel under QEMU (KVM when it works
 * here, else TCG) with the stand-in guest of test/support/boot/test-guest.ts, which writes a console
 * text and a report chosen by each test, and can load virtio_balloon for memory
 * statistics. Without a kernel or QEMU the tests are skipped and say why.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVm } from './runner.js';
import { BALLOON_MODULES, findTestKernel, writeGuestInitramfs, type GuestSpec, type TestKernel } from '../../../test/support/boot/test-guest.js';
import { testVm } from './vm-test.js';

const kernel = process.arch === 'x64' ? findTestKernel() : `the stand-in /init is x86-64 machine code (this is ${process.arch})`;
const skip =
  spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0
    ? 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)'
    : typeof kernel === 'string'
      ? kernel
      : false;

const REPORT_OK = 'JEOS_REPORT_BEGIN\nJEOS_REPORT_END\n';
/** systemd's colours as they reach a serial console. */
const FAILED_BAR = '[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mbar.service\x1b[0m - Bar daemon.\n';

describe('the VM runner boots a real kernel (slow)', { skip }, () => {
  const k = kernel as TestKernel;
  let work: string;
  let cacheDir: string;
  let n = 0;

  /** out/vm for a stand-in guest. */
  async function image(spec: GuestSpec): Promise<string> {
    const dir = join(work, `vm-${++n}`);
    await mkdir(dir);
    await copyFile(k.vmlinuz, join(dir, 'vmlinuz'));
    await writeGuestInitramfs(spec, join(dir, 'initrd.img'));
    await writeFile(join(dir, 'cmdline'), 'console=ttyS0 panic=-1\n');
    return dir;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-vm-runner-'));
    cacheDir = join(work, 'cache');
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
    k.cleanup();
  });

  test('slow: a guest that reports no failed units passes, with ordered timings and the balloon\'s memory figures', async () => {
    const modules = BALLOON_MODULES.map((name) => k.module(name));
    const vmDir = await image({ console: 'jeos-guest-up\n', report: REPORT_OK, modules: modules.every(Boolean) ? (modules as Buffer[]) : [] });
    const r = await testVm({ vmDir, memoryMiB: 192, ports: [], cacheDir, timeoutMs: 120_000 });
    assert.equal(r.ok, true, `${r.failure}\n${r.console}`);
    assert.ok(['kvm', 'tcg'].includes(r.accel));
    assert.match(r.accelReason, /KVM|kvm/);
    assert.equal(r.machine, 'q35');
    assert.equal(r.kernelEntry, 'pvh', `Debian's kernel has a PVH entry: ${r.kernelNote}`);
    assert.equal(r.cpus, r.accel === 'kvm' ? 2 : 1, 'one vCPU under TCG unless asked (see defaultCpus)');
    assert.equal(
      r.cmdline,
      `console=ttyS0 panic=-1 ${r.accel === 'tcg' ? 'noreplace-smp ' : ''}systemd.status_unit_format=name`,
      'the image\'s command line, under TCG what the runner adds, then what jeos test adds',
    );
    assert.deepEqual(r.failedUnits, []);
    assert.equal(r.reported, true);
    const t = r.timings;
    assert.ok(t.kernel !== null && t.userspace !== null && t.ready !== null);
    assert.ok(0 < t.kernel && t.kernel < t.userspace && t.userspace <= t.ready && t.ready <= t.total, JSON.stringify(t));
    if (modules.every(Boolean)) {
      assert.ok(r.memory, r.memoryNote);
      assert.ok(r.memory.totalMiB > 100 && r.memory.totalMiB <= 192, JSON.stringify(r.memory));
      assert.ok(r.memory.usedMiB > 0 && r.memory.usedMiB === r.memory.totalMiB - r.memory.availableMiB);
    }
    assert.ok(existsSync(join(cacheDir, 'vm/kvm-probe.json')) || r.accelReason.includes('/dev/kvm'), 'the KVM verdict is cached');
  });

  test('slow: failed units from the report and from coloured [FAILED] console lines fail it, with the console tail', async () => {
    const vmDir = await image({
      console: `jeos-guest-up\n${FAILED_BAR}`,
      report: 'JEOS_REPORT_BEGIN\nfoo.service loaded failed failed Foo\nJEOS_REPORT_END\n',
    });
    const r = await testVm({ vmDir, memoryMiB: 128, ports: [], cacheDir, pvh: false, timeoutMs: 120_000 });
    assert.equal(r.ok, false);
    assert.equal(r.kernelEntry, 'bzimage');
    assert.equal(r.kernelNote, 'asked for (--no-pvh)');
    assert.deepEqual(r.failedUnits.sort(), ['bar.service', 'foo.service']);
    assert.match(r.failure!, /failed units: /);
    assert.equal(r.timings.ready, null);
    assert.equal(r.memory, null, 'no balloon driver in this guest');
    assert.match(r.memoryNote!, /no memory statistics/);
    assert.match(r.console!, /^\[FAILED\] Failed to start bar\.service - Bar daemon\.$/m);
    assert.doesNotMatch(r.console!, /\x1b/);
  });

  test('slow: a guest that never reports fails at the timeout', async () => {
    const vmDir = await image({ console: 'jeos-guest-up\n' });
    const r = await testVm({ vmDir, memoryMiB: 128, ports: [], cacheDir, timeoutMs: 4000 });
    assert.equal(r.ok, false);
    assert.match(r.failure!, /the guest did not report within 4 s/);
    assert.equal(r.reported, false);
    assert.ok(r.timings.total >= 4000 && r.timings.total < 20_000, JSON.stringify(r.timings));
    assert.match(r.console!, /jeos-guest-up/);
  });

  test('slow: startVm shows the console as it comes, and stop quits QEMU and removes its sockets', async () => {
    const vmDir = await image({ console: 'jeos-guest-up\n', report: REPORT_OK });
    const chunks: Buffer[] = [];
    const events: string[] = [];
    const vm = await startVm({ vmDir, memoryMiB: 128, forwards: [], accel: 'tcg', onConsole: (c) => chunks.push(c), onEvent: (e) => events.push(e.type) });
    assert.ok(existsSync(join(vm.tempDir, 'qmp.sock')));
    const report = await vm.report;
    assert.deepEqual(report.failedUnits, []);
    assert.ok(vm.console.markers.linuxVersion !== null && vm.console.markers.userspace !== null);
    const exit = await vm.stop();
    assert.equal(exit.reason, 'host-qmp-quit');
    assert.equal(exit.code, 0);
    assert.equal(vm.hasExited(), true);
    assert.equal(existsSync(vm.tempDir), false);
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /Linux version/);
    assert.match(text, /jeos-guest-up/);
    assert.deepEqual(events.slice(0, 3), ['accel', 'kernel', 'started']);
    assert.equal(vm.kernel.entry, 'bzimage', 'without a cache directory the vmlinuz boots as it is');
    assert.ok(events.includes('report'));
    assert.equal((await vm.stop()).reason, 'host-qmp-quit', 'stopping again is harmless');
  });
});
