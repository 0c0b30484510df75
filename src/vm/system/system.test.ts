// The VM system setup on small synthetic images, followed by the trim where the order matters
// (the trim runs after setupVmSystem, as in jeos build): the locale services get, package units
// that would start the workload's program a second time behind a wrapper script, and /tmp.
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configureImage } from '../../configure/index.js';
import { installFake, mergedUsrTree, type FakePackage } from '../../../test/support/configure/packages.js';
import { buildElf } from '../../../test/support/elf/synthetic.js';
import type { JeosError } from '../../errors.js';
import { ImageTree } from '../../tree/index.js';
import { unitEntries } from '../../util/unit-file.js';
import { trimImage } from '../../trim/index.js';
import { setupVmSystem, type VmSystemSpec } from './system.js';

const LD = '/lib64/ld-linux-x86-64.so.2';
const T = 'usr/lib/x86_64-linux-gnu';
const exe = () => ({ content: buildElf({ type: 2, interpreter: LD, needed: ['libc.so.6'] }), mode: 0o755 });
const lib = (soname: string) => ({ content: buildElf({ soname }), mode: 0o644 });
const service = (exec: string) => `[Unit]\nDescription=x\n\n[Service]\nExecStart=${exec}\n\n[Install]\nWantedBy=multi-user.target\n`;
const C_UTF8 = 'usr/lib/locale/C.utf8';

