// jeos audit --vm --against a stopped out/disk.img, on the compiled CLI against the signed loopback
// repository (the packages of test/disk/disk-build.test.ts: a synthetic kernel, stand-ins for
// systemd and systemd-boot). The drift is made with other tools than jeos's: mtools takes the
// initrd of the ESP out and puts it back, the real cpio appends a newc archive whose entries
// replace or add paths (the kernel unpacks concatenated archives in order, the later entry wins),
// lz4 compresses it as the kernel reads it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DISK_MODULES, diskStandIns, kernelRecipe, vmStandIns } from '../support/vm/packages.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const tools = ['mcopy', 'cpio', 'lz4', 'dpkg-deb'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install mtools cpio lz4 dpkg-dev)`;
const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

const unit = (install: string) => `[Unit]\nDescription=x\n\n[Service]\nExecStart=/usr/sbin/webd\n\n[Install]\n${install}\n`;
const packages: DebRecipe[] = [
  {
    name: 'webd',
    version: '1.0-1',
    files: {
      '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 },
      '/usr/share/webd/page.html': 'hello\n',
      '/usr/lib/systemd/system/webd-extra.service': unit('WantedBy=multi-user.target'),
    },
  },
  ...diskStandIns(),
  ...vmStandIns(),
  kernelRecipe({ fsModules: DISK_MODULES }),
];

const yaml = `name: webd
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
  ports: [8080]
  files:
    - { path: /usr/share/webd/page.html, content: "hello\\n" }
outputs: [tar, vm, disk]
version: "1.0"
disk:
  size: 512M
`;

