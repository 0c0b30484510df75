// The VM system setup on small synthetic images: /init and the network (vm.network: busybox,
// where a BusyBox script loads the modules and starts udhcpc before systemd, or networkd), and
// the journal (in memory, flushed to a disk image's /var partition, and not holding the boot back).
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { image, spec, trimVm } from '../../../test/support/vm/system-image.js';
import type { JeosError } from '../../errors.js';
import { unitEntries } from '../../util/unit-file.js';
import { setupVmSystem } from './system.js';

test('the journal stays in memory, in files small enough that the boot does not fill one; a disk image flushes it to its /var partition', () => {
  const { tree } = image();
  const vm = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  const conf = tree.readFile('etc/systemd/journald.conf.d/jeos.conf')?.toString('utf8') ?? '';
  // auto: in /run until journald is asked to flush, which nothing in a plain VM does.
  assert.match(conf, /^Storage=auto$/m);
  assert.match(conf, /^RuntimeMaxUse=8M$/m);
  assert.match(conf, /^RuntimeMaxFileSize=2M$/m);
  assert.match(conf, /^SystemMaxUse=8M$/m);
  assert.ok(!vm.enabled.includes('jeos-disk-journal.service'));
  assert.equal(tree.readFile('etc/systemd/system/jeos-disk-journal.service'), undefined);

  const bless = { name: 'systemd-boot', files: { '/usr/lib/systemd/system/systemd-bless-boot.service': '[Unit]\nDescription=bless\n[Service]\nType=oneshot\nExecStart=/usr/lib/systemd/systemd-bless-boot good\n' } };
  const disk = image([bless]);
  const report = setupVmSystem(disk.tree, { ...spec(['/usr/sbin/webd']), disk: { healthcheck: { http: 'http://localhost:80/', timeout: 10 } } });
  assert.ok(report.enabled.includes('jeos-disk-journal.service'));
  const unit = disk.tree.readFile('etc/systemd/system/jeos-disk-journal.service')!.toString('utf8');
  assert.match(unit, /^ConditionKernelCommandLine=jeos\.version$/m, 'only when booted from a disk entry');
  assert.match(unit, /^Requires=jeos-disk-mounts\.service$/m);
  assert.match(unit, /^After=jeos-disk-mounts\.service systemd-journald\.service$/m, 'once the partition is on /var');
  assert.match(unit, /^Before=shutdown\.target jeos-health\.service$/m, 'flushed before the boot can complete (and sync)');
  const node = disk.tree.get('etc/systemd/system/sysinit.target.wants/jeos-disk-journal.service');
  assert.equal(node?.kind === 'symlink' ? node.target : undefined, '/etc/systemd/system/jeos-disk-journal.service');
  const script = disk.tree.readFile('etc/jeos/disk-journal')!.toString('utf8');
  assert.match(script, /tail -n \+10 \| \$bb xargs -r \$bb rm -rf/, 'the newest 9 boots are kept besides this one');
  assert.match(script, /-S \/run\/systemd\/journal\/io\.systemd\.journal/, 'journald is running its loop before it is signalled');
  assert.match(script, /systemctl kill --signal=SIGUSR1 --kill-whom=main systemd-journald\.service/);
  assert.match(script, /until \[ -e \/run\/systemd\/journal\/flushed \]/, 'until journald says it flushed');
});

test('journald does not hold the boot back: started once its program runs, and second to the services beside it until the boot is done', () => {
  const { tree } = image();
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  const path = 'etc/systemd/system/systemd-journald.service.d/jeos-boot.conf';
  assert.ok(report.files.includes(`/${path}`));
  const service = unitEntries(tree.readFile(path)?.toString('utf8') ?? '', 'Service');
  assert.deepEqual(service, [
    ['Type', 'exec'],
    ['NotifyAccess', 'main'],
    ['StartupCPUWeight', '10'],
  ]);
});

