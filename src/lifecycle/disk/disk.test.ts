// jeos disk add and jeos disk status on small stand-in disks (test/support/disk): the ESP edited
// in place stays clean for fsck.fat -n and readable by mtools, a version is added with +3 and
// boots next, every refusal leaves the disk byte for byte as it was, pruning keeps the newest
// good version (kills: add-kill.test.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FatVolume } from '../../outputs/disk/index.js';
import { EPOCH, fsckEsp, makeBuild, makeDisk, peKernel, versionFiles } from '../../../test/support/disk/esp-disk.js';
import { addVersion, diskStatus, openJeosDisk } from './index.js';

const missing = ['fsck.vfat', 'mtype', 'dd'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install dosfstools mtools)`;
const foreignSkip = ['sgdisk', 'mkfs.vfat', 'mmd', 'qemu-img'].some((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) && 'needs gdisk, dosfstools, mtools, qemu-utils';
const repoRoot = new URL('../../..', import.meta.url).pathname;
const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const mtype = (disk: string, path: string) => execFileSync('mtype', ['-i', `${disk}@@${1 << 20}`, `::${path}`], { env: mtools, maxBuffer: 64 << 20 });

describe('jeos disk add and status', { skip }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-disk-add-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('the ESP editor: files and directories made and removed in place stay clean for fsck.fat and readable by mtools', async () => {
    const disk = join(work, 'edit.img');
    const esp = await makeDisk(disk, [{ version: '1.0' }]);
    const fh = await open(disk, 'r+');
    const v = await FatVolume.open(fh, esp.espOffset, esp.espBytes, { time: EPOCH });
    const big = peKernel(1_234_567, 0, 'big');
    await v.mkdir('', 'extra');
    await v.createFile('extra', 'a long file name.bin', big);
    // Many names, so the directory grows past its first cluster.
    for (let i = 0; i < 40; i++) await v.createFile('extra', `name number ${i} with a long tail.conf`, Buffer.from(`file ${i}\n`));
    await v.remove('jeos/1.0/initrd');
    await v.createFile('jeos/1.0', 'initrd', Buffer.from('smaller\n'));
    await v.finish();
    assert.deepEqual(await v.readFile('extra/A LONG FILE NAME.BIN'), big, 'names compare without case');
    await fh.close();
    const r = fsckEsp(disk, esp, work);
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(mtype(disk, 'extra/a long file name.bin'), big);
    assert.equal(mtype(disk, 'extra/name number 39 with a long tail.conf').toString(), 'file 39\n');
    assert.equal(mtype(disk, 'jeos/1.0/initrd').toString(), 'smaller\n');
    const fh2 = await open(disk, 'r+');
    const again = await FatVolume.open(fh2, esp.espOffset, esp.espBytes);
    await again.remove('extra');
    await again.finish();
    await fh2.close();
    assert.equal(fsckEsp(disk, esp, work).status, 0);
  });

  test('a newer version is added with +3 and boots next; status shows each version, its state, tries and lock', async () => {
    const disk = join(work, 'add.img');
    const esp = await makeDisk(disk, [{ version: '1.0', entry: 'jeos-1.0.conf' }], { lockDigest: '1'.repeat(64) });
    const out = await makeBuild(join(work, 'v2'), { version: '2.0' }, '2'.repeat(64));
    const r = await addVersion({ disk, outDir: out });
    assert.deepEqual([r.version, r.entry, r.next, r.removed], ['2.0', 'loader/entries/jeos-2.0+3.conf', '2.0', []]);
    assert.equal(fsckEsp(disk, esp, work).status, 0);
    const s = await diskStatus(disk);
    assert.deepEqual(
      s.versions.map((v) => [v.version, v.entry, v.state, v.triesLeft, v.next, v.lockDigest?.[0]]),
      [
        ['2.0', 'jeos-2.0+3.conf', 'untried', 3, true, '2'],
        ['1.0', 'jeos-1.0.conf', 'good', null, false, '1'],
      ],
    );
    const src = versionFiles({ version: '2.0' });
    assert.deepEqual(mtype(disk, 'jeos/2.0/linux'), src[1]!.data);
    assert.deepEqual(mtype(disk, 'jeos/2.0/initrd'), src[2]!.data);
    assert.match(mtype(disk, 'loader/entries/jeos-2.0+3.conf').toString(), /^linux \/jeos\/2\.0\/linux$/m);
  });

  test('a version that used its tries sorts last: the good one boots next; a trying one shows its tries', async () => {
    const disk = join(work, 'order.img');
    await makeDisk(disk, [
      { version: '1.0', entry: 'jeos-1.0.conf' },
      { version: '2.0', entry: 'jeos-2.0+1-2.conf' },
      { version: '3.0', entry: 'jeos-3.0+0-3.conf' },
    ]);
    const s = await diskStatus(disk);
    assert.deepEqual(s.versions.map((v) => [v.version, v.state, v.triesLeft, v.triesUsed]), [
      ['2.0', 'trying', 1, 2],
      ['1.0', 'good', null, 0],
      ['3.0', 'bad', 0, 3],
    ]);
    assert.equal(s.next, '2.0');
  });

  test('refusals leave the disk byte for byte as it was: not newer, another architecture, a damaged entry, a full ESP, not a jeos disk', async () => {
    const cases: Array<[string, Parameters<typeof makeDisk>[1], Parameters<typeof makeBuild>[1], string, { espMiB?: number }?]> = [
      ['not newer', [{ version: '2.0' }], { version: '2.0~rc1' }, 'E_DISK_VERSION_NOT_NEWER'],
      ['the same', [{ version: '2.0' }], { version: '2.0' }, 'E_DISK_VERSION_NOT_NEWER'],
      ['aa64 kernel', [{ version: '1.0' }], { version: '2.0', linux: peKernel(4096, 0xaa64) }, 'E_DISK_ARCH'],
      ['damaged entry', [{ version: '1.0', text: 'title x\n\x01\x02garbage' }], { version: '2.0' }, 'E_DISK_ENTRY_CORRUPT'],
      ['full ESP', [{ version: '1.0', initrd: Buffer.alloc(20 << 20, 1) }], { version: '2.0', initrd: Buffer.alloc(20 << 20, 2) }, 'E_DISK_ESP_FULL', { espMiB: 34 }],
    ];
    for (const [name, onDisk, adding, code, opts] of cases) {
      const disk = join(work, `refuse-${name.replace(/ /g, '-')}.img`);
      await makeDisk(disk, onDisk, opts);
      const before = await sha(disk);
      const out = await makeBuild(join(work, `refuse-${name.replace(/ /g, '-')}`), adding);
      await assert.rejects(addVersion({ disk, outDir: out }), (e: Error & { code?: string; hint?: string }) => e.code === code && !!e.hint, name);
      assert.equal(await sha(disk), before, `${name}: the disk is unchanged`);
      assert.deepEqual((await readdir(work)).filter((n) => n.includes('.jeos-add-')), [], `${name}: no copy of the disk made`);
    }
    const notOurs = join(work, 'zeros.img');
    await writeFile(notOurs, Buffer.alloc(1 << 20));
    const out = await makeBuild(join(work, 'v9'), { version: '9.0' });
    await assert.rejects(addVersion({ disk: notOurs, outDir: out }), (e: Error & { code?: string }) => e.code === 'E_DISK_NOT_JEOS');
    await writeFile(notOurs, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(4096)]));
    await assert.rejects(diskStatus(notOurs), (e: Error & { code?: string; message: string }) => e.code === 'E_DISK_NOT_JEOS' && /qcow2/.test(e.message));
  });

  test('not one of ours, through the CLI: a conventional GPT disk with an ESP, a qcow2 of a jeos disk, zeros → E_DISK_NOT_JEOS, file unchanged', { skip: foreignSkip }, async () => {
    const dir = join(work, 'foreign');
    await mkdir(dir);
    // Another tool's disk: sgdisk's GPT with an ESP (type EF00, its default name), mkfs.vfat, a boot loader in it.
    const conventional = join(dir, 'conventional.img');
    await writeFile(conventional, Buffer.alloc(0));
    await truncate(conventional, 48 << 20);
    execFileSync('sgdisk', ['-n', '1:2048:+40M', '-t', '1:EF00', conventional], { stdio: 'ignore' });
    const esp = join(dir, 'esp.img');
    execFileSync('mkfs.vfat', ['-F', '32', '-C', esp, String(40 * 1024)], { stdio: 'ignore' });
    execFileSync('mmd', ['-i', esp, '::EFI', '::EFI/BOOT'], { env: mtools });
    await writeFile(join(dir, 'BOOTX64.EFI'), peKernel(4096));
    execFileSync('mcopy', ['-i', esp, join(dir, 'BOOTX64.EFI'), '::EFI/BOOT/BOOTX64.EFI'], { env: mtools });
    execFileSync('dd', [`if=${esp}`, `of=${conventional}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
    const qcow2 = join(dir, 'jeos.qcow2');
    await makeDisk(join(dir, 'jeos.img'), [{ version: '1.0' }]);
    execFileSync('qemu-img', ['convert', '-O', 'qcow2', join(dir, 'jeos.img'), qcow2]);
    const zeros = join(dir, 'zeros.img');
    await writeFile(zeros, Buffer.alloc(1 << 20));
    const out = await makeBuild(join(work, 'foreign-v2'), { version: '2.0' });
    for (const [file, why] of [[conventional, /no EFI system partition named jeos-esp/], [qcow2, /qcow2/], [zeros, /no GPT/]] as const) {
      const before = await sha(file);
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'disk', 'add', file, work, '--out', out, '--json'], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
      assert.equal(error.code, 'E_DISK_NOT_JEOS');
      assert.match(error.message, why);
      assert.match(error.hint, /jeos build --format disk/);
      assert.equal(await sha(file), before, `${file} unchanged`);
    }
    assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.jeos-add-')), []);
  });

  test('at most --keep versions: the bad ones go first, then the oldest, never the newest good one', async () => {
    const disk = join(work, 'keep.img');
    const esp = await makeDisk(disk, [
      { version: '1.0', entry: 'jeos-1.0.conf' },
      { version: '2.0', entry: 'jeos-2.0.conf' },
      { version: '3.0', entry: 'jeos-3.0+0-3.conf' },
    ]);
    const r4 = await addVersion({ disk, outDir: await makeBuild(join(work, 'k4'), { version: '4.0' }) });
    assert.deepEqual(r4.removed, ['3.0'], 'the bad version goes first');
    const r5 = await addVersion({ disk, outDir: await makeBuild(join(work, 'k5'), { version: '5.0' }), keep: 2 });
    assert.deepEqual(r5.removed, ['1.0', '4.0'], 'the oldest, and the untried 4.0, but never 2.0, the newest good one');
    assert.deepEqual((await diskStatus(disk)).versions.map((v) => v.version), ['5.0', '2.0']);
    assert.equal(fsckEsp(disk, esp, work).status, 0);
    const s = await diskStatus(disk);
    assert.deepEqual(s.leftovers, []);
  });
});
