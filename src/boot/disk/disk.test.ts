// The UEFI side of jeos run/test --disk without booting: QEMU's arguments, the console's
// stages of a boot, and the refusals before QEMU starts. The boots themselves are in
// test/disk/nginx-disk.live.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BOOT_COMPLETE_MARK as GUEST_MARK } from '../../vm/system/disk-boot.js';
import { qemuArgs } from '../vm/qemu.js';
import { BOOT_COMPLETE_MARK, DiskBootLog } from './boot-markers.js';
import { requireOvmf } from './firmware.js';
import { readDiskImage } from './image.js';

const sockets = { console: '/t/c', report: '/t/r', qmp: '/t/q' };

test('a UEFI boot: OVMF as two pflash drives (code read-only), the disk on virtio-blk with snapshot=on, extra kernel arguments through SMBIOS type 11', () => {
  const args = qemuArgs({
    uefi: { code: '/ovmf/CODE.fd', vars: '/cache/v,1.fd', disk: '/out/disk.img', format: 'raw', snapshot: true, cmdlineExtra: 'noreplace-smp a=b,c' },
    cmdline: 'noreplace-smp a=b,c',
    memoryMiB: 256,
    cpus: 1,
    accel: 'tcg',
    machine: 'q35',
    forwards: [],
    sockets,
  });
  const joined = args.join(' ');
  assert.ok(!args.includes('-kernel') && !args.includes('-append'), 'the boot loader loads the kernel');
  assert.match(joined, /-drive if=pflash,format=raw,unit=0,readonly=on,file=\/ovmf\/CODE\.fd /);
  assert.match(joined, /-drive if=pflash,format=raw,unit=1,file=\/cache\/v,,1\.fd /, 'commas in paths are doubled');
  assert.match(joined, /-drive file=\/out\/disk\.img,if=none,id=disk,format=raw,snapshot=on -device virtio-blk-pci,drive=disk,bootindex=0/);
  assert.ok(args.includes('type=11,value=io.systemd.boot.kernel-cmdline-extra=noreplace-smp a=b,,c'));
  const writable = qemuArgs({ uefi: { code: 'c', vars: 'v', disk: 'd.qcow2', format: 'qcow2', snapshot: false }, cmdline: '', memoryMiB: 256, cpus: 1, accel: 'tcg', machine: 'q35', forwards: [], sockets });
  assert.ok(writable.includes('file=d.qcow2,if=none,id=disk,format=qcow2'));
  assert.ok(!writable.includes('-smbios'));
});

