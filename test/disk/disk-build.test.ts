// jeos build with a disk output, end to end on the compiled CLI against the signed loopback
// repository: a synthetic kernel, a stand-in systemd and a systemd-boot-efi package whose
// EFI binary is a few bytes. disk.img is checked with sgdisk -v, fsck.vfat -n (the ESP, cut
// out with dd), mtype (every ESP file read back), e2fsck -fn (/var) and qemu-img check; two
// builds give the same bytes. Booting a real disk is test/disk/nginx-disk.live.test.ts's job.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DISK_MODULES, diskStandIns, kernelRecipe, vmStandIns } from '../support/vm/packages.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const LOADER = Buffer.from('MZ stand-in for systemd-bootx64.efi\n');
const tools = ['sgdisk', 'fsck.vfat', 'mtype', 'e2fsck', 'qemu-img', 'lz4', 'dpkg-deb'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install gdisk dosfstools mtools e2fsprogs qemu-utils lz4 dpkg-dev)`;
const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };


const packages: DebRecipe[] = [
  { name: 'webd', version: '1.0-1', files: { '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 } } },
  ...diskStandIns(LOADER),
  ...vmStandIns(),
  kernelRecipe({ fsModules: DISK_MODULES }),
];

const yaml = (extra: string) => `name: webd
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
  ports: [8080]
outputs: [tar, disk]
disk:
  size: 512M
  formats: [raw, qcow2]
