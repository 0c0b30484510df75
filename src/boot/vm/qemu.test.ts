import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accelCmdline, cpuModel, hostfwd, joinCmdline, qemuArgs, type QemuArgsSpec } from './qemu.js';

const spec: QemuArgsSpec = {
  kernel: '/img/vmlinuz',
  initrd: '/img/initrd.img',
  cmdline: 'console=ttyS0 panic=-1',
  memoryMiB: 256,
  cpus: 2,
  accel: 'tcg',
  machine: 'q35',
  forwards: [
    { protocol: 'tcp', guestPort: 80, hostPort: 8080 },
    { protocol: 'udp', guestPort: 53, hostPort: 40053 },
  ],
  sockets: { console: '/t/console.sock', report: '/t/report.sock', qmp: '/t/qmp.sock' },
};

/** The value after each occurrence of a flag. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('QEMU argument vector', () => {
  test('TCG uses -cpu max without erms (rep stosb is emulated a byte at a time), KVM the host CPU', () => {
    assert.deepEqual(values(qemuArgs(spec), '-cpu'), ['max,-erms']);
    assert.deepEqual(values(qemuArgs({ ...spec, accel: 'kvm' }), '-cpu'), ['host']);
    assert.deepEqual(values(qemuArgs({ ...spec, accel: 'kvm' }), '-accel'), ['kvm']);
    assert.equal(cpuModel('tcg'), 'max,-erms');
  });

  test('no default devices, no reboot, no display; kernel, initrd and command line as given', () => {
    const args = qemuArgs(spec);
    for (const flag of ['-nodefaults', '-no-reboot', '-no-user-config']) assert.ok(args.includes(flag), flag);
    assert.deepEqual(values(args, '-display'), ['none']);
    assert.deepEqual(values(args, '-kernel'), ['/img/vmlinuz']);
    assert.deepEqual(values(args, '-initrd'), ['/img/initrd.img']);
    assert.deepEqual(values(args, '-append'), ['console=ttyS0 panic=-1']);
    assert.deepEqual(values(args, '-m'), ['256']);
    assert.deepEqual(values(args, '-smp'), ['2']);
    assert.deepEqual(values(args, '-machine'), ['q35']);
  });

  test('a disk image is the first NVMe drive, with snapshot=on so the file never changes; no initrd then', () => {
    const { initrd: _, ...noInitrd } = spec;
    const args = qemuArgs({ ...noInitrd, disk: '/img/a,b/root.img' });
    assert.deepEqual(values(args, '-initrd'), []);
    assert.deepEqual(values(args, '-drive'), ['file=/img/a,,b/root.img,if=none,id=root,format=raw,snapshot=on']);
    assert.deepEqual(values(args, '-device').filter((d) => d.startsWith('nvme')), ['nvme,drive=root,serial=jeos-root']);
    assert.deepEqual(values(qemuArgs(spec), '-drive'), [], 'an initramfs image has no drive');
  });

  test('serial 0 is the console and serial 1 the report channel, QMP on its own socket', () => {
    const args = qemuArgs(spec);
    assert.deepEqual(values(args, '-serial'), ['chardev:console', 'chardev:report']);
    assert.deepEqual(values(args, '-chardev'), [
      'socket,id=console,path=/t/console.sock',
      'socket,id=report,path=/t/report.sock',
      'socket,id=qmp,path=/t/qmp.sock',
    ]);
    assert.deepEqual(values(args, '-mon'), ['chardev=qmp,mode=control']);
  });

  test('user networking forwards each port from 127.0.0.1 only; virtio NIC, balloon (balloon0) and RNG', () => {
    const args = qemuArgs(spec);
    assert.deepEqual(values(args, '-netdev'), ['user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:40053-:53']);
    assert.deepEqual(values(args, '-device'), ['virtio-net-pci,netdev=net0', 'virtio-balloon-pci,id=balloon0', 'virtio-rng-pci']);
    assert.equal(hostfwd({ protocol: 'tcp', guestPort: 22, hostPort: 2222 }), 'hostfwd=tcp:127.0.0.1:2222-:22');
  });

  test('commas in paths are doubled for QEMU\'s option parser', () => {
    const args = qemuArgs({ ...spec, sockets: { ...spec.sockets, console: '/t/a,b/console.sock' }, name: 'x,y' });
    assert.ok(values(args, '-chardev').includes('socket,id=console,path=/t/a,,b/console.sock'));
    assert.deepEqual(values(args, '-name'), ['x,,y']);
  });

  test('the user\'s kernel arguments come after the image\'s', () => {
    assert.equal(joinCmdline(' console=ttyS0 panic=-1\n', 'systemd.log_level=debug '), 'console=ttyS0 panic=-1 systemd.log_level=debug');
    assert.equal(joinCmdline('console=ttyS0', undefined), 'console=ttyS0');
    assert.equal(joinCmdline('console=ttyS0', '  '), 'console=ttyS0');
  });

  test('under TCG with one vCPU the kernel keeps its SMP code (noreplace-smp), between the image\'s arguments and the user\'s; nothing under KVM or with more vCPUs', () => {
    assert.deepEqual(accelCmdline('tcg', 1), ['noreplace-smp']);
    assert.deepEqual(accelCmdline('tcg', 2), []);
    assert.deepEqual(accelCmdline('kvm', 1), []);
    assert.equal(joinCmdline('console=ttyS0', 'quiet', accelCmdline('tcg', 1)), 'console=ttyS0 noreplace-smp quiet');
  });
});