test('the stages of a boot from the console: firmware, boot loader, kernel, userspace, healthy, complete, the version that booted and what the ESP\'s check and jeos-update said; a reboot starts the next boot', () => {
  const log = new DiskBootLog();
  const lines: Array<[number, string]> = [
    [3900, '\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [4000, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [5400, 'EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path'],
    [5600, '[    0.000000] Linux version 6.12.118+deb13-cloud-amd64 (kernel-builder@example.org)'],
    [5600, '[    0.043018] Kernel command line: initrd=\\jeos\\2.0\\initrd console=ttyS0 panic=-1 jeos.version=2.0 noreplace-smp'],
    [7100, '[    1.604314] Run /init as init process'],
    [7300, '[    1.900000] busybox[91]: jeos-disk: fsck.fat -a on the ESP (/dev/vda1) exited 1: Dirty bit is set.  Automatically removing dirty bit.'],
    [7310, '[    1.950000] busybox[91]: jeos-disk: the ESP is clean after the repair (fsck.fat -n)'],
    [8200, '[    5.100000] jeos-health.service: jeos-health: healthy (http http://localhost:80/)'],
    [8600, 'JEOS_BOOT_COMPLETE'],
    [8700, '[    7.000000] jeos-update[201]: jeos-update: refused: release 3.0 expired at 2026-12-01T00:00:00Z'],
    [8800, 'a jeos-update.service line that is not the script\'s'],
    [9000, 'BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [9100, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
  ];
  for (const [ms, text] of lines) log.feed(Buffer.from(`${text}\r\n`), ms);
  assert.equal(log.boots.length, 2);
  assert.deepEqual(log.boots[0], {
    version: '2.0',
    began: 0,
    timings: { firmware: 4000, bootLoader: 5400, kernel: 5600, userspace: 7100, healthy: 8200, complete: 8600 },
    said: [
      'jeos-disk: fsck.fat -a on the ESP (/dev/vda1) exited 1: Dirty bit is set.  Automatically removing dirty bit.',
      'jeos-disk: the ESP is clean after the repair (fsck.fat -n)',
      'jeos-update: refused: release 3.0 expired at 2026-12-01T00:00:00Z',
    ],
  });
  assert.equal(log.boots[1]!.began, 9000);
  assert.deepEqual(log.boots[1]!.said, [], 'each boot says its own');
  assert.equal(log.boots[1]!.timings.firmware, 9100);
  assert.equal(log.current.version, null);
});

test('a console line that carries two markers sets both; a reboot after a boot whose kernel line was missed is still a new boot', () => {
  const log = new DiskBootLog();
  const lines: Array<[number, string]> = [
    [1000, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [2000, 'EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path[    0.000000] Linux version 6.12.118+deb13-cloud-amd64'],
    [2100, '[    0.040000] Kernel command line: console=ttyS0 jeos.version=2.0'],
    [3000, 'JEOS_BOOT_COMPLETE'],
    [4000, 'BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [4100, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [5000, 'EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path'],
    // This boot's "Linux version" line never came: the next firmware line still starts a boot.
    [5100, '[    0.040000] Kernel command line: console=ttyS0 jeos.version=2.1'],
    [6000, 'BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
  ];
  for (const [ms, text] of lines) log.feed(Buffer.from(`${text}\r\n`), ms);
  assert.deepEqual(log.boots[0]!.timings, { firmware: 1000, bootLoader: 2000, kernel: 2000, userspace: null, healthy: null, complete: 3000 });
  assert.deepEqual(log.boots.map((b) => [b.version, b.began]), [['2.0', 0], ['2.1', 4000], [null, 6000]]);
});

test('a boot whose kernel command line came garbled takes its version from the line that says it completed; the kernel\'s wins when both came', () => {
  const log = new DiskBootLog();
  const lines: Array<[number, string]> = [
    [1000, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [2000, '[    0.000000] Linux version 6.12.118+deb13-cloud-amd64'],
    // Characters lost while the host read the console late: "jeos.version=" no longer reads so.
    [2100, '[    0.040000] Kernel command line: initrd=\\jeos\\2.0\\initrd console=ttyS0 jeoson=2.0 noreplace-smp'],
    [2500, 'JEOS_BOOT_COMPLETE 2.0'],
    [4000, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [5000, '[    0.000000] Linux version 6.12.118+deb13-cloud-amd64'],
    [5100, '[    0.040000] Kernel command line: console=ttyS0 jeos.version=2.1'],
    [6000, 'JEOS_BOOT_COMPLETE 2.1~other'],
    [7000, 'BdsDxe: starting Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'],
    [8000, '[    0.000000] Linux version 6.12.118+deb13-cloud-amd64'],
    [9000, 'JEOS_BOOT_COMPLETE'],
  ];
  for (const [ms, text] of lines) log.feed(Buffer.from(`${text}\r\n`), ms);
  assert.deepEqual(log.boots.map((b) => [b.version, b.timings.complete]), [['2.0', 2500], ['2.1', 6000], [null, 9000]]);
});

test('refused before QEMU starts: a missing disk, a file that is not a GPT disk, missing OVMF', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-uefi-test-'));
  try {
    await assert.rejects(readDiskImage(join(dir, 'disk.img'), 'proj'), (e: Error & { code?: string; hint?: string }) => e.code === 'E_DISK_NO_IMAGE' && /jeos build proj --format disk/.test(e.hint ?? ''));
    await writeFile(join(dir, 'x.img'), Buffer.alloc(4096));
    await assert.rejects(readDiskImage(join(dir, 'x.img')), (e: Error & { code?: string }) => e.code === 'E_DISK_NOT_GPT');
    const gpt = Buffer.alloc(4096);
    gpt.write('EFI PART', 512, 'latin1');
    await writeFile(join(dir, 'g.img'), gpt);
    assert.deepEqual(await readDiskImage(join(dir, 'g.img')), { path: join(dir, 'g.img'), format: 'raw' });
    await writeFile(join(dir, 'q.qcow2'), Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]));
    assert.equal((await readDiskImage(join(dir, 'q.qcow2'))).format, 'qcow2');
    await assert.rejects(requireOvmf(dir), (e: Error & { code?: string; hint?: string }) => e.code === 'E_TOOL_MISSING' && e.hint === 'install it: apt-get install ovmf');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the guest and the host agree on the line that says a boot completed; a disk boot has a watchdog and reboots', () => {
  assert.equal(BOOT_COMPLETE_MARK, GUEST_MARK);
  const args = qemuArgs({ uefi: { code: 'c', vars: 'v', disk: 'd.img', format: 'raw', snapshot: true }, cmdline: '', memoryMiB: 256, cpus: 1, accel: 'tcg', machine: 'q35', forwards: [], sockets });
  assert.ok(args.includes('i6300esb') && !args.includes('-no-reboot'));
  const direct = qemuArgs({ kernel: 'k', cmdline: '', memoryMiB: 256, cpus: 1, accel: 'tcg', machine: 'q35', forwards: [], sockets });
  assert.ok(direct.includes('-no-reboot'));
});
