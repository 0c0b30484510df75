import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { which } from '../tools.js';
import { chooseAccel, hostKey, qemuMessage } from './accel.js';
import { QEMU } from './qemu.js';

const qemu = await which(QEMU);

describe('accelerator choice', () => {
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'jeos-accel-'));
  });
  after(async () => rm(cacheDir, { recursive: true, force: true }));

  test('--accel tcg needs no probe', async () => {
    assert.deepEqual(await chooseAccel('tcg', { qemu: '/nonexistent/qemu', kernel: '/nonexistent' }), { accel: 'tcg', reason: 'asked for (--accel tcg)' });
  });

  test('auto without a usable KVM device is TCG, saying why', async () => {
    const d = await chooseAccel('auto', { qemu: '/nonexistent/qemu', kernel: '/nonexistent', kvmDevice: '/nonexistent/kvm' });
    assert.equal(d.accel, 'tcg');
    assert.match(d.reason, /\/nonexistent\/kvm: not present/);
  });

  test('--accel kvm without a usable KVM device is an error with a way out', async () => {
    await assert.rejects(chooseAccel('kvm', { qemu: '/nonexistent/qemu', kernel: '/nonexistent', kvmDevice: '/nonexistent/kvm' }), (e: JeosError) => {
      assert.equal(e.code, 'E_VM_KVM');
      assert.match(e.hint!, /--accel tcg/);
      return true;
    });
  });

  test('QEMU\'s telling line: the error, without the program name', () => {
    const stderr =
      "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n";
    assert.equal(qemuMessage(stderr), 'failed to set MSR 0x10a to 0x69');
    assert.equal(qemuMessage('qemu-system-x86_64: could not load kernel /x\n'), 'could not load kernel /x');
  });

  // The verdict cache, with /dev/null standing in for an openable /dev/kvm.
  test('a verdict cached for this boot and QEMU is used without a probe', { skip: !qemu && 'qemu-system-x86_64 is not installed' }, async () => {
    const key = await hostKey(qemu!);
    assert.ok(key, 'a boot id to key the cache by');
    await mkdir(join(cacheDir, 'vm'), { recursive: true });
    await writeFile(join(cacheDir, 'vm/kvm-probe.json'), JSON.stringify({ key, works: true, reason: 'probed earlier' }));
    const d = await chooseAccel('auto', { qemu: qemu!, kernel: '/nonexistent/vmlinuz', kvmDevice: '/dev/null', cacheDir });
    assert.deepEqual(d, { accel: 'kvm', reason: 'KVM probe (cached for this boot): probed earlier' });
  });

  test('a verdict from another boot is probed again and replaced', { skip: !qemu && 'qemu-system-x86_64 is not installed' }, async () => {
    await mkdir(join(cacheDir, 'vm'), { recursive: true });
    await writeFile(join(cacheDir, 'vm/kvm-probe.json'), JSON.stringify({ key: 'another-boot qemu 1.0', works: true, reason: 'old' }));
    // The probe boots a kernel that does not exist: QEMU fails at once, so KVM does not count as working.
    const d = await chooseAccel('auto', { qemu: qemu!, kernel: join(cacheDir, 'no-vmlinuz'), kvmDevice: '/dev/null', cacheDir });
    assert.equal(d.accel, 'tcg');
    assert.match(d.reason, /^KVM probe: QEMU exited under KVM/);
    const stored = JSON.parse(await readFile(join(cacheDir, 'vm/kvm-probe.json'), 'utf8'));
    assert.equal(stored.key, await hostKey(qemu!));
    assert.equal(stored.works, false);
  });
});
