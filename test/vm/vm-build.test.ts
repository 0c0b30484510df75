// jeos build with a vm output, end to end on the compiled CLI against a signed loopback
// repository: a synthetic kernel package (real module ELFs, compressed with xz and zstd)
// and a stand-in systemd package with the unit files a jeos VM enables and masks. The
// initramfs is read back with the real cpio and lz4. Booting real images is the live
// test's job (test/vm/nginx-vm.live.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TEST_VERSION } from '../support/vm/test-kernel.js';
import { KERNEL, kernelRecipe, vmStandIns } from '../support/vm/packages.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const unit = (install: string) => `[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n\n[Install]\n${install}\n`;

/** Just the files of systemd that a jeos VM's setup reads or links to. */
const systemd: DebRecipe = {
  name: 'systemd',
  version: '257-1',
  files: {
    '/usr/lib/systemd/systemd': { content: '\x7fELF stand-in\n', mode: 0o755 },
    '/usr/lib/systemd/system/multi-user.target': '[Unit]\nDescription=Multi-User System\n',
    '/usr/lib/systemd/system/systemd-networkd.service': unit('WantedBy=multi-user.target\nAlso=systemd-networkd.socket'),
    '/usr/lib/systemd/system/systemd-networkd.socket': '[Socket]\nReceiveBuffer=128M\n\n[Install]\nWantedBy=sockets.target\n',
    '/usr/lib/systemd/system/getty.target': '[Unit]\nDescription=Login Prompts\n',
    '/usr/lib/systemd/system/ldconfig.service': unit(''),
    '/usr/lib/systemd/system/systemd-logind.service': unit(''),
    '/usr/lib/systemd/system/systemd-modules-load.service': unit(''),
    '/usr/lib/systemd/system/webd.service': '[Service]\nExecStart=/usr/sbin/webd --daemon\n\n[Install]\nWantedBy=multi-user.target\n',
  },
};

const yaml = `name: webd
description: a test daemon
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd, --root, "/srv/my site", --fmt, "100%"]
  user: www-data
  env: { WEBD_MODE: "fast mode" }
  restart: always
  ports: [8080]
outputs: [tar, vm]
vm:
  modules: [virtio_scsi]
  cmdline: loglevel=3
  hostname: webd-test
`;

const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Paths in an LZ4-compressed newc archive, listed by the real cpio (`cpio -itv` lines). */
function listInitramfs(path: string): string[] {
  const cpio = execFileSync('sh', ['-c', `lz4 -dc '${path}' | cpio -itv --quiet`], { maxBuffer: 64 << 20 });
  return cpio.toString('utf8').trim().split('\n');
}

function readFromInitramfs(path: string, member: string): string {
  return execFileSync('sh', ['-c', `lz4 -dc '${path}' | cpio -i --to-stdout --quiet '${member}'`]).toString('utf8');
}