describe('jeos audit against a stopped disk image', { skip, timeout: 300_000 }, () => {
  let h: Harness;
  let project: string;
  let out: string;
  let espAt: string;

  const auditJson = async (against: string, ...more: string[]) => {
    const r = await h.jeos('audit', project, '--against', against, '--json', ...more);
    return { code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr };
  };

  before(async () => {
    h = await startHarness(trixieRepo(packages, []));
    project = join(h.work, 'webd');
    out = join(project, 'out');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml);
    const r = await h.jeos('build', project, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(await readFile(join(out, 'build.json'), 'utf8'));
    const disk = record.outputs.find((o: { format: string }) => o.format === 'disk');
    espAt = `@@${disk.disk.esp.first * 512}`;
  });
  after(async () => {
    await h?.close();
  });

  test('the disk as built is clean (exit 0): the initrd of the version it boots next, read from the ESP without mounting', async () => {
    const { code, report } = await auditJson(join(out, 'disk.img'), '--vm');
    assert.equal(code, 0, JSON.stringify(report.counts));
    assert.equal(report.target.kind, 'disk');
    assert.equal(report.target.via, '/jeos/1.0/initrd of jeos-1.0+3.conf, lz4');
    assert.equal(report.tree, 'vm');
    const text = await h.jeos('audit', project, '--vm', '--against', join(out, 'disk.img'));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^clean: .*disk\.img \(disk, \/jeos\/1\.0\/initrd/m);
  });

  test('without --vm: E_AUDIT_VARIANT; a qcow2: E_AUDIT_NOT_IMAGE with the conversion', async () => {
    const image = await auditJson(join(out, 'disk.img'));
    assert.equal(image.code, 3);
    assert.equal(image.report.error.code, 'E_AUDIT_VARIANT');
    const qcow = join(h.work, 'disk.qcow2');
    const made = spawnSync('qemu-img', ['convert', '-O', 'qcow2', join(out, 'disk.img'), qcow]);
    if (made.status !== 0) return; // qemu-img is not installed: the rest still ran
    const q = await auditJson(qcow, '--vm');
    assert.equal(q.code, 3);
    assert.equal(q.report.error.code, 'E_AUDIT_NOT_IMAGE');
    assert.match(q.report.error.hint, /qemu-img convert -O raw/);
  });

  test('a byte changed, a file added, a mode changed, a setuid bit, a unit enabled in the ESP\'s initrd: each named, exit 1', async () => {
    const disk = join(h.work, 'drift.img');
    await copyFile(join(out, 'disk.img'), disk);
    const initrd = join(h.work, 'initrd');
    execFileSync('mcopy', ['-n', '-i', `${disk}${espAt}`, '::/jeos/1.0/initrd', initrd], { env: mtools });
    const plain = execFileSync('lz4', ['-dc', initrd], { maxBuffer: 1 << 30 });
    // The later archive: its entries replace the image's (same path) or add to it.
    const extra = join(h.work, 'extra');
    await mkdir(join(extra, 'usr/share/webd'), { recursive: true });
    await mkdir(join(extra, 'usr/sbin'), { recursive: true });
    await mkdir(join(extra, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
    await writeFile(join(extra, 'usr/share/webd/page.html'), 'jello\n');
    await chmod(join(extra, 'usr/share/webd/page.html'), 0o644);
    await writeFile(join(extra, 'usr/sbin/backdoor'), '#!/bin/sh\n');
    await chmod(join(extra, 'usr/sbin/backdoor'), 0o4755);
    await writeFile(join(extra, 'usr/sbin/webd'), '#!/bin/sh\n');
    await chmod(join(extra, 'usr/sbin/webd'), 0o700);
    await symlink('/usr/lib/systemd/system/webd-extra.service', join(extra, 'etc/systemd/system/multi-user.target.wants/webd-extra.service'));
    const names = ['usr/share/webd/page.html', 'usr/sbin/backdoor', 'usr/sbin/webd', 'etc/systemd/system/multi-user.target.wants/webd-extra.service'];
    const appended = execFileSync('cpio', ['-o', '-H', 'newc', '--owner', '0:0', '--quiet'], { cwd: extra, input: names.join('\n') + '\n', maxBuffer: 1 << 30 });
    const changed = execFileSync('lz4', ['-l', '-9', '-c'], { input: Buffer.concat([plain, appended]), maxBuffer: 1 << 30 });
    await writeFile(initrd, changed);
    execFileSync('mcopy', ['-o', '-i', `${disk}${espAt}`, initrd, '::/jeos/1.0/initrd'], { env: mtools });

    const { code, report } = await auditJson(disk, '--vm');
    assert.equal(code, 1, JSON.stringify(report.counts));
    assert.equal(report.target.kind, 'disk');
    assert.deepEqual(report.added.map((a: { path: string }) => a.path), ['/etc/systemd/system/multi-user.target.wants/webd-extra.service', '/usr/sbin/backdoor']);
    const changes = Object.fromEntries(report.changed.map((c: { path: string; changes: string[] }) => [c.path, c.changes]));
    assert.deepEqual(changes['/usr/share/webd/page.html'], ['content']);
    assert.deepEqual(changes['/usr/sbin/webd'], ['mode']);
    assert.deepEqual(report.setuid, [{ path: '/usr/sbin/backdoor', mode: '4755', bits: ['setuid'] }]);
    assert.deepEqual(report.units.map((u: { unit: string; wantedBy: string }) => `${u.unit} ${u.wantedBy}`), ['webd-extra.service multi-user.target']);
    const text = await h.jeos('audit', project, '--vm', '--against', disk);
    assert.equal(text.code, 1);
    for (const line of [/^ {2}changed {2}\/usr\/share\/webd\/page\.html {2}content/m, /^ {2}changed {2}\/usr\/sbin\/webd {2}mode 0755 -> 0700/m, /^ {2}added {4}\/usr\/sbin\/backdoor/m, /^ {2}setuid {3}\/usr\/sbin\/backdoor {2}4755 \(setuid\)/m, /^ {2}unit {5}webd-extra\.service enabled for multi-user\.target/m]) {
      assert.match(text.stdout, line);
    }
  });

  test('a disk whose next version was built from another lock: E_AUDIT_OTHER_BUILD, exit 3', async () => {
    const disk = join(h.work, 'other.img');
    await copyFile(join(out, 'disk.img'), disk);
    const about = join(h.work, 'jeos.json');
    execFileSync('mcopy', ['-n', '-i', `${disk}${espAt}`, '::/jeos/1.0/jeos.json', about], { env: mtools });
    const text = JSON.parse(await readFile(about, 'utf8'));
    text.lockDigest = 'f'.repeat(64);
    await writeFile(about, JSON.stringify(text));
    execFileSync('mcopy', ['-o', '-i', `${disk}${espAt}`, about, '::/jeos/1.0/jeos.json'], { env: mtools });
    const { code, report } = await auditJson(disk, '--vm');
    assert.equal(code, 3);
    assert.equal(report.error.code, 'E_AUDIT_OTHER_BUILD');
    assert.match(report.error.message, /another jeos\.lock \(ffffffffffff\)/);
    assert.match(report.error.hint, /jeos disk add/);
  });
});
