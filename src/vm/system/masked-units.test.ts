// The units and generators a jeos VM does not run, masked by the VM system setup on small
// synthetic images, each with its reason: mounts and services it does not need, units whose
// conditions never hold in a VM, systemd-sysctl when the kernel applies every setting,
// systemd-tmpfiles-setup when jeos did the entries, login prompts, the debug and run generators
// unless vm.debug; and the empty ImportCredential= systemd's own services get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exe, image, service, spec } from '../../../test/support/vm/system-image.js';
import type { ImageTree } from '../../tree/index.js';
import { setupVmSystem } from './system.js';

test('mounts and units a jeos VM does not need are masked; tmp.mount only when the root is the initramfs', () => {
  const units = ['dev-mqueue.mount', 'run-lock.mount', 'tmp.mount', 'systemd-user-sessions.service', 'systemd-initctl.socket'];
  const shipped = { name: 'systemd-extra', files: Object.fromEntries([...units.map((u) => [`/usr/lib/systemd/system/${u}`, '[Unit]\n']), ['/usr/lib/tmpfiles.d/systemd-nologin.conf', 'F! /run/nologin 0644 - - - "System is booting up."\n']]) };
  const linkTarget = (tree: ImageTree, path: string) => {
    const node = tree.get(path);
    return node?.kind === 'symlink' ? node.target : undefined;
  };
  const masked = (tree: ImageTree) => units.filter((u) => linkTarget(tree, `etc/systemd/system/${u}`) === '/dev/null');

  const ram = image([shipped]);
  const report = setupVmSystem(ram.tree, spec(['/usr/sbin/webd']));
  assert.deepEqual(masked(ram.tree), units);
  assert.equal(linkTarget(ram.tree, 'etc/tmpfiles.d/systemd-nologin.conf'), '/dev/null', 'without systemd-user-sessions nothing would remove /run/nologin');
  assert.ok(report.masked.some((m) => m.unit === 'systemd-nologin.conf'));

  const disk = image([shipped]);
  setupVmSystem(disk.tree, { ...spec(['/usr/sbin/webd']), root: 'disk' });
  assert.deepEqual(masked(disk.tree), units.filter((u) => u !== 'tmp.mount'), "a disk's /tmp is on the disk: tmp.mount keeps it in memory");

  const bare = image();
  const none = setupVmSystem(bare.tree, spec(['/usr/sbin/webd']));
  assert.ok(!none.masked.some((m) => units.includes(m.unit) || m.unit === 'systemd-nologin.conf'), 'only what the image has is masked');
});

test('units whose conditions never hold in a VM are masked: TPM measurement, pstore, firstboot, kmod-static-nodes only without kmod', () => {
  const units = ['systemd-pcrphase.service', 'systemd-tpm2-setup.service', 'systemd-pcrlock.socket', 'systemd-pstore.service', 'systemd-firstboot.service', 'systemd-creds.socket', 'kmod-static-nodes.service'];
  const shipped = { name: 'systemd-extra', files: Object.fromEntries(units.map((u) => [`/usr/lib/systemd/system/${u}`, '[Unit]\n'])) };
  const kmod = { name: 'kmod', files: { '/usr/bin/kmod': exe(), '/usr/sbin/modprobe': { symlink: '../bin/kmod' } } };
  const reasons = (report: ReturnType<typeof setupVmSystem>) => new Map(report.masked.map((m) => [m.unit, m.reason]));

  const plain = image([shipped]);
  const masked = reasons(setupVmSystem(plain.tree, spec(['/usr/sbin/webd'])));
  for (const unit of units) {
    assert.equal(plain.tree.get(`etc/systemd/system/${unit}`)?.kind, 'symlink', `${unit} is masked`);
    assert.ok(masked.get(unit), `${unit} has a reason in build.json`);
  }
  assert.match(masked.get('systemd-tpm2-setup.service')!, /measured boot/);

  const withKmod = image([shipped, kmod]);
  const kept = reasons(setupVmSystem(withKmod.tree, spec(['/usr/sbin/webd'])));
  assert.ok(!kept.has('kmod-static-nodes.service'), 'with kmod in the image, its static nodes list is made');
  assert.ok(kept.has('systemd-pstore.service'));

  const bare = reasons(setupVmSystem(image().tree, spec(['/usr/sbin/webd'])));
  assert.ok(!units.some((u) => bare.has(u)), 'only what the image has is masked');
});