describe('jeos build --format vm', () => {
  let h: Harness;
  let project: string;

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [
          {
            name: 'webd',
            version: '1.0-1',
            depends: 'libweb',
            files: {
              '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 },
              '/usr/share/doc/webd/copyright': 'Files: *\nLicense: MIT\n',
              '/usr/share/doc/webd/changelog.Debian.gz': 'not really gzip\n',
              '/usr/share/man/man8/webd.8.gz': 'not really gzip\n',
              '/usr/share/locale/de/LC_MESSAGES/webd.mo': 'Hallo\n',
              '/usr/lib/systemd/system/webd-legacy.service': '[Service]\nExecStart=-/usr/sbin/webd --legacy\n\n[Install]\nWantedBy=multi-user.target\n',
            },
            scripts: { postinst: '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  deb-systemd-helper enable webd-legacy.service >/dev/null || true\nfi\n' },
          },
          { name: 'libweb', version: '2.0-1', files: { '/usr/lib/x86_64-linux-gnu/libweb.so.2': 'ELF-ish\n' } },
          systemd,
          ...vmStandIns(),
          kernelRecipe(),
        ],
        [],
      ),
    );
    project = join(h.work, 'webd');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml);
  });
  after(async () => {
    await h?.close();
  });

  test('writes the kernel, an initramfs holding the whole OS, and the command line', async () => {
    const r = await h.jeos('build', project);
    assert.equal(r.code, 0, r.stderr);
    // The VM variant's steps, in order, each named with it.
    const vmSteps = [...r.stderr.matchAll(/^vm (\S+) +\d+ ms /gm)].map((m) => m[1]);
    assert.deepEqual(vmSteps, ['unpack', 'configure', 'workload', 'kernel', 'system', 'trim', 'unit-setup']);
    assert.match(r.stderr, /^vm unpack +\d+ ms +5 packages/m);
    assert.match(r.stderr, /^vm kernel +\d+ ms +kernel 6\.12\.0-9-cloud-amd64, \d+ modules kept/m);
    assert.match(r.stdout, /vm +kernel 6\.12\.0-9-cloud-amd64, initrd\.img .* \(lz4;/);
    const vm = join(project, 'out/vm');
    assert.equal(await readFile(join(vm, 'vmlinuz'), 'utf8'), 'not really a kernel');
    assert.equal(await readFile(join(vm, 'cmdline'), 'utf8'), 'console=ttyS0 panic=-1 cryptomgr.notests initcall_blacklist=jent_mod_init rootfstype=ramfs systemd.show_status=1 systemd.firstboot=off loglevel=3\n');

    const listing = listInitramfs(join(vm, 'initrd.img'));
    const names = listing.map((l) => l.split(/\s+/).slice(8).join(' '));
    assert.ok(listing.some((l) => /^lrwxrwxrwx .* init -> \/etc\/jeos\/init$/.test(l)), 'init is jeos\'s script, which runs systemd');
    assert.ok(names.includes('usr/lib/systemd/systemd'), 'the trim keeps systemd, which /init runs');
    assert.ok(!names.includes('ini'), 'no stray /ini directory beside /init');
    assert.ok(!names.some((n) => n.startsWith('boot')), 'the kernel image is not copied into the initramfs');
    const modules = `usr/lib/modules/${TEST_VERSION}`;
    for (const kept of ['kernel/drivers/net/virtio_net.ko.xz', 'kernel/net/core/failover.ko.zst', 'kernel/drivers/scsi/virtio_scsi.ko.xz', 'kernel/drivers/scsi/scsi_mod.ko.xz', 'modules.dep', 'modules.dep.bin']) {
      assert.ok(names.includes(`${modules}/${kept}`), `${kept} is kept`);
    }
    assert.ok(!names.some((n) => n.includes('e1000') || n.includes('erofs')), 'modules nothing needs are left out');
    assert.ok(names.includes('usr/share/doc/webd/copyright'), 'copyright files stay');
    for (const gone of ['usr/share/doc/webd/changelog.Debian.gz', 'usr/share/man/man8/webd.8.gz', 'usr/share/locale/de/LC_MESSAGES/webd.mo', 'usr/share/man']) {
      assert.ok(!names.includes(gone), `${gone} is left out of the VM`);
    }

    const service = readFromInitramfs(join(vm, 'initrd.img'), 'etc/systemd/system/webd.service');
    assert.match(service, /^ExecStart=\/usr\/sbin\/webd --root "\/srv\/my site" --fmt 100%%$/m);
    assert.match(service, /^User=www-data$/m);
    assert.match(service, /^Environment="WEBD_MODE=fast mode"$/m);
    assert.match(service, /^Restart=always$/m);
    assert.match(service, /^OnFailure=jeos-report\.service$/m, 'a failed workload reports again');
    assert.match(service, /^Description=a test daemon \(jeos workload\)$/m);
    const report = readFromInitramfs(join(vm, 'initrd.img'), 'etc/systemd/system/jeos-report.service');
    assert.match(report, /^CPUWeight=idle$/m, 'the report waits for an idle CPU from the start, executor included');
    assert.equal(readFromInitramfs(join(vm, 'initrd.img'), 'etc/hostname'), 'webd-test\n');
    // vm.network: busybox (the default): /init loads the drivers of the devices present and, by name, virtio_scsi (vm.modules), then runs systemd.
    assert.match(readFromInitramfs(join(vm, 'initrd.img'), 'etc/jeos/init'), /^ {2}\$bb modprobe -a virtio_scsi \|\| /m);
    assert.ok(listing.some((l) => /^-rwxr-xr-x .* usr\/bin\/busybox$/.test(l)), 'the trim keeps BusyBox, which runs the script');
    const links = listing.filter((l) => l.startsWith('l')).map((l) => l.split(/\s+/).slice(8).join(' '));
    assert.ok(links.includes('etc/systemd/system/multi-user.target.wants/webd.service -> /etc/systemd/system/webd.service'));
    assert.ok(links.includes('etc/systemd/system/sysinit.target.wants/jeos-network.service -> /etc/systemd/system/jeos-network.service'));
    assert.ok(links.includes('etc/systemd/system/systemd-modules-load.service -> /dev/null'), '/init loads the modules');
    assert.ok(!links.some((l) => l.includes('systemd-networkd')), 'networkd is not started');
    assert.ok(!names.includes('etc/modules-load.d/jeos.conf'));
    assert.ok(links.includes('etc/systemd/system/ldconfig.service -> /dev/null'), 'ldconfig.service is masked');
    assert.ok(links.includes('etc/systemd/system/getty.target -> /dev/null'), 'no agetty: no getty');
    assert.ok(links.includes('etc/systemd/system/systemd-logind.service -> /dev/null'), 'no D-Bus: no logind');

    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    assert.equal(record.vm.kernel.package, KERNEL);
    assert.equal(record.vm.kernel.release, TEST_VERSION);
    assert.equal(record.vm.excluded, undefined, 'a trimmed VM needs no separate documentation exclusion');
    const trim = JSON.parse(await readFile(join(project, 'out/trim.json'), 'utf8'));
    for (const gone of ['/usr/share/doc/webd/changelog.Debian.gz', '/usr/share/man/man8/webd.8.gz', '/usr/share/locale/de/LC_MESSAGES/webd.mo']) {
      assert.ok(trim.vm.dropped.webd.includes(gone), `${gone} is recorded as dropped from the VM`);
    }
    assert.deepEqual(trim.vm.kept['/init'], { why: 'unit', detail: '/init' });
    assert.deepEqual(record.vm.modules.kept, ['failover', 'net_failover', 'scsi_mod', 'virtio_balloon', 'virtio_blk', 'virtio_net', 'virtio_rng', 'virtio_scsi']);
    assert.ok(record.vm.system.masked.some((m: { unit: string; reason: string }) => m.unit === 'ldconfig.service' && /build time/.test(m.reason)));
    assert.ok(record.outputs.some((o: { format: string; vm?: { initrd: { compression: string } } }) => o.format === 'vm' && o.vm?.initrd.compression === 'lz4'));
    assert.ok(!record.packages.some((p: { name: string }) => p.name.startsWith('linux-image')), 'the kernel is not one of the image\'s packages');
    assert.deepEqual(record.vm.addedPackages, ['busybox-static', 'libkmod2', 'systemd']);
    assert.deepEqual(record.outputs.map((o: { format: string; variant: string }) => `${o.format}:${o.variant}`), ['tar:image', 'vm:vm']);

    // manifest.json has the VM's tree too: every path of the initramfs, with the kernel's modules from the kernel package.
    const manifest = JSON.parse(await readFile(join(project, 'out/manifest.json'), 'utf8'));
    const vmPaths = manifest.trees.vm.map((e: { path: string }) => e.path);
    const inInitrd = names.filter((n) => n && n !== '.').map((n) => `/${n.replace(/ -> .*/, '')}`);
    assert.deepEqual(vmPaths, ['/', ...inInitrd].sort(), 'one entry for every path of initrd.img');
    const module = manifest.trees.vm.find((e: { path: string }) => e.path.endsWith('/virtio_net.ko.xz') || e.path.endsWith('/virtio_net.ko'));
    assert.equal(module?.package, KERNEL);
    assert.equal(manifest.trees.vm.find((e: { path: string }) => e.path === '/init')?.source, 'jeos');
    assert.ok(!manifest.trees.image.some((e: { path: string }) => e.path === '/init'));
  });

  test('the container outputs keep the image without the kernel or the boot setup', async () => {
    const tar = execFileSync('tar', ['-tf', join(project, 'out/rootfs.tar')], { maxBuffer: 64 << 20 }).toString('utf8').split('\n');
    assert.ok(!tar.includes('init'));
    assert.ok(!tar.some((p) => p.startsWith('usr/lib/modules') || p.startsWith('boot/') || p.includes('webd.service') && p.startsWith('etc/')));
    assert.ok(!tar.includes('usr/lib/systemd/systemd'), 'systemd is the VM\'s init, not part of the container image');
    assert.ok(!tar.includes('usr/share/man/man8/webd.8.gz'), 'the container image is trimmed too');
    assert.ok(tar.includes('usr/share/doc/webd/copyright'));
    const status = execFileSync('tar', ['-xOf', join(project, 'out/rootfs.tar'), 'var/lib/dpkg/status']).toString('utf8');
    assert.deepEqual([...status.matchAll(/^Package: (.+)$/gm)].map((m) => m[1]), ['libweb', 'webd']);
    const vmStatus = readFromInitramfs(join(project, 'out/vm/initrd.img'), 'var/lib/dpkg/status');
    assert.deepEqual([...vmStatus.matchAll(/^Package: (.+)$/gm)].map((m) => m[1]), ['busybox-static', 'libkmod2', 'libweb', 'systemd', 'webd'], 'the VM lists its own packages, and not the kernel');
  });

  test('a package unit that starts the workload\'s program is not started at boot', async () => {
    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    assert.deepEqual(record.vm.system.disabled, [{ unit: 'webd-legacy.service', reason: 'it starts /usr/sbin/webd, which the workload\'s webd.service runs' }]);
    const listing = listInitramfs(join(project, 'out/vm/initrd.img'));
    assert.ok(!listing.some((l) => l.includes('webd-legacy.service ->')), 'no link enables it in the VM');
    // webd.service from the package has the same name as the workload's unit: the one in /etc wins.
    assert.ok(!listing.some((l) => l.includes('-> /usr/lib/systemd/system/webd.service')));
    const tar = execFileSync('tar', ['-tf', join(project, 'out/rootfs.tar')]).toString('utf8');
    assert.match(tar, /^etc\/systemd\/system\/multi-user\.target\.wants\/webd-legacy\.service$/m, 'the container image keeps what the package enabled');
  });

  test('no package ships /tmp or the C.UTF-8 locale: both images get /tmp (1777, root), and the VM\'s services LANG=C', async () => {
    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    const tarTmp = execFileSync('tar', ['-tvf', join(project, 'out/rootfs.tar'), 'tmp/']).toString('utf8');
    assert.match(tarTmp, /^drwxrwxrwt 0\/0 .* tmp\/$/m, 'the container image has /tmp');
    assert.deepEqual(record.image.configure.find((e: { effect: string }) => e.effect === 'tmp')?.changed, ['/tmp']);
    const initrd = join(project, 'out/vm/initrd.img');
    assert.ok(listInitramfs(initrd).some((l) => /^drwxrwxrwt +\d+ root +root .* tmp$/.test(l)), 'the VM has /tmp');
    assert.ok(record.vm.system.files.includes('/tmp'));
    assert.match(readFromInitramfs(initrd, 'etc/locale.conf'), /^LANG=C$/m);
    assert.equal(record.vm.system.locale.lang, 'C');
  });

  test('a lock an older jeos wrote, without the VM\'s packages, is locked again (and --frozen refuses it)', async () => {
    const lockPath = join(project, 'jeos.lock');
    const lock = JSON.parse(await readFile(lockPath, 'utf8'));
    delete lock.vmPackages;
    await writeFile(lockPath, JSON.stringify(lock, null, 2));
    const frozen = await h.jeos('build', project, '--frozen');
    assert.equal(frozen.code, 1);
    assert.match(frozen.stderr, /E_BUILD_LOCK_STALE\]: lock: jeos\.lock has no VM packages or kernel/);
    const r = await h.jeos('build', project);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /locked again/);
    assert.deepEqual(JSON.parse(await readFile(lockPath, 'utf8')).vmPackages.map((p: { name: string }) => p.name), ['busybox-static', 'libkmod2', 'systemd']);
  });

  type LockedName = { name: string };
  /** Edit jeos.lock's VM packages as an older jeos wrote them: --frozen refuses the lock, naming busybox-static; a plain build locks again. */
  async function staleWithoutStaticBusybox(edit: (packages: LockedName[]) => LockedName[]): Promise<string[]> {
    const lockPath = join(project, 'jeos.lock');
    const lock = JSON.parse(await readFile(lockPath, 'utf8'));
    lock.vmPackages = edit(lock.vmPackages);
    await writeFile(lockPath, JSON.stringify(lock, null, 2));
    const frozen = await h.jeos('build', project, '--frozen');
    assert.equal(frozen.code, 1);
    assert.match(frozen.stderr, /jeos\.lock has no busybox-static, which a VM with vm\.init: systemd, vm\.network: busybox needs/);
    const r = await h.jeos('build', project);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(await readFile(lockPath, 'utf8')).vmPackages.map((p: LockedName) => p.name);
  }

  test('a lock made before vm.network: busybox, without BusyBox, is stale with the reason, and locked again', async () => {
    const names = await staleWithoutStaticBusybox((packages) => packages.filter((p) => p.name !== 'busybox-static'));
    assert.ok(names.includes('busybox-static'), names.join(' '));
  });

  test('a lock whose VM got the dynamically linked busybox (an older jeos) is stale, and locked again with busybox-static', async () => {
    const names = await staleWithoutStaticBusybox((packages) => packages.map((p) => (p.name === 'busybox-static' ? { ...p, name: 'busybox' } : p)));
    assert.deepEqual(names, ['busybox-static', 'libkmod2', 'systemd']);
  });

  test('two builds from different caches and directories give a byte-identical initrd.img', async () => {
    const first = await sha(join(project, 'out/vm/initrd.img'));
    const out = join(h.work, 'out-again');
    const r = await h.jeos('build', project, '--out', out, '--cache-dir', join(h.work, 'other-cache'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await sha(join(out, 'vm/initrd.img')), first);
    assert.equal(await sha(join(out, 'vm/vmlinuz')), await sha(join(project, 'out/vm/vmlinuz')));
  });
});
