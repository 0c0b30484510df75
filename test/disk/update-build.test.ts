// jeos build with a disk output and update: (issue 26, point 3), end to end on the compiled CLI
// against the signed loopback repository, with stand-ins for systemd-container and gpg. The
// VM's tree (out/vm/initrd.img, read back with lz4 and cpio) carries the channel's transfer
// files, the channel key alone as systemd-sysupdate's keyring (the host's gpg lists exactly
// that one key), the timer enabled, and the update script, which the trim keeps with what it
// runs. What the script decides is test/lifecycle/update-script.test.ts's job.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DISK_MODULES, KERNEL, kernelRecipe } from '../support/vm/packages.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const tools = ['sgdisk', 'mtype', 'lz4', 'cpio', 'dpkg-deb', 'gpg'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install gdisk mtools lz4 cpio dpkg-dev gpg)`;
const ELF = { content: '\x7fELF stand-in\n', mode: 0o755 };


const packages: DebRecipe[] = [
  { name: 'webd', version: '1.0-1', files: { '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 } } },
  {
    name: 'systemd',
    version: '257-1',
    files: {
      '/usr/lib/systemd/systemd': ELF,
      '/usr/bin/systemctl': ELF,
      '/usr/lib/systemd/system/multi-user.target': '[Unit]\nDescription=Multi-User System\n',
      '/usr/lib/systemd/system/timers.target': '[Unit]\nDescription=Timer Units\n',
    },
  },
  { name: 'libkmod2', version: '34-1', files: { '/usr/lib/x86_64-linux-gnu/libkmod.so.2': 'kmod\n' } },
  { name: 'busybox-static', version: '1:1.37.0-6', files: { '/usr/bin/busybox': ELF } },
  { name: 'systemd-boot-efi', version: '257-1', files: { '/usr/lib/systemd/boot/efi/systemd-bootx64.efi': 'MZ stand-in\n' } },
  { name: 'dosfstools', version: '4.2-1.2', files: { '/usr/sbin/fsck.fat': ELF } },
  {
    name: 'systemd-boot',
    version: '257-1',
    files: {
      '/usr/lib/systemd/systemd-bless-boot': ELF,
      '/usr/lib/systemd/system/systemd-bless-boot.service': '[Unit]\nDescription=Mark the Current Boot Loader Entry as Good\n[Service]\nType=oneshot\nExecStart=/usr/lib/systemd/systemd-bless-boot good\n',
    },
  },
  // What update: locks: systemd-sysupdate and systemd-pull, and the gpg program.
  {
    name: 'systemd-container',
    version: '257-1',
    files: { '/usr/lib/systemd/systemd-sysupdate': ELF, '/usr/lib/systemd/systemd-pull': ELF, '/usr/bin/machinectl': ELF },
  },
  { name: 'gpg', version: '2.4.7-21', files: { '/usr/bin/gpg': ELF } },
  { name: 'linux-image-cloud-amd64', version: '6.12.0-9', depends: `${KERNEL} (= 6.12.0-9)` },
  kernelRecipe({ fsModules: DISK_MODULES }),
];

const yaml = (update: string) => `name: webd
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
  ports: [8080]
outputs: [vm, disk]
disk:
  size: 512M
version: '1.0'
${update}`;

const listInitramfs = (path: string) => execFileSync('sh', ['-c', `lz4 -dc '${path}' | cpio -it --quiet`], { maxBuffer: 64 << 20 }).toString().trim().split('\n');
const fromInitramfs = (path: string, member: string) => execFileSync('sh', ['-c', `lz4 -dc '${path}' | cpio -i --to-stdout --quiet '${member}'`], { maxBuffer: 64 << 20 });

describe('jeos build --format disk with update:', { skip }, () => {
  let h: Harness;
  let project: string;
  let fingerprint: string;

  before(async () => {
    h = await startHarness(trixieRepo(packages, []));
    project = join(h.work, 'webd');
    await mkdir(project);
    const key = await h.jeos('key', 'new', '--out', join(project, 'keys'), '--json');
    assert.equal(key.code, 0, key.stderr);
    fingerprint = JSON.parse(key.stdout).fingerprint;
    await writeFile(join(project, 'jeos.yaml'), yaml('update:\n  channel: http://10.0.2.2:8000/web/alpha\n  key: keys/channel.pub\n'));
  });
  after(async () => {
    await h?.close();
  });

  test('the VM carries the transfer files, the channel key alone, the timer enabled and the script; the lock has systemd-container and gpg', async () => {
    const r = await h.jeos('build', project);
    assert.equal(r.code, 0, r.stderr);
    const lock = JSON.parse(await readFile(join(project, 'jeos.lock'), 'utf8'));
    const vmPackages = lock.vmPackages.map((p: { name: string }) => p.name);
    for (const p of ['systemd-container', 'gpg']) assert.ok(vmPackages.includes(p), `the lock's VM packages hold ${p}`);

    const initrd = join(project, 'out/vm/initrd.img');
    const listing = listInitramfs(initrd);
    const transfers = listing.filter((p) => p.startsWith('etc/sysupdate.d/')).sort();
    assert.deepEqual(transfers, ['etc/sysupdate.d/10-jeos-linux.transfer', 'etc/sysupdate.d/20-jeos-initrd.transfer', 'etc/sysupdate.d/90-jeos-entry.transfer']);
    const linux = fromInitramfs(initrd, 'etc/sysupdate.d/10-jeos-linux.transfer').toString();
    assert.match(linux, /^Path=http:\/\/10\.0\.2\.2:8000\/web\/alpha\/$/m);
    assert.match(linux, /^MatchPattern=jeos-@v\.linux$/m);
    assert.match(fromInitramfs(initrd, 'etc/sysupdate.d/90-jeos-entry.transfer').toString(), /^TriesLeft=3$/m);

    // The timer: first check a minute after boot, then hourly; enabled, so it and what it runs are kept.
    assert.ok(listing.includes('etc/systemd/system/timers.target.wants/jeos-update.timer'), 'jeos-update.timer is enabled');
    const timer = fromInitramfs(initrd, 'etc/systemd/system/jeos-update.timer').toString();
    assert.match(timer, /^OnBootSec=1min$/m);
    assert.match(timer, /^OnUnitActiveSec=1h$/m);
    assert.match(fromInitramfs(initrd, 'etc/systemd/system/jeos-update.service').toString(), /^ExecStart=\/usr\/lib\/jeos\/jeos-update$/m);
    for (const kept of ['usr/lib/jeos/jeos-update', 'usr/lib/systemd/systemd-sysupdate', 'usr/lib/systemd/systemd-pull', 'usr/bin/gpg']) {
      assert.ok(listing.includes(kept), `the trim keeps ${kept}`);
    }

    // The script parses as POSIX sh.
    const script = join(h.work, 'jeos-update');
    await writeFile(script, fromInitramfs(initrd, 'usr/lib/jeos/jeos-update'));
    const syntax = spawnSync('sh', ['-n', script]);
    assert.equal(syntax.status, 0, syntax.stderr.toString());

    // The keyring: binary, the channel's key and no other, readable by gpg as sysupdate runs it (--keyring).
    const keyring = join(h.work, 'import-pubring.gpg');
    const bytes = fromInitramfs(initrd, 'etc/systemd/import-pubring.gpg');
    assert.ok(!bytes.toString('latin1').includes('BEGIN PGP'), 'dearmoured');
    await writeFile(keyring, bytes);
    const home = await mkdtemp(join(h.work, 'gnupg-'));
    const list = spawnSync('gpg', ['--homedir', home, '--batch', '--no-default-keyring', '--keyring', keyring, '--with-colons', '--list-keys']);
    assert.equal(list.status, 0, list.stderr.toString());
    const lines = list.stdout.toString().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('pub:')).length, 1, list.stdout.toString());
    assert.deepEqual(lines.filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9]).slice(0, 1), [fingerprint]);
    assert.ok(!lines.some((l) => l.startsWith('sec:')), 'no secret key');
  });

  test('refused with clear errors: update: without a disk output, a key outside the project or missing, a secret key', async () => {
    const other = join(h.work, 'other');
    await mkdir(other, { recursive: true });
    const tryYaml = async (text: string) => {
      await writeFile(join(other, 'jeos.yaml'), text);
      return h.jeos('build', other);
    };
    const noDisk = await tryYaml(yaml('update:\n  channel: http://10.0.2.2/a\n  key: k.pub\n').replace('outputs: [vm, disk]', 'outputs: [vm]'));
    assert.notEqual(noDisk.code, 0);
    assert.match(noDisk.stderr, /update: needs outputs: \[disk\]/);
    const outside = await tryYaml(yaml('update:\n  channel: http://10.0.2.2/a\n  key: ../webd/keys/channel.pub\n'));
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /outside the project/);
    const absent = await tryYaml(yaml('update:\n  channel: http://10.0.2.2/a\n  key: nothing.pub\n'));
    assert.notEqual(absent.code, 0);
    assert.match(absent.stderr, /nothing\.pub/);
    await writeFile(join(other, 'channel.key'), await readFile(join(project, 'keys/channel.key')));
    const secret = await tryYaml(yaml('update:\n  channel: http://10.0.2.2/a\n  key: channel.key\n'));
    assert.notEqual(secret.code, 0);
    assert.match(secret.stderr, /is a secret key/);
    const badUrl = await tryYaml(yaml('update:\n  channel: "ftp://x/$y"\n  key: channel.key\n'));
    assert.match(badUrl.stderr, /http:\/\/ or https:\/\/ URL/);
  });
});