test('vm.network: busybox (the default): /init loads the drivers and the named modules and starts udhcpc, then runs systemd; jeos-network.service reports its failures; systemd-modules-load is masked, networkd not started', () => {
  const modulesLoad = { name: 'bridge-utils', files: { '/usr/lib/modules-load.d/bridge.conf': '# bridges\nbridge\n; old\nbr_netfilter\n', '/usr/lib/modules-load.d/masked.conf': 'dummy\n' } };
  const { tree, packages } = image([modulesLoad]);
  tree.symlink('etc/modules-load.d/masked.conf', '/dev/null');
  const report = setupVmSystem(tree, { ...spec(['/usr/sbin/webd']), modules: ['virtio_net', 'virtio_blk', 'wireguard'] });
  assert.deepEqual(tree.get('init'), { kind: 'symlink', target: '/etc/jeos/init', mode: 0o777, uid: 0, gid: 0, mtime: 1700000000 });
  assert.equal(report.init, '/etc/jeos/init, then /usr/lib/systemd/systemd');
  for (const dir of ['dev', 'proc', 'sys', 'run']) assert.ok(tree.isDir(dir), `/${dir}, which /init mounts on`);
  const script = tree.readFile('etc/jeos/init')?.toString('utf8') ?? '';
  assert.equal(tree.get('etc/jeos/init')?.mode, 0o755);
  assert.equal(tree.get('etc/jeos/udhcpc')?.mode, 0o755);
  assert.match(script, /^\$bb mount -t proc -o nosuid,nodev,noexec proc \/proc$/m);
  // The drivers (virtio_*) load for the devices present; wireguard and the modules-load.d names by name, the masked file's not.
  assert.match(script, /^ {2}\[ \$# -eq 0 \] \|\| \$bb modprobe -qa "\$@"$/m);
  assert.match(script, /^ {2}\$bb modprobe -a wireguard bridge br_netfilter \|\| /m);
  assert.match(script, /^\( while :; do \$bb udhcpc -f -S -i eth0 -s \/etc\/jeos\/udhcpc /m);
  assert.match(script, /\nexec \/usr\/lib\/systemd\/systemd "\$@"\n$/, 'systemd runs last, as PID 1, with the kernel\'s arguments');
  assert.deepEqual(report.network.modulesByName, ['wireguard', 'bridge', 'br_netfilter']);
  for (const path of ['etc/jeos/init', 'etc/jeos/udhcpc']) {
    const r = spawnSync('sh', ['-n'], { input: tree.readFile(path)?.toString('utf8') ?? '', encoding: 'utf8' });
    assert.equal(r.status, 0, `${path}: ${r.stderr}`);
  }
  // The unit runs only when /init wrote that something failed, and then fails where jeos test --vm sees it.
  const unit = tree.readFile('etc/systemd/system/jeos-network.service')?.toString('utf8') ?? '';
  assert.match(unit, /^ConditionPathExists=\/run\/jeos-network\.failed$/m);
  assert.match(unit, /^ExecStart=\/usr\/bin\/busybox false$/m);
  assert.equal(tree.get('etc/systemd/system/sysinit.target.wants/jeos-network.service')?.kind, 'symlink');
  assert.ok(report.masked.some((m) => m.unit === 'systemd-modules-load.service' && /\/init loads the modules/.test(m.reason)));
  assert.equal(tree.get('etc/systemd/system/multi-user.target.wants/systemd-networkd.service'), undefined);
  assert.equal(tree.get('etc/modules-load.d/jeos.conf'), undefined);
  assert.ok(report.enabled.includes('jeos-network.service'));
  // The trim keeps BusyBox (the script's interpreter) and systemd (which it runs), and drops networkd, which nothing starts.
  trimVm(tree, packages);
  assert.equal(tree.get('usr/bin/busybox')?.kind, 'file');
  assert.equal(tree.get('usr/lib/systemd/systemd')?.kind, 'file');
  assert.equal(tree.get('usr/lib/systemd/systemd-networkd'), undefined);
});

test('the setup links /init and makes no stray /ini directory (the parent of a path with no slash is the root)', () => {
  for (const network of ['busybox', 'networkd'] as const) {
    const { tree } = image();
    setupVmSystem(tree, { ...spec(['/usr/sbin/webd']), network });
    assert.equal(tree.get('init')?.kind, 'symlink', network);
    assert.equal(tree.get('ini'), undefined, `${network}: /ini`);
  }
});

test('vm.network: busybox without BusyBox in the image is refused, naming the way out', () => {
  const { tree } = image();
  tree.remove('usr/bin/busybox');
  assert.throws(() => setupVmSystem(tree, spec(['/usr/sbin/webd'])), (e: JeosError) => e.code === 'E_VM_NO_BUSYBOX' && /vm\.network: networkd/.test(e.hint ?? ''));
});

test('vm.network: networkd: systemd-modules-load inserts the modules by name; networkd starts after the NIC exists and its udev record is made', () => {
  const { tree } = image();
  const report = setupVmSystem(tree, { ...spec(['/usr/sbin/webd']), network: 'networkd' });
  assert.match(tree.readFile('etc/modules-load.d/jeos.conf')?.toString('utf8') ?? '', /^virtio_net$/m);
  assert.equal(tree.get('etc/systemd/system/multi-user.target.wants/systemd-networkd.service')?.kind, 'symlink');
  assert.equal(tree.get('etc/systemd/system/jeos-network.service'), undefined);
  assert.deepEqual(tree.get('init'), { kind: 'symlink', target: '/usr/lib/systemd/systemd', mode: 0o777, uid: 0, gid: 0, mtime: 1700000000 }, 'systemd is /init');
  assert.ok(!report.masked.some((m) => m.unit === 'systemd-modules-load.service'));
  const dropin = tree.readFile('etc/systemd/system/systemd-networkd.service.d/jeos.conf')?.toString('utf8') ?? '';
  assert.match(dropin, /^After=systemd-modules-load\.service systemd-tmpfiles-setup\.service$/m);
  assert.match(tree.readFile('etc/tmpfiles.d/jeos-network.conf')?.toString('utf8') ?? '', /^f \/run\/udev\/data\/n2 /m);
});