test('systemd-sysctl is masked when the kernel applies every setting from its command line, and kept otherwise', () => {
  const sysctl = (conf: Record<string, string>) => ({
    name: 'systemd-sysctl',
    files: {
      '/usr/lib/systemd/system/systemd-sysctl.service': service('/usr/lib/systemd/systemd-sysctl'),
      '/usr/lib/systemd/systemd-sysctl': exe(),
      '/usr/lib/sysctl.d/10-coredump-debian.conf': 'kernel.core_pattern=core\n',
      ...conf,
    },
  });
  const onCmdline = image([sysctl({ '/usr/lib/sysctl.d/50-pid-max.conf': 'kernel.pid_max = 4194304\n' })]);
  const report = setupVmSystem(onCmdline.tree, spec(['/usr/sbin/webd']));
  assert.deepEqual(report.masked.find((m) => m.unit === 'systemd-sysctl.service'), { unit: 'systemd-sysctl.service', reason: "the kernel applies the image's 1 sysctl setting from its command line" });
  assert.ok(report.masked.some((m) => m.unit === '10-coredump-debian.conf'), "Debian's core_pattern=core is masked: no core files in RAM");
  assert.deepEqual(report.sysctl, { settings: ['kernel.pid_max=4194304'], on: 'kernel command line', args: ['sysctl.kernel.pid_max=4194304'] });

  const kept = image([sysctl({ '/etc/sysctl.d/90-rp.conf': 'net.ipv4.conf.*.rp_filter = 2\n' })]);
  const again = setupVmSystem(kept.tree, spec(['/usr/sbin/webd']));
  assert.ok(!again.masked.some((m) => m.unit === 'systemd-sysctl.service'));
  assert.equal(again.sysctl.on, 'systemd-sysctl.service');
  assert.match(again.sysctl.reason ?? '', /^\/etc\/sysctl\.d\/90-rp\.conf: net\.ipv4\.conf\.\*\.rp_filter = 2 \(a pattern/);
});

test("systemd's own services that import credentials get an empty ImportCredential=, unless masked; package units are left alone", () => {
  const withCredentials = (exec: string, glob: string) => `${service(exec).replace('[Service]\n', `[Service]\nImportCredential=${glob}\n`)}`;
  const { tree } = image([
    {
      name: 'systemd-extra',
      files: {
        '/usr/lib/systemd/system/systemd-journald.service': withCredentials('/usr/lib/systemd/systemd-journald', 'journal.*'),
        '/usr/lib/systemd/system/systemd-journald@.service': withCredentials('/usr/lib/systemd/systemd-journald', 'journal.*'),
        '/usr/lib/systemd/system/systemd-random-seed.service': withCredentials('/usr/lib/systemd/systemd-random-seed', 'random.*'),
        '/usr/lib/systemd/system/webd-creds.service': withCredentials('/usr/sbin/webd', 'webd.*'),
      },
    },
  ]);
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  const dropins = report.files.filter((f) => f.endsWith('/jeos-credentials.conf'));
  assert.deepEqual(dropins, ['/etc/systemd/system/systemd-journald.service.d/jeos-credentials.conf']);
  assert.match(tree.readFile(dropins[0]!.slice(1))?.toString('utf8') ?? '', /^\[Service\]\nImportCredential=\n$/m);
  assert.ok(report.masked.some((m) => m.unit === 'systemd-random-seed.service'), 'masked units need no drop-in');
});

test('the debug and run generators are masked unless vm.debug keeps them; the others either way', () => {
  const generators = ['systemd-debug-generator', 'systemd-run-generator', 'systemd-fstab-generator'];
  const shipped = { name: 'systemd-generators', files: Object.fromEntries(generators.map((g) => [`/usr/lib/systemd/system-generators/${g}`, exe()])) };
  const maskedIn = (tree: ImageTree) =>
    generators.filter((g) => {
      const node = tree.get(`etc/systemd/system-generators/${g}`);
      return node?.kind === 'symlink' && node.target === '/dev/null';
    });

  const lean = image([shipped]);
  const report = setupVmSystem(lean.tree, spec(['/usr/sbin/webd']));
  assert.deepEqual(maskedIn(lean.tree), generators);
  assert.match(report.masked.find((m) => m.unit === 'systemd-debug-generator')?.reason ?? '', /vm\.debug: true keeps them/);

  const debug = image([shipped]);
  setupVmSystem(debug.tree, { ...spec(['/usr/sbin/webd']), debug: true });
  assert.deepEqual(maskedIn(debug.tree), ['systemd-fstab-generator']);
});

test('systemd-tmpfiles-setup is masked when jeos does the tmpfiles.d entries: the tree at build time, /run in /init; kept otherwise, with the reason', () => {
  const tmpfiles = (conf: string, unit = service('systemd-tmpfiles --create --remove --boot --exclude-prefix=/dev')) => ({
    name: 'systemd-tmpfiles',
    files: {
      '/usr/lib/systemd/system/systemd-tmpfiles-setup.service': unit,
      '/usr/bin/systemd-tmpfiles': exe(),
      '/usr/lib/tmpfiles.d/site.conf': conf,
      '/usr/lib/tmpfiles.d/systemd-nologin.conf': 'f+! /run/nologin 0644 - - - "System is booting up."\n',
    },
  });
  const conf = 'd /run/lock 1777 root root -\nL /run/shm - - - - /dev/shm\nd /var/spool/site 0700 - - -\n';
  const { tree } = image([tmpfiles(conf)]);
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.deepEqual(report.masked.find((m) => m.unit === 'systemd-tmpfiles-setup.service'), {
    unit: 'systemd-tmpfiles-setup.service',
    reason: "jeos applied the image's 3 tmpfiles.d entries at build time, and /init makes the 2 in /run",
  });
  assert.equal(report.tmpfiles.on, 'the build, and /init for /run');
  assert.deepEqual(report.tmpfiles.build, ['/usr/lib/tmpfiles.d/site.conf: d /var/spool/site 0700 - - -']);
  assert.equal(tree.get('var/spool/site')?.mode, 0o700, 'applied to the tree');
  const script = tree.readFile('etc/jeos/init')!.toString();
  assert.match(script, /\n\[ -e \/run\/jeos-tmpfiles\.done \] \|\| \{ \$bb tar -xpf \/etc\/jeos\/tmpfiles-run\.tar -C \/ [^\n]*\n(.*\n)*.*\$bb modprobe/, 'made before the modules load');
  assert.ok(tree.readFile('etc/jeos/tmpfiles-run.tar')?.includes('run/lock/'), 'the archive is in the image');
  assert.doesNotMatch(script, /nologin/, 'the masked systemd-nologin.conf is not read');

  const blocked = image([tmpfiles(`${conf}d /run/user/%b 0700\n`)]);
  const kept = setupVmSystem(blocked.tree, spec(['/usr/sbin/webd']));
  assert.ok(!kept.masked.some((m) => m.unit === 'systemd-tmpfiles-setup.service'));
  assert.deepEqual(kept.tmpfiles, { on: 'systemd-tmpfiles-setup.service', reason: '/usr/lib/tmpfiles.d/site.conf: d /run/user/%b 0700 (%b is known only once the machine has booted)', build: [], boot: [], nothingToDo: [] });
  assert.equal(blocked.tree.get('var/spool/site'), undefined, 'nothing applied when the service stays');
  assert.doesNotMatch(blocked.tree.readFile('etc/jeos/init')!.toString(), /tar -x/);
  assert.equal(blocked.tree.get('etc/jeos/tmpfiles-run.tar'), undefined);

  for (const [options, why] of [
    [{ network: 'networkd' as const }, /^vm\.network: networkd: no BusyBox script runs before sysinit\.target to make the 3 entries in \/run$/], // with its udev record for eth0
    [{ root: 'disk' as const }, /^the root is a disk/],
  ] as const) {
    const other = image([tmpfiles(conf)]);
    assert.match(setupVmSystem(other.tree, { ...spec(['/usr/sbin/webd']), ...options }).tmpfiles.reason ?? '', why);
  }

  const early = image([tmpfiles(conf), { name: 'early', files: { '/usr/lib/systemd/system/early.service': '[Unit]\nDefaultDependencies=no\nAfter=systemd-tmpfiles-setup.service\n[Service]\nExecStart=/usr/sbin/webd\n[Install]\nWantedBy=sysinit.target\n' } }]);
  early.tree.symlink('etc/systemd/system/sysinit.target.wants/early.service', '/usr/lib/systemd/system/early.service');
  assert.equal(setupVmSystem(early.tree, spec(['/usr/sbin/webd'])).tmpfiles.reason, '/usr/lib/systemd/system/early.service starts before sysinit.target and is ordered after systemd-tmpfiles-setup.service');
});

test('login prompts are masked even with agetty in the image (util-linux for the workload): locked passwords, and no udev to announce ttyS0; vm.debug keeps them', () => {
  const util = { name: 'util-linux', files: { '/usr/sbin/agetty': exe() } };
  const { tree } = image([util]);
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  const getty = report.masked.find((m) => m.unit === 'getty.target');
  assert.match(getty?.reason ?? '', /every password is locked.*90 s/);
  const debug = image([util]);
  const kept = setupVmSystem(debug.tree, { ...spec(['/usr/sbin/webd']), debug: true });
  assert.equal(kept.masked.find((m) => m.unit === 'getty.target'), undefined);
});
