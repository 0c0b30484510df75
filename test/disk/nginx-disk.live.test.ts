// Live tier: the nginx example built with a disk output from the real archive (systemd-boot
// from the locked systemd-boot-efi package), booted by jeos test --disk under OVMF (TCG
// unless KVM is asked for) and answering HTTP 200 through the forwarded port; the disk
// file is unchanged afterwards (snapshot=on), and the qcow2 conversion boots too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { root } from '../cli/harness.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-nginx-disk-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const project = join(work, 'nginx');
const needs = ['qemu-system-x86_64', 'qemu-img', 'sgdisk', 'e2fsck'];
const missing = needs.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const ovmf = spawnSync('test', ['-f', '/usr/share/OVMF/OVMF_CODE_4M.fd']).status === 0;
const skip = (missing.length > 0 || !ovmf) && `missing ${[...missing, ...(ovmf ? [] : ['OVMF'])].join(', ')} (apt-get install qemu-system-x86 qemu-utils gdisk e2fsprogs ovmf)`;

const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);
const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('the nginx example as a disk image, from the live archive', { skip }, () => {
  before(async () => {
    await cp(join(root, 'examples/nginx'), project, { recursive: true });
    await rm(join(project, 'jeos.lock'), { force: true });
    await rm(join(project, 'out'), { recursive: true, force: true });
    const yaml = await readFile(join(project, 'jeos.yaml'), 'utf8');
    await writeFile(join(project, 'jeos.yaml'), yaml.replace(/^outputs:.*$/m, 'outputs: [vm, disk]\nversion: "1.0"\ndisk:\n  formats: [raw, qcow2]'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('builds out/disk.img that sgdisk -v and e2fsck -fn find clean, small in use', async () => {
    const built = await jeos('build', project, '--quiet');
    assert.equal(built.code, 0, built.stderr + built.stdout);
    const img = join(project, 'out/disk.img');
    assert.match(spawnSync('sgdisk', ['-v', img]).stdout.toString(), /No problems found/);
    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    const disk = record.outputs.find((o: { format: string }) => o.format === 'disk').disk;
    assert.equal(spawnSync('e2fsck', ['-fn', `${img}?offset=${disk.var.first * 512}`]).status, 0);
    assert.ok(disk.usedBytes <= 64 * 2 ** 20, `disk.img holds ${disk.usedBytes} bytes that are not zeros`);
    assert.equal(spawnSync('qemu-img', ['check', join(project, 'out/disk.qcow2')]).status, 0);
  });

  test('jeos test --disk boots it under OVMF: version 1.0 answers HTTP 200, with each stage timed; the file is unchanged', async (t) => {
    if (skippedEarlier(t)) return;
    const img = join(project, 'out/disk.img');
    const before = await sha(img);
    const consoleFile = join(project, 'console.log');
    const tested = await jeos('test', project, '--disk', '--json', '--timeout', '180', '--console', consoleFile);
    assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
    // --console kept all of it: the firmware's first line to the guest saying its boot completed, with its version.
    const kept = await readFile(consoleFile, 'latin1');
    assert.ok(kept.indexOf('BdsDxe: starting') >= 0 && kept.indexOf('BdsDxe: starting') < kept.indexOf('Linux version'), 'the firmware first');
    assert.match(kept, /^JEOS_BOOT_COMPLETE 1\.0\r?$/m);
    const r = JSON.parse(tested.stdout);
    assert.equal(r.mode, 'disk');
    assert.equal(r.ok, true);
    assert.equal(r.version, '1.0');
    assert.equal(r.boots, 1);
    assert.equal(r.rolledBack, false);
    assert.match(r.healthcheck.detail, /^HTTP 200 /);
    assert.deepEqual(r.failedUnits, []);
    const s = r.perBoot[0].timings;
    assert.ok(s.firmware > 0 && s.bootLoader > s.firmware && s.kernel >= s.bootLoader && s.userspace > s.kernel && s.healthy >= s.userspace, JSON.stringify(s));
    assert.equal(await sha(img), before, 'snapshot=on: the test wrote nothing to disk.img');
  });

  test('the qcow2 conversion boots the same way (--image)', async (t) => {
    if (skippedEarlier(t)) return;
    const tested = await jeos('test', project, '--disk', '--image', join(project, 'out/disk.qcow2'), '--json', '--timeout', '180');
    assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
    const r = JSON.parse(tested.stdout);
    assert.equal(r.disk.format, 'qcow2');
    assert.equal(r.version, '1.0');
  });
});