${extra}`;

const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('jeos build --format disk', { skip }, () => {
  let h: Harness;
  let project: string;
  const out = (p: string) => join(project, 'out', p);

  before(async () => {
    h = await startHarness(trixieRepo(packages, []));
    project = join(h.work, 'webd');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml('version: 1.0~rc1\n'));
  });
  after(async () => {
    await h?.close();
  });

  test('writes out/disk.img: GPT, an ESP with the locked systemd-boot and the version\'s entry, /var; recorded in build.json', async () => {
    const r = await h.jeos('build', project);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^vm boot-loader +\d+ ms +systemd-boot in \/boot\/efi\/systemd-bootx64\.efi \(36 bytes\)/m);
    const lock = JSON.parse(await readFile(join(project, 'jeos.lock'), 'utf8'));
    assert.ok(lock.vmPackages.some((p: { name: string }) => p.name === 'systemd-boot-efi'), 'the lock holds the boot loader');

    const img = out('disk.img');
    assert.match(execFileSync('sgdisk', ['-v', img]).toString(), /No problems found/);
    const record = JSON.parse(await readFile(out('build.json'), 'utf8'));
    assert.equal(record.version, '1.0~rc1');
    const disk = record.outputs.find((o: { format: string }) => o.format === 'disk');
    assert.equal(disk.variant, 'vm');
    assert.deepEqual(disk.files.map((f: { path: string }) => f.path), ['disk.img', 'disk.qcow2']);
    assert.equal(disk.files[0].sha256, await sha(img));
    assert.equal(disk.disk.entry, 'loader/entries/jeos-1.0~rc1+3.conf');
    assert.ok(record.vm.addedPackages.includes('systemd-boot-efi'));

    // mtools reads the ESP in place (@@ its byte offset); fsck.vfat needs it as a file of its own.
    const espAt = `${img}@@${disk.disk.esp.first * 512}`;
    const mtype = (p: string) => execFileSync('mtype', ['-i', espAt, `::/${p}`], { env: mtools });
    assert.ok(mtype('EFI/BOOT/BOOTX64.EFI').equals(LOADER), 'systemd-boot comes from the locked package');
    const entry = mtype(disk.disk.entry).toString();
    assert.match(entry, /^version 1\.0~rc1$/m);
    assert.match(entry, /^linux \/jeos\/1\.0~rc1\/linux$/m);
    assert.match(entry, /^options console=ttyS0 panic=-1 .* jeos\.version=1\.0~rc1$/m);
    assert.equal(mtype('jeos/1.0~rc1/linux').toString(), 'not really a kernel');
    // fsck.fat, which repairs the ESP before it is mounted, is locked and kept by the trim (the mounts script names it).
    assert.ok(lock.vmPackages.some((p: { name: string }) => p.name === 'dosfstools'), 'the lock holds dosfstools');
    const initrd = execFileSync('sh', ['-c', 'lz4 -dc | cpio -t --quiet'], { input: mtype('jeos/1.0~rc1/initrd') }).toString().split('\n');
    assert.ok(initrd.includes('usr/sbin/fsck.fat'), 'the initrd holds usr/sbin/fsck.fat');
    assert.ok(initrd.includes('etc/jeos/disk-mounts'));
    // The image says its version in os-release too (what the guest prints when its boot completes, systemd's %A).
    const osRelease = execFileSync('sh', ['-c', 'lz4 -dc | cpio -i --quiet --to-stdout etc/os-release'], { input: mtype('jeos/1.0~rc1/initrd') }).toString();
    assert.match(osRelease, /^IMAGE_VERSION="?1\.0~rc1"?$/m);
    const esp = join(h.work, 'esp.img');
    execFileSync('dd', [`if=${img}`, `of=${esp}`, 'bs=512', `skip=${disk.disk.esp.first}`, `count=${disk.disk.esp.last - disk.disk.esp.first + 1}`, 'conv=sparse', 'status=none']);
    const fsck = spawnSync('fsck.vfat', ['-n', esp]);
    assert.equal(fsck.status, 0, fsck.stdout.toString());
    const e2 = spawnSync('e2fsck', ['-fn', `${img}?offset=${disk.disk.var.first * 512}`]);
    assert.equal(e2.status, 0, e2.stdout.toString() + e2.stderr.toString());
    assert.equal(spawnSync('qemu-img', ['check', out('disk.qcow2')]).status, 0);
  });

  test('a second build gives the same bytes; without version: the build is 0~<SOURCE_DATE_EPOCH>', async () => {
    const before = { raw: await sha(out('disk.img')), qcow2: await sha(out('disk.qcow2')) };
    await rm(join(project, 'out'), { recursive: true });
    const again = await h.jeos('build', project, '--quiet');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual({ raw: await sha(out('disk.img')), qcow2: await sha(out('disk.qcow2')) }, before);

    await writeFile(join(project, 'jeos.yaml'), yaml(''));
    const unversioned = await h.jeos('build', project, '--quiet', '--frozen');
    assert.equal(unversioned.code, 0, unversioned.stderr);
    const record = JSON.parse(await readFile(out('build.json'), 'utf8'));
    assert.equal(record.version, `0~${record.sourceDateEpoch}`);
    assert.match(execFileSync('mdir', ['-b', '-i', `${out('disk.img')}@@1M`, '::/loader/entries'], { env: mtools }).toString(), new RegExp(`jeos-0~${record.sourceDateEpoch}\\+3\\.conf`));
  });

  test('refused with clear errors: --format disk without disk in outputs, vm.root: disk and vm.init: busybox with a disk output, a bad version', async () => {
    const other = join(h.work, 'other');
    await mkdir(other, { recursive: true });
    const tryYaml = async (text: string, ...args: string[]) => {
      await writeFile(join(other, 'jeos.yaml'), text);
      return h.jeos('build', other, ...args);
    };
    const noDisk = await tryYaml(yaml('').replace('outputs: [tar, disk]', 'outputs: [tar]'), '--format', 'disk');
    assert.notEqual(noDisk.code, 0);
    assert.match(noDisk.stderr, /--format disk needs disk among the outputs/);
    const root = await tryYaml(yaml('vm:\n  root: disk\n'));
    assert.match(root.stderr, /vm\.root: disk \(an ext4 root image for the plain vm output\) cannot be used with outputs: \[disk\]/);
    const busybox = await tryYaml(yaml('vm:\n  init: busybox\n'));
    assert.match(busybox.stderr, /vm\.init: busybox cannot be used with outputs: \[disk\]/);
    const plus = await tryYaml(yaml('version: 1.0+3\n'));
    assert.match(plus.stderr, /version: .*no \+, -, _ or :/);
  });
});
