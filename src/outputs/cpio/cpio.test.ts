/**
 * The newc writer: same bytes twice, the layout the kernel's init/initramfs.c reads
 * (checked by a small reader here), and the archive read back by GNU cpio — listed
 * and extracted as root — plain, through `zstd -dc`, `lz4 -dc` and `gzip -dc`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImageTree, type TreeNode } from '../../tree/index.js';
import { CAP_NET_RAW, contractTree, EPOCH } from '../contract.case.test.js';
import { encodeNewcHeader, KERNEL_PATH_MAX, NEWC_MAGIC, TRAILER_NAME, writeInitramfs, type InitramfsCompression, type InitramfsResult } from './index.js';

const isRoot = process.getuid?.() === 0;

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Run a program with a file on stdin and collect stdout as bytes. */
function filter(program: string, args: string[], input: Buffer, cwd?: string): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd, env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout: Buffer.concat(out), stderr });
      else reject(new Error(`${program} ${args.join(' ')} exited ${code}: ${stderr}`));
    });
    child.stdin.end(input);
  });
}

interface Parsed {
  name: string;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  rdevmajor: number;
  rdevminor: number;
  data: Buffer;
  /** Offset of the header in the archive. */
  offset: number;
}

/** A strict newc reader, doing what init/initramfs.c does with the layout. */
function parseNewc(archive: Buffer): Parsed[] {
  const out: Parsed[] = [];
  let off = 0;
  for (;;) {
    assert.equal(off % 4, 0, 'every header starts on a 4-byte boundary');
    assert.equal(archive.toString('latin1', off, off + 6), NEWC_MAGIC);
    const field = (i: number) => {
      const text = archive.toString('latin1', off + 6 + i * 8, off + 14 + i * 8);
      assert.match(text, /^[0-9A-F]{8}$/);
      return parseInt(text, 16);
    };
    const namesize = field(11);
    const nameStart = off + 110;
    assert.equal(archive[nameStart + namesize - 1], 0, 'name ends with NUL');
    const name = archive.toString('utf8', nameStart, nameStart + namesize - 1);
    const dataStart = nameStart + namesize + ((4 - ((110 + namesize) % 4)) % 4);
    const filesize = field(6);
    const entry: Parsed = {
      name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      nlink: field(4),
      mtime: field(5),
      filesize,
      rdevmajor: field(9),
      rdevminor: field(10),
      data: archive.subarray(dataStart, dataStart + filesize),
      offset: off,
    };
    assert.equal(field(7), 0, 'devmajor');
    assert.equal(field(8), 0, 'devminor');
    assert.equal(field(12), 0, 'check');
    off = dataStart + filesize + ((4 - (filesize % 4)) % 4);
    if (name === TRAILER_NAME) {
      assert.equal(off, archive.length, 'nothing after the trailer');
      return out;
    }
    out.push(entry);
  }
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The node holding a hardlink's inode metadata (following chains). */
function fileOf(tree: ImageTree, node: TreeNode): TreeNode {
  let n = node;
  while (n.kind === 'hardlink') n = tree.get(n.target)!;
  return n;
}

const TYPE_BITS: Record<string, number> = { file: 0o100000, hardlink: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000 };

describe('newc header', () => {
  test('fields are 8 upper-case hex digits; name and header padded to 4 bytes', () => {
    const h = encodeNewcHeader({ name: 'ab', ino: 0x1f, mode: 0o100644, uid: 33, gid: 3_000_000, nlink: 1, mtime: EPOCH, filesize: 5, rdevmajor: 0, rdevminor: 0 });
    assert.equal(h.length, 116, '110 + "ab\\0" = 113, padded to 116');
    assert.equal(
      h.toString('latin1', 0, 110),
      '070701' + ['1F', '81A4', '21', '2DC6C0', '1', '6553F100', '5', '0', '0', '0', '0', '3', '0'].map((f) => f.padStart(8, '0')).join(''),
    );
    assert.deepEqual([...h.subarray(110)], [0x61, 0x62, 0, 0, 0, 0]);
    // 110 + 2 = 112: a one-byte name needs no padding.
    assert.equal(encodeNewcHeader({ name: 'a', ino: 1, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0 }).length, 112);
  });

  test('a name the kernel would skip (over PATH_MAX with its NUL) is refused', () => {
    const entry = { ino: 1, mode: 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0 };
    assert.equal(encodeNewcHeader({ ...entry, name: 'x'.repeat(KERNEL_PATH_MAX - 1) }).length % 4, 0);
    assert.throws(() => encodeNewcHeader({ ...entry, name: 'x'.repeat(KERNEL_PATH_MAX) }), { code: 'E_OUTPUT_CPIO_NAME' });
  });

  test('values beyond 32 bits are refused, not wrapped', () => {
    assert.throws(() => encodeNewcHeader({ name: 'a', ino: 1, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 2 ** 32, filesize: 0 }), { code: 'E_OUTPUT_CPIO_FIELD' });
  });
});

describe('initramfs writer', () => {
  let work: string;
  let tree: ImageTree;
  const results = new Map<InitramfsCompression, InitramfsResult>();
  const files = new Map<string, string>();
  let plain: Buffer;
  let entries: Parsed[];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-cpio-'));
    tree = contractTree();
    for (const compression of ['none', 'zstd', 'lz4', 'gzip'] as const) {
      const path = join(work, `initrd.${compression}`);
      results.set(compression, await writeInitramfs(tree, path, { sourceDateEpoch: EPOCH, compression }));
      files.set(compression, path);
    }
    plain = await readFile(files.get('none')!);
    entries = parseNewc(plain);
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('same tree, same bytes: twice, from a tree built again, for every compression', async () => {
    for (const [compression, first] of results) {
      const again = join(work, `again.${compression}`);
      const second = await writeInitramfs(contractTree(), again, { sourceDateEpoch: EPOCH, compression });
      assert.deepEqual(second, first);
      assert.equal(sha256(await readFile(again)), first.sha256, `${compression}: recorded digest is the file's`);
      assert.equal((await readFile(again)).length, first.size);
      assert.equal(first.uncompressedSha256, results.get('none')!.sha256, `${compression}: the same cpio inside`);
      assert.equal(first.uncompressedSize, plain.length);
    }
    const other = await writeInitramfs(contractTree(), join(work, 'other-epoch'), { sourceDateEpoch: EPOCH - 1, compression: 'none' });
    assert.notEqual(other.sha256, results.get('none')!.sha256, 'a different SOURCE_DATE_EPOCH changes the bytes');
  });

  test('zstd -dc, lz4 -dc and gzip -dc give back the plain archive', { skip: !(has('zstd') && has('lz4')) && 'zstd or lz4 is not installed' }, async () => {
    assert.ok((await filter('zstd', ['-dc'], await readFile(files.get('zstd')!))).stdout.equals(plain));
    const lz4 = await readFile(files.get('lz4')!);
    assert.equal(lz4.readUInt32LE(0), 0x184c2102, 'LZ4 legacy frame, the only LZ4 format the kernel unpacks');
    assert.ok((await filter('lz4', ['-dc'], lz4)).stdout.equals(plain));
    assert.ok((await filter('gzip', ['-dc'], await readFile(files.get('gzip')!))).stdout.equals(plain));
    const gz = await readFile(files.get('gzip')!);
    assert.deepEqual([gz[4], gz[5], gz[6], gz[7], gz[9]], [0, 0, 0, 0, 3], 'gzip header: no time, OS Unix');
  });

  test('layout: root first as ".", tree order, inode numbers from 1, data with the last hardlink', () => {
    const names = entries.map((e) => e.name);
    assert.deepEqual(names, tree.entries().map(([p]) => (p === '' ? '.' : p)));
    assert.equal(entries[0]!.mode, 0o040755);
    const byName = new Map(entries.map((e) => [e.name, e]));
    // Inodes count up in archive order; the names of one file share one.
    const group = ['usr/lib/first', 'usr/lib/second', 'usr/lib/third'].map((n) => byName.get(n)!);
    assert.equal(new Set(group.map((e) => e.ino)).size, 1);
    assert.deepEqual(group.map((e) => [e.nlink, e.filesize]), [[3, 0], [3, 0], [3, 12]]);
    assert.equal(group[2]!.data.toString(), 'three names\n');
    const pair = ['usr/bin/a-link', 'usr/bin/z-target'].map((n) => byName.get(n)!);
    assert.equal(pair[0]!.ino, pair[1]!.ino);
    assert.deepEqual(pair.map((e) => [e.nlink, e.filesize, e.mode]), [[2, 0, 0o100755], [2, 20, 0o100755]]);
    const distinct = [...new Set(entries.map((e) => e.ino))];
    assert.deepEqual(distinct, distinct.map((_, i) => i + 1), 'inode numbers 1, 2, 3, … in order of first appearance');
    const link = byName.get('usr/share/long-link')!;
    assert.equal(link.mode, 0o120777);
    assert.equal(link.data.toString(), `/usr/share/${'t'.repeat(150)}/target`, 'the symlink target is the data');
    assert.deepEqual([byName.get('dev/wide')!.rdevmajor, byName.get('dev/wide')!.rdevminor], [4095, 1_048_575]);
    assert.equal(byName.get('run/initctl')!.mode, 0o010600);
    assert.equal(byName.get('usr/lib/first')!.mtime, EPOCH, 'a future time is clamped to SOURCE_DATE_EPOCH');
    assert.equal(byName.get('home/big')!.uid, 3_000_000);
  });

  test('every entry has the tree node\'s type, mode, owner, time and contents', () => {
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const [path, node] of tree.entries()) {
      const e = byName.get(path === '' ? '.' : path)!;
      const inode = fileOf(tree, node);
      assert.equal(e.mode, TYPE_BITS[node.kind]! | inode.mode, `${path}: mode`);
      assert.deepEqual([e.uid, e.gid], [inode.uid, inode.gid], `${path}: owner`);
      assert.equal(e.mtime, Math.min(inode.mtime, EPOCH), `${path}: mtime`);
      if (node.kind === 'file' && e.filesize > 0) assert.equal(sha256(e.data), sha256(node.data), `${path}: contents`);
    }
  });

  test('xattrs cannot travel in newc: the paths that had them are reported', () => {
    assert.deepEqual(results.get('none')!.xattrsDropped, ['usr/bin/ping', 'usr/share/tricky']);
    assert.ok(!plain.includes(CAP_NET_RAW), 'the capability bytes are nowhere in the archive');
  });

  test('GNU cpio lists owners, modes, devices, links and long names', async () => {
    const { stdout, stderr } = await filter('cpio', ['-itv', '--numeric-uid-gid', '--quiet'], plain);
    assert.equal(stderr, '');
    const lines = stdout.toString().trimEnd().split('\n');
    assert.equal(lines.length, tree.size);
    const line = (name: string) => lines.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} -> `)) ?? assert.fail(`no line for ${name}:\n${stdout}`);
    assert.match(line('.'), /^drwxr-xr-x +2 0 +0 +0 /);
    assert.match(line('usr/bin/sudo'), /^-rwsr-xr-x +1 0 +0 +70001 Nov 13 {2}2023 usr\/bin\/sudo$/);
    assert.match(line('usr/bin/wall'), /^-rwxr-sr-x +1 0 +5 +3000 /);
    assert.match(line('tmp'), /^drwxrwxrwt /);
    assert.match(line('var/www'), /^drwxr-x--- +2 33 +33 +0 Nov 14 {2}2023 var\/www$/);
    assert.match(line('home/big'), /^drwx------ +2 3000000 +3000001 /);
    assert.match(line('dev/null'), /^crw-rw-rw- +1 0 +0 +1, +3 /);
    assert.match(line('dev/sda'), /^brw-rw---- +1 0 +6 +8, +0 /);
    assert.match(line('dev/wide'), /^crw------- +1 0 +0 +4095, 1048575 /);
    assert.match(line('run/initctl'), /^prw------- /);
    assert.match(line('bin'), / bin -> usr\/bin$/);
    assert.match(line('usr/lib/third'), /^-rw-r--r-- +3 0 +0 +12 /);
    assert.match(line('usr/share/doc/café/naïve.txt'), /^-rw-r--r-- /);
  });

  test('GNU cpio extracts it as root: owners, modes, times, devices, fifo, hardlinks, long names', { skip: !isRoot && 'needs root' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jeos-cpio-x-'));
    try {
      // Through zstd, as the kernel would read it.
      const decompressed = (await filter('zstd', ['-dc'], await readFile(files.get('zstd')!))).stdout;
      await filter('cpio', ['-idm', '--no-absolute-filenames', '--quiet'], decompressed, dir);
      for (const [path, node] of tree.entries()) {
        // GNU cpio leaves the directory it extracts into as it is; the kernel applies "." to its root.
        if (path === '') continue;
        const full = join(dir, path);
        const st = await lstat(full);
        const expectKind = node.kind === 'hardlink' ? 'file' : node.kind;
        const isKind = { file: st.isFile(), dir: st.isDirectory(), symlink: st.isSymbolicLink(), char: st.isCharacterDevice(), block: st.isBlockDevice(), fifo: st.isFIFO() };
        assert.ok(isKind[expectKind], `${path}: extracted as a ${expectKind}`);
        const inode = fileOf(tree, node);
        assert.deepEqual([st.uid, st.gid], [inode.uid, inode.gid], `${path}: owner`);
        if (node.kind !== 'symlink') assert.equal(st.mode & 0o7777, inode.mode, `${path}: mode`);
        // GNU cpio sets the times of files, devices and fifos (not of symlinks, nor of
        // directories it later fills); the listing above shows those from the archive.
        if (node.kind !== 'symlink' && node.kind !== 'dir') assert.equal(Math.floor(st.mtimeMs / 1000), Math.min(inode.mtime, EPOCH), `${path}: mtime`);
        if (node.kind === 'symlink') assert.equal(await readlink(full), node.target);
        if (node.kind === 'char' || node.kind === 'block') {
          assert.deepEqual([Number((BigInt(st.rdev) >> 8n) & 0xfffn), Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & ~0xffn))], [node.major, node.minor]);
        }
        if (node.kind === 'file' || node.kind === 'hardlink') assert.equal(sha256(await readFile(full)), sha256((inode as { data: Buffer }).data), `${path}: contents`);
      }
      const ino = async (p: string) => (await lstat(join(dir, p))).ino;
      assert.equal(await ino('usr/bin/a-link'), await ino('usr/bin/z-target'));
      assert.equal(await ino('usr/lib/third'), await ino('usr/lib/first'));
      assert.equal((await lstat(join(dir, 'usr/lib/first'))).nlink, 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('exclude leaves out a path, and a directory with everything under it', async () => {
    const path = join(work, 'excluded');
    const excluded = (p: string) => p === 'usr/share' || p === 'usr/lib/third' || p === 'etc/hostname';
    await writeInitramfs(tree, path, { sourceDateEpoch: EPOCH, compression: 'none', exclude: excluded });
    const got = parseNewc(await readFile(path));
    const names = got.map((e) => e.name);
    assert.ok(!names.some((n) => n.startsWith('usr/share')), 'nothing under usr/share');
    assert.ok(names.includes('usr/bin/sudo') && names.includes('etc') && !names.includes('etc/hostname'));
    // Two names of the three-name file are left: nlink follows, the data moves to the last kept one.
    const byName = new Map(got.map((e) => [e.name, e]));
    assert.deepEqual([byName.get('usr/lib/first')!.nlink, byName.get('usr/lib/first')!.filesize], [2, 0]);
    assert.deepEqual([byName.get('usr/lib/second')!.nlink, byName.get('usr/lib/second')!.data.toString()], [2, 'three names\n']);
  });

  test('refusals: an epoch newc cannot hold, a bad level, a device number the kernel cannot make, a dangling hardlink', async () => {
    const at = (name: string) => join(work, name);
    await assert.rejects(writeInitramfs(tree, at('e1'), { sourceDateEpoch: 2 ** 32 }), { code: 'E_OUTPUT_EPOCH' });
    await assert.rejects(writeInitramfs(tree, at('e2'), { sourceDateEpoch: EPOCH, level: 22 }), { code: 'E_OUTPUT_COMPRESSION_LEVEL' });
    await assert.rejects(writeInitramfs(tree, at('e3'), { sourceDateEpoch: EPOCH, compression: 'lzo' as 'zstd' }), { code: 'E_OUTPUT_COMPRESSION' });
    await assert.rejects(writeInitramfs(tree, at('e5'), { sourceDateEpoch: EPOCH, compression: 'lz4', level: 13 }), { code: 'E_OUTPUT_COMPRESSION_LEVEL' });
    const dev = new ImageTree();
    dev.put('dev/big', { kind: 'char', major: 4096, minor: 0, mode: 0o600, uid: 0, gid: 0, mtime: 0 });
    await assert.rejects(writeInitramfs(dev, at('e4'), { sourceDateEpoch: EPOCH }), { code: 'E_OUTPUT_METADATA' });
    const dangling = new ImageTree();
    dangling.put('a', { kind: 'hardlink', target: 'missing', mode: 0o644, uid: 0, gid: 0, mtime: 0 });
    await assert.rejects(writeInitramfs(dangling, at('e5'), { sourceDateEpoch: EPOCH }), { code: 'E_OUTPUT_HARDLINK' });
    const long = new ImageTree();
    long.writeFile(`d/${'n'.repeat(200)}/${'m'.repeat(4000)}`, 'x');
    await assert.rejects(writeInitramfs(long, at('e6'), { sourceDateEpoch: EPOCH }), { code: 'E_OUTPUT_CPIO_NAME' });
    for (const name of ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']) await assert.rejects(lstat(at(name)), { code: 'ENOENT' });
  });

  test('a missing zstd fails with a hint and leaves no file; an existing file is not overwritten', async () => {
    const savedPath = process.env.PATH;
    process.env.PATH = join(work, 'no-such-bin');
    try {
      await assert.rejects(writeInitramfs(tree, join(work, 'no-zstd'), { sourceDateEpoch: EPOCH }), (e: { code: string; hint: string }) => e.code === 'E_TOOL_MISSING' && /apt-get install zstd/.test(e.hint));
    } finally {
      process.env.PATH = savedPath;
    }
    await assert.rejects(lstat(join(work, 'no-zstd')), { code: 'ENOENT' });
    const existing = join(work, 'existing');
    await writeFile(existing, 'keep me');
    await assert.rejects(writeInitramfs(tree, existing, { sourceDateEpoch: EPOCH, compression: 'gzip' }), { code: 'EEXIST' });
    assert.equal(await readFile(existing, 'utf8'), 'keep me');
  });
});