/** libc6, a stand-in systemd with the units a jeos VM enables, a daemon with its own enabled unit, and `extra`. */
function image(extra: FakePackage[] = [], options: { localeC8?: boolean } = {}) {
  const tree = mergedUsrTree(new ImageTree());
  const specs: FakePackage[] = [
    {
      name: 'libc6',
      multiArch: 'same',
      files: {
        [`/${T}/ld-linux-x86-64.so.2`]: lib('ld-linux-x86-64.so.2'),
        '/usr/lib64/ld-linux-x86-64.so.2': { symlink: '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
        [`/${T}/libc.so.6`]: lib('libc.so.6'),
      },
    },
    ...(options.localeC8
      ? [{ name: 'libc-bin', files: { [`/${C_UTF8}/LC_CTYPE`]: 'ctype\n', [`/${C_UTF8}/LC_COLLATE`]: 'collate\n', [`/${C_UTF8}/LC_MESSAGES/SYS_LC_MESSAGES`]: 'messages\n' } }]
      : []),
    {
      name: 'systemd',
      files: {
        '/usr/lib/systemd/systemd': exe(),
        '/usr/lib/systemd/system/multi-user.target': '[Unit]\nDescription=Multi-User System\n',
        '/usr/lib/systemd/system/systemd-networkd.service': service('/usr/lib/systemd/systemd-networkd'),
        '/usr/lib/systemd/systemd-networkd': exe(),
        '/usr/bin/systemd-escape': exe(),
        '/usr/bin/systemctl': exe(),
        '/usr/lib/systemd/system/systemd-modules-load.service': service('/usr/lib/systemd/systemd-modules-load'),
        '/usr/lib/systemd/systemd-modules-load': exe(),
      },
    },
    { name: 'busybox', files: { '/usr/bin/busybox': exe() } },
    {
      name: 'webd',
      files: {
        '/usr/sbin/webd': exe(),
        '/usr/lib/systemd/system/webd.service': service('/usr/sbin/webd -g "daemon on;"'),
        '/usr/bin/webd-keygen': exe(),
        '/usr/lib/systemd/system/webd-keygen.service': service('/usr/bin/webd-keygen'),
        '/usr/lib/systemd/system/webd-shell.service': service("/bin/sh -c 'echo hello'"),
        '/usr/bin/dash': exe(),
        '/usr/bin/sh': { symlink: 'dash' },
      },
    },
    ...extra,
  ];
  const packages = specs.map((s) => installFake(tree, s));
  configureImage(tree, packages, { architecture: 'amd64', sourceDateEpoch: 1_700_000_000, workloadUser: 'root', os: { codename: 'trixie', versionId: '13', imageId: 'webd', imageVersion: '0' } });
  // What the packages' postinst (deb-systemd-helper) enables.
  for (const unit of ['webd.service', 'webd-keygen.service', 'webd-shell.service']) {
    tree.symlink(`etc/systemd/system/multi-user.target.wants/${unit}`, `/usr/lib/systemd/system/${unit}`);
  }
  return { tree, packages };
}

const spec = (command?: string[], env: Record<string, string> = {}): VmSystemSpec => ({
  hostname: 'webd',
  modules: ['virtio_net'],
  sourceDateEpoch: 1_700_000_000,
  ...(command ? { workload: { unit: 'site.service', description: 'site', command, user: 'root', workdir: '/', env, restart: 'on-failure' as const } } : {}),
});

const trimVm = (tree: ImageTree, packages: ReturnType<typeof image>['packages']) =>
  trimImage(tree, packages, { architecture: 'amd64', settings: { enabled: true, keep: [], locales: [] }, roots: [], requested: [], units: true }, 1_700_000_000);

test('without the C.UTF-8 locale, services get LANG=C from /etc/locale.conf, not systemd\'s default C.UTF-8', () => {
  const { tree, packages } = image();
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.equal(tree.readFile('etc/locale.conf')?.toString(), '# Made by jeos: the locale systemd gives every service.\nLANG=C\n');
  assert.equal(report.locale.lang, 'C');
  assert.match(report.locale.reason, /no C\.UTF-8 locale .*libc-bin/);
  assert.ok(report.files.includes('/etc/locale.conf'));
  trimVm(tree, packages);
  assert.match(tree.readFile('etc/locale.conf')!.toString(), /^LANG=C$/m, 'the trim keeps the file jeos wrote');
});

test('with the C.UTF-8 locale, /etc/locale.conf names it and the trim keeps it though nothing imports setlocale()', () => {
  const { tree, packages } = image([], { localeC8: true });
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.match(tree.readFile('etc/locale.conf')!.toString(), /^LANG=C\.UTF-8$/m);
  assert.deepEqual(report.locale, { lang: 'C.UTF-8', reason: `the image has the C.UTF-8 locale (/${C_UTF8}), which the trim keeps` });
  const { record, explanation } = trimVm(tree, packages);
  for (const f of ['LC_CTYPE', 'LC_COLLATE', 'LC_MESSAGES/SYS_LC_MESSAGES']) assert.ok(tree.get(`${C_UTF8}/${f}`), `${f} is in the trimmed tree`);
  assert.deepEqual(explanation.kept[`/${C_UTF8}/LC_CTYPE`], { why: 'rule', detail: 'systemd-locale', from: '/usr/lib/systemd/systemd', pkg: 'libc-bin' });
  assert.ok(record.rules.some((r) => r.name === 'systemd-locale' && r.files === 3));
});

test('a locale.conf a package ships is left alone; the trim keeps the locale it names, and only that one', () => {
  const { tree, packages } = image(
    [{ name: 'locales', files: { '/etc/locale.conf': 'LANG="de_DE.UTF-8"\n', '/usr/lib/locale/de_DE.utf8/LC_CTYPE': 'de\n', '/usr/lib/locale/fr_FR.utf8/LC_CTYPE': 'fr\n' } }],
    { localeC8: true },
  );
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.equal(tree.readFile('etc/locale.conf')!.toString(), 'LANG="de_DE.UTF-8"\n');
  assert.ok(!report.files.includes('/etc/locale.conf'));
  assert.deepEqual(report.locale, { lang: 'de_DE.UTF-8', reason: '/etc/locale.conf comes from the package locales' });
  trimVm(tree, packages);
  assert.ok(tree.get('usr/lib/locale/de_DE.utf8/LC_CTYPE'), 'the locale locale.conf names (its codeset normalised as glibc does)');
  assert.equal(tree.get('usr/lib/locale/fr_FR.utf8/LC_CTYPE'), undefined);
  assert.equal(tree.get(`${C_UTF8}/LC_CTYPE`), undefined, 'C.UTF-8 is not what services get here');
});

/** The units disabled as duplicates of the workload (the others a package enabled go as strays: stray-units.test.ts). */
const duplicates = (report: ReturnType<typeof setupVmSystem>) => report.disabled.filter((d) => d.reason.startsWith('it starts '));

test('a package unit that starts what a wrapper script runs is not started; units running other programs are not duplicates', () => {
  const start = '#!/bin/sh\n# make a key on first start, then serve\nset -e\nif [ ! -s /etc/webd/key ]; then\n  mkkey /etc/webd/key\nfi\nexec /usr/sbin/webd -c /etc/webd/site.conf\n';
  const { tree } = image([{ name: 'site', files: { '/usr/local/bin/start-site': { content: start, mode: 0o755 }, '/usr/bin/mkkey': exe() } }]);
  const report = setupVmSystem(tree, spec(['/usr/local/bin/start-site']));
  assert.deepEqual(duplicates(report), [{ unit: 'webd.service', reason: "it starts /usr/sbin/webd, which the workload's site.service runs through /usr/local/bin/start-site" }]);
  const wants = 'etc/systemd/system/multi-user.target.wants';
  assert.equal(tree.get(`${wants}/webd.service`), undefined);
  assert.ok(!duplicates(report).some((d) => d.unit === 'webd-keygen.service'), 'webd-keygen runs a program the script does not');
  assert.ok(!duplicates(report).some((d) => d.unit === 'webd-shell.service'), 'the script\'s own shell does not make every shell unit a duplicate');
  assert.ok(tree.get(`${wants}/site.service`));
});

test('programs are found on the workload\'s PATH and through scripts the wrapper runs; sh -c counts its commands', () => {
  const outer = '#!/bin/sh\nexec run-site "$@"\n';
  const inner = '#!/bin/sh\nexec webd-keygen --serve\n';
  const files = { '/opt/site/bin/start': { content: outer, mode: 0o755 }, '/opt/site/bin/run-site': { content: inner, mode: 0o755 } };
  const viaPath = image([{ name: 'site', files }]);
  const report = setupVmSystem(viaPath.tree, spec(['start'], { PATH: '/opt/site/bin:/usr/bin' }));
  assert.deepEqual(duplicates(report), [{ unit: 'webd-keygen.service', reason: "it starts /usr/bin/webd-keygen, which the workload's site.service runs through /opt/site/bin/run-site" }]);

  const shell = image();
  const bySh = setupVmSystem(shell.tree, spec(['/bin/sh', '-c', 'exec webd --foreground']));
  assert.deepEqual(duplicates(bySh).map((d) => d.unit), ['webd.service'], 'not webd-shell.service: running a shell is not running its program');
});

test('the workload\'s own program is still recognised when it is the command itself', () => {
  const { tree } = image();
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd', '-g', 'daemon off;']));
  assert.deepEqual(duplicates(report), [{ unit: 'webd.service', reason: "it starts /usr/sbin/webd, which the workload's site.service runs" }]);
});

test('/tmp is made (1777, root) when no package ships it, fixed when jeos made it for a workload file, and kept by the trim', () => {
  const { tree, packages } = image();
  assert.equal(tree.get('tmp'), undefined);
  tree.writeFile('tmp/seed', 'x\n'); // a workload file's parent, made 0755 on the way
  const report = setupVmSystem(tree, spec(['/usr/sbin/webd']));
  assert.ok(report.files.includes('/tmp'));
  assert.deepEqual(pick(tree.get('tmp')), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  trimVm(tree, packages);
  assert.deepEqual(pick(tree.get('tmp')), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 }, 'the trim keeps /tmp');

  const shipped = image([{ name: 'base-files', files: { '/tmp/.keep': '' } }]);
  shipped.tree.put('tmp', { ...shipped.tree.get('tmp')!, mode: 0o1777 } as never);
  const again = setupVmSystem(shipped.tree, spec(['/usr/sbin/webd']));
  assert.ok(!again.files.includes('/tmp'), "a package's /tmp is left as shipped");
  assert.equal(shipped.tree.get('tmp')?.pkg, 'base-files');
});

function pick(node: ReturnType<ImageTree['get']>) {
  return node && { kind: node.kind, mode: node.mode, uid: node.uid, gid: node.gid };
}

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
