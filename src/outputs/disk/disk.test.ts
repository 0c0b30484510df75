// The disk writer and its parts, checked with the real tools: sgdisk -v (GPT), fsck.vfat -n
// (FAT32), mdir/mtype (mtools reads every ESP file back), e2fsck -fn (/var), qemu-img check
// (qcow2). Booting a disk is the live test's job (test/disk/nginx-disk.live.test.ts).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImageTree } from '../../tree/index.js';
import { writeOutputs } from '../index.js';
import type { ImageSpec, OutputResult } from '../types.js';
import { crc32 } from './crc32.js';
import { buildFat32, dosDateTime, isShortName, shortNameChecksum, shortNameOf } from './fat32.js';
import { decodeGuid, encodeGuid } from './gpt.js';
import { diskLayout, espBytesFor, MiB, parseSize } from './layout.js';

const tools = ['sgdisk', 'fsck.vfat', 'mtype', 'e2fsck', 'qemu-img', 'lz4'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install gdisk dosfstools mtools e2fsprogs qemu-utils lz4)`;
const EPOCH = 1_767_225_600; // 2026-01-01
const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

function run(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { env: mtools, maxBuffer: 64 << 20 });
  return { code: r.status ?? 1, out: `${r.stdout?.toString('utf8') ?? ''}${r.stderr?.toString('utf8') ?? ''}` };
}

describe('disk parts', () => {
  test('crc32 is the IEEE one GPT uses', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  });
  test('GUIDs are mixed-endian on disk and read back', () => {
    const g = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
    assert.equal(encodeGuid(g).toString('hex'), '2873 2ac1 1ff8 d211 ba4b 00a0c93ec93b'.replace(/ /g, ''));
    assert.equal(decodeGuid(encodeGuid(g)), g);
  });
  test('8.3 names, aliases and their checksum', () => {
    assert.ok(isShortName('BOOTX64.EFI'));
    assert.ok(!isShortName('loader.conf'), 'lower case needs a long name');
    assert.ok(!isShortName('jeos-1.0+3.conf'));
    const taken = new Set<string>();
    assert.equal(shortNameOf('systemd-bootx64.efi', taken), 'SYSTEM~1EFI');
    assert.equal(shortNameOf('systemd-bootaa64.efi', taken), 'SYSTEM~2EFI');
    assert.equal(shortNameOf('jeos-1.0+3.conf', taken), 'JEOS-1~1CON');
    assert.equal(shortNameChecksum('BOOTX64 EFI'), shortNameChecksum('BOOTX64 EFI'));
  });
  test('DOS times from SOURCE_DATE_EPOCH, clamped to 1980', () => {
    assert.deepEqual(dosDateTime(EPOCH), { date: ((2026 - 1980) << 9) | (1 << 5) | 1, time: 0 });
    assert.deepEqual(dosDateTime(0), { date: (1 << 5) | 1, time: 0 });
  });
  test('sizes and layout: the ESP grows with the boot files; too small a disk is refused with the size it needs', () => {
    assert.equal(parseSize('1G'), 1024 * MiB);
    assert.equal(espBytesFor(25 * MiB), 256 * MiB);
    assert.equal(espBytesFor(100 * MiB), 320 * MiB);
    const l = diskLayout(1024 * MiB, 256 * MiB);
    assert.deepEqual(l.esp, { first: 2048, last: 2048 + 256 * 2048 - 1 });
    assert.equal(l.var.last, 1024 * 2048 - 2049);
    assert.throws(() => diskLayout(300 * MiB, 256 * MiB), (e: Error & { code?: string; hint?: string }) => e.code === 'E_DISK_TOO_SMALL' && /322M/.test(e.hint ?? ''));
  });
});

describe('FAT32', { skip }, () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'jeos-fat-'))));
  after(() => rm(dir, { recursive: true, force: true }));

  test('fsck.vfat finds nothing to fix, and mtools reads every file back by its long name', async () => {
    const long = 'a name that needs three long-name entries.conf';
    const files = [
      { path: 'EFI/BOOT/BOOTX64.EFI', data: Buffer.alloc(70_000, 1) },
      { path: 'loader/entries/jeos-2.0~rc1+3.conf', data: Buffer.from('title x\n') },
      { path: `loader/${long}`, data: Buffer.from('long\n') },
      { path: 'empty', data: Buffer.alloc(0) },
      { path: 'Mixed.Case', data: Buffer.from('case kept\n') },
    ];
    const sectors = (64 * MiB) / 512;
    const fat = buildFat32(files, { sectors, hiddenSectors: 0, volumeId: 0x1234abcd, label: 'ESP', time: EPOCH });
    const img = join(dir, 'fat.img');
    const fh = await open(img, 'w');
    for (const p of fat.pieces) await fh.write(p.data, 0, p.data.length, p.offset);
    await fh.truncate(sectors * 512);
    await fh.close();
    const fsck = run('fsck.vfat', ['-n', img]);
    assert.equal(fsck.code, 0, fsck.out);
    for (const f of files) {
      const r = spawnSync('mtype', ['-i', img, `::/${f.path}`], { env: mtools });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.ok(r.stdout.equals(f.data), f.path);
    }
    const listing = run('mdir', ['-i', img, '::/loader']).out;
    assert.match(listing, new RegExp(long.replace(/[.+]/g, '\\$&')));
    assert.match(run('mdir', ['-i', img, '::/']).out, /Volume in drive : is ESP/);
    assert.match(run('mdir', ['-i', img, '::/']).out, /Serial Number is 1234-ABCD/);
  });

  test('two names that differ only in case are refused; a full ESP is refused with a code', () => {
    assert.throws(() => buildFat32([{ path: 'a/B', data: Buffer.from('1') }, { path: 'a/b', data: Buffer.from('2') }], { sectors: 80_000, hiddenSectors: 0, volumeId: 1, label: 'ESP', time: EPOCH }), /twice/);
    assert.throws(() => buildFat32([{ path: 'big', data: Buffer.alloc(40 * MiB) }], { sectors: 70_000, hiddenSectors: 0, volumeId: 1, label: 'ESP', time: EPOCH }), (e: Error & { code?: string }) => e.code === 'E_DISK_ESP_FULL');
  });
});

/** A tree with what the disk writer needs: a kernel in /boot, systemd-boot in /boot/efi, and an OS. */
function vmTree(): ImageTree {
  const t = new ImageTree();
  t.mkdirp('boot/efi');
  t.writeFile('boot/vmlinuz-6.12.0-9-cloud-amd64', Buffer.from('not really a kernel'));
  t.writeFile('boot/efi/systemd-bootx64.efi', Buffer.from('MZ not really systemd-boot'));
  t.writeFile('etc/hostname', 'web\n');
  t.mkdirp('var/lib/web', { mode: 0o750, uid: 33, gid: 33, mtime: 0 });
  t.symlink('init', '/usr/lib/systemd/systemd');
  return t;
}

const spec = (version: string, formats: Array<'raw' | 'qcow2'> = ['raw', 'qcow2']): ImageSpec => ({
  name: 'web',
  architecture: 'amd64',
  vm: { cmdline: 'console=ttyS0 panic=-1' },
  disk: { version, sizeBytes: 512 * MiB, formats },
});

describe('the disk writer', { skip }, () => {
  let dir: string;
  let first: OutputResult;
  const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jeos-disk-'));
    first = (await writeOutputs(vmTree(), spec('1.0'), ['disk'], { outDir: join(dir, 'a'), sourceDateEpoch: EPOCH }))[0]!;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('GPT with the Discoverable Partitions types: sgdisk -v finds no problem', () => {
    const img = join(dir, 'a/disk.img');
    const v = run('sgdisk', ['-v', img]);
    assert.match(v.out, /No problems found/, v.out);
    const esp = run('sgdisk', ['-i', '1', img]).out;
    assert.match(esp, /Partition GUID code: C12A7328-F81F-11D2-BA4B-00A0C93EC93B \(EFI system partition\)/);
    assert.match(esp, /First sector: 2048 /);
    assert.match(esp, /Partition name: 'jeos-esp'/);
    const v2 = run('sgdisk', ['-i', '2', img]).out;
    assert.match(v2, /Partition GUID code: 4D21B016-B534-45C2-A9FB-5C16E091FD2D/);
    assert.match(v2, /Partition name: 'jeos-var'/);
  });

  test('the ESP: systemd-boot at the removable-media path, loader.conf and the version\'s Type #1 entry, kernel and initrd', async () => {
    const d = first.disk!;
    const esp = join(dir, 'esp.img');
    execFileSync('dd', [`if=${join(dir, 'a/disk.img')}`, `of=${esp}`, 'bs=512', `skip=${d.esp.first}`, `count=${d.esp.last - d.esp.first + 1}`, 'conv=sparse', 'status=none']);
    const fsck = run('fsck.vfat', ['-n', esp]);
    assert.equal(fsck.code, 0, fsck.out);
    const type = (p: string) => execFileSync('mtype', ['-i', esp, `::/${p}`], { env: mtools });
    assert.equal(type('EFI/BOOT/BOOTX64.EFI').toString(), 'MZ not really systemd-boot');
    assert.equal(type('EFI/systemd/systemd-bootx64.efi').toString(), 'MZ not really systemd-boot');
    assert.match(type('loader/loader.conf').toString(), /^timeout 0$/m);
    assert.equal(d.entry, 'loader/entries/jeos-1.0+3.conf');
    const entry = type(d.entry).toString();
    assert.equal(entry, 'title web 1.0\nversion 1.0\nsort-key jeos\narchitecture x64\nlinux /jeos/1.0/linux\ninitrd /jeos/1.0/initrd\noptions console=ttyS0 panic=-1 jeos.version=1.0\n');
    assert.equal(type('jeos/1.0/linux').toString(), 'not really a kernel');
    const initrd = join(dir, 'initrd');
    execFileSync('sh', ['-c', `MTOOLS_SKIP_CHECK=1 mtype -i '${esp}' ::/jeos/1.0/initrd > '${initrd}'`]);
    const names = execFileSync('sh', ['-c', `lz4 -dc '${initrd}' | cpio -it --quiet`]).toString().trim().split('\n');
    assert.ok(names.includes('etc/hostname') && names.includes('init'), names.join(' '));
    assert.ok(!names.some((n) => n.startsWith('boot')), 'the kernel and boot loader stay out of the initramfs');
  });

  test('/var: an ext4 file system that e2fsck -fn finds clean, with the overlay\'s upper and work directories', () => {
    const d = first.disk!;
    const dev = `${join(dir, 'a/disk.img')}?offset=${d.var.first * 512}`;
    const fsck = run('e2fsck', ['-fn', dev]);
    assert.equal(fsck.code, 0, fsck.out);
    const ls = run('debugfs', ['-R', 'ls -l /', dev]).out;
    assert.match(ls, / upper/);
    assert.match(ls, / work/);
    assert.match(run('dumpe2fs', ['-h', dev]).out, /Filesystem volume name: +jeos-var/);
  });

  test('the same inputs give the same bytes; another version gives other identifiers', async () => {
    const [again] = await writeOutputs(vmTree(), spec('1.0'), ['disk'], { outDir: join(dir, 'b'), sourceDateEpoch: EPOCH });
    assert.equal(await sha(join(dir, 'b/disk.img')), await sha(join(dir, 'a/disk.img')));
    assert.equal(await sha(join(dir, 'b/disk.qcow2')), await sha(join(dir, 'a/disk.qcow2')));
    assert.deepEqual(again!.files, first.files);
    const [other] = await writeOutputs(vmTree(), spec('1.1', ['raw']), ['disk'], { outDir: join(dir, 'c'), sourceDateEpoch: EPOCH });
    assert.notEqual(other!.disk!.diskGuid, first.disk!.diskGuid);
    assert.deepEqual(other!.files.map((f) => f.path), ['disk.img']);
  });

  test('qcow2: qemu-img check finds no errors, and it holds the same disk', () => {
    const check = run('qemu-img', ['check', join(dir, 'a/disk.qcow2')]);
    assert.equal(check.code, 0, check.out);
    assert.match(run('qemu-img', ['compare', join(dir, 'a/disk.qcow2'), join(dir, 'a/disk.img')]).out, /Images are identical/);
  });

  test('the image is sparse: far less in use than its size', () => {
    assert.ok(first.disk!.usedBytes < 4 * MiB, String(first.disk!.usedBytes));
    assert.equal(first.disk!.size, 512 * MiB);
  });

  test('a tree without systemd-boot is refused with a code and a hint', async () => {
    const t = vmTree();
    t.remove('boot/efi/systemd-bootx64.efi');
    await assert.rejects(writeOutputs(t, spec('1.0'), ['disk'], { outDir: join(dir, 'd'), sourceDateEpoch: EPOCH }), (e: Error & { code?: string }) => e.code === 'E_DISK_NO_BOOT_LOADER');
  });
});
