/**
 * The ext4 writer, checked by e2fsprogs rather than by itself: `e2fsck -fn` finds
 * nothing to fix, `debugfs` reads every entry of the output contract's tree back
 * (contents, owners, modes, links, times, devices, xattrs), files written into the
 * image by libext2fs's own allocator leave it consistent (so the free-space
 * accounting is right), and the same tree gives the same bytes. As root, the
 * kernel mounts it too.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { JeosError } from '../../errors.js';
import { ImageTree } from '../../tree/index.js';
import { CAP_NET_RAW, contractTree, EPOCH } from '../contract.case.test.js';
import { linkedFile } from '../tree-entries.js';
import { writeExt4Image, type Ext4Result } from './index.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

async function debugfs(image: string, request: string): Promise<string> {
  const { stdout } = await run('debugfs', ['-R', request, image], { maxBuffer: 64 << 20 });
  return stdout;
}

async function fsck(image: string): Promise<string> {
  const r = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
  assert.equal(r.status, 0, `e2fsck found problems:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** `stat` fields debugfs prints for one inode. */
async function inodeOf(image: string, path: string): Promise<{ type: string; mode: number; uid: number; gid: number; links: number; size: number; mtime: number }> {
  const out = await debugfs(image, `stat "/${path}"`);
  const field = (re: RegExp) => {
    const m = re.exec(out);
    assert.ok(m, `debugfs stat /${path} has no ${re}: ${out}`);
    return m[1]!;
  };
  return {
    type: field(/Type: (\S+)/),
    mode: parseInt(field(/Mode:\s+(\d+)/), 8),
    uid: Number(field(/User:\s+(\d+)/)),
    gid: Number(field(/Group:\s+(\d+)/)),
    links: Number(field(/Links: (\d+)/)),
    size: Number(field(/Size: (\d+)/)),
    mtime: parseInt(field(/mtime: 0x([0-9a-f]+)/), 16),
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('ext4 image of the output contract tree', () => {
  let dir: string;
  let image: string;
  let result: Ext4Result;
  const tree = contractTree();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jeos-ext4-'));
    image = join(dir, 'root.img');
    result = await writeExt4Image(tree, image, { sourceDateEpoch: EPOCH, freeBytes: 4 << 20 });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('e2fsck finds nothing to fix, and the counts match the tree', async () => {
    const out = await fsck(image);
    // Every tree entry but the hardlinks' extra names is an inode, plus lost+found and the 10 reserved ones (the root among them).
    const inodes = tree.entries().filter(([, n]) => n.kind !== 'hardlink').length + 10;
    assert.match(out, new RegExp(`root: ${inodes}/${result.inodes} files`), out);
    assert.equal(result.usedInodes, inodes);
    assert.equal(result.size, result.blocks * 4096);
    assert.deepEqual(result.xattrsDropped, []);
  });

  test('debugfs reads back every file, directory, link, device and fifo as the tree has it', async () => {
    const out = join(dir, 'rdump');
    await run('mkdir', [out]);
    await debugfs(image, `rdump / ${out}`);
    for (const [path, node] of tree.entries()) {
      if (path === '') continue;
      const inode = await inodeOf(image, path);
      const meta = node.kind === 'hardlink' ? linkedFile(tree, path, node.target)[1] : node;
      const kind = { file: 'regular', hardlink: 'regular', dir: 'directory', symlink: 'symlink', char: 'character', block: 'block', fifo: 'FIFO' }[node.kind];
      assert.equal(inode.type, kind, path);
      assert.equal(inode.mode, meta.mode, `${path} mode`);
      assert.equal(inode.uid, meta.uid, `${path} uid`);
      assert.equal(inode.gid, meta.gid, `${path} gid`);
      assert.equal(inode.mtime, Math.min(meta.mtime, EPOCH), `${path} mtime is clamped to SOURCE_DATE_EPOCH`);
      if (node.kind === 'file') {
        assert.equal(sha(await readFile(join(out, path))), sha(node.data), `${path} contents`);
      }
      if (node.kind === 'symlink') assert.equal(await readlink(join(out, path)), node.target);
      if (node.kind === 'dir') assert.ok((await lstat(join(out, path))).isDirectory());
      if (node.kind === 'char' || node.kind === 'block') {
        const dev = /Device major\/minor number: (\d+):(\d+)/.exec(await debugfs(image, `stat "/${path}"`));
        assert.deepEqual([Number(dev?.[1]), Number(dev?.[2])], [node.major, node.minor], path);
      }
    }
    assert.equal((await inodeOf(image, 'usr/lib/third')).links, 3, 'three names share one inode');
    assert.equal((await inodeOf(image, 'usr/bin')).links, 2);
    assert.equal((await inodeOf(image, 'lost+found')).type, 'directory');
  });

  test('file capabilities and binary xattrs are kept in the inode', async () => {
    const caps = await debugfs(image, 'ea_get -x "/usr/bin/ping" security.capability');
    assert.equal(caps.replace(/\s+/g, ''), `security.capability(20)=${CAP_NET_RAW.toString('hex')}`);
    const tricky = await debugfs(image, 'ea_get -x "/usr/share/tricky" user.jeos');
    assert.equal(tricky.replace(/\s+/g, ''), 'user.jeos(7)=61000a3dff207f');
  });

  test('files added later by libext2fs allocate from the free space and leave it consistent', async () => {
    const copy = join(dir, 'written.img');
    await run('cp', ['--sparse=always', image, copy]);
    const payload = join(dir, 'payload');
    await writeFile(payload, Buffer.alloc(1 << 20, 0x5a));
    for (let i = 0; i < 3; i++) await run('debugfs', ['-w', '-R', `write ${payload} /var/www/added-${i}`, copy]);
    await run('debugfs', ['-w', '-R', 'mkdir /usr/share/doc/new', copy]);
    await fsck(copy);
    assert.equal((await inodeOf(copy, 'var/www/added-2')).size, 1 << 20);
  });

  test('the same tree gives the same bytes; another tree another UUID', async () => {
    const again = join(dir, 'again.img');
    const second = await writeExt4Image(contractTree(), again, { sourceDateEpoch: EPOCH, freeBytes: 4 << 20 });
    assert.equal(second.sha256, result.sha256);
    assert.equal(sha(await readFile(again)), result.sha256, 'the digest is of the whole file, holes read as zeros');
    const other = contractTree();
    other.writeFile('etc/hostname', 'other\n');
    const third = await writeExt4Image(other, join(dir, 'other.img'), { sourceDateEpoch: EPOCH, freeBytes: 4 << 20 });
    assert.notEqual(third.uuid, result.uuid);
    assert.match(await debugfs(image, 'stats'), new RegExp(`Filesystem UUID:\\s+${result.uuid}`));
  });

  test('as root, the kernel mounts it and sees the same tree', { skip: !isRoot && 'mounting a loop device needs root' }, async () => {
    const mnt = join(dir, 'mnt');
    await run('mkdir', [mnt]);
    await run('mount', ['-o', 'loop,ro', image, mnt]);
    try {
      assert.equal(await readFile(join(mnt, 'etc/hostname'), 'utf8'), 'contract\n');
      const st = await lstat(join(mnt, 'var/www/index.html'));
      assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [33, 33, 0o640]);
      const getcap = spawnSync('getcap', [join(mnt, 'usr/bin/ping')], { encoding: 'utf8' });
      if (getcap.status === 0) assert.match(getcap.stdout, /cap_net_raw[=+]ep/);
    } finally {
      await run('umount', [mnt]);
    }
  });
});

describe('ext4 image layout', () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(join(tmpdir(), 'jeos-ext4-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  test('a tree bigger than one block group spans several, with backup superblocks', async () => {
    const t = new ImageTree();
    // 150 MiB in files of 40 MiB: some runs cross a group boundary and need two extents.
    for (let i = 0; i < 4; i++) t.writeFile(`data/blob-${i}`, Buffer.alloc(40 << 20, i + 1));
    for (let i = 0; i < 2000; i++) t.writeFile(`data/small/f${i}`, `${i}\n`);
    const image = join(dir, 'groups.img');
    const r = await writeExt4Image(t, image, { sourceDateEpoch: EPOCH, freeBytes: 1 << 20 });
    await fsck(image);
    assert.ok(r.blocks > 32768, `${r.blocks} blocks`);
    const { stdout: groups } = await run('dumpe2fs', [image], { maxBuffer: 16 << 20 });
    assert.match(groups, /Group 1: \(Blocks 32768-\d+\)\s+Backup superblock at 32768, Group descriptors at 32769-32769/);
    assert.match(await debugfs(image, 'stat /data/blob-3'), /EXTENTS:\n\(0-\d+\):\d+-\d+, \(\d+-10239\):\d+-\d+/, 'a file across a group boundary has two extents');
    const dumped = join(dir, 'blob-3');
    await debugfs(image, `dump /data/blob-3 ${dumped}`);
    assert.equal(sha(await readFile(dumped)), sha(Buffer.alloc(40 << 20, 4)));
  });

  test('bad metadata is refused before anything is written', async () => {
    const t = new ImageTree();
    t.writeFile('bad', 'x', { mode: 0o644, uid: -1, gid: 0, mtime: 0 });
    const path = join(dir, 'bad.img');
    await assert.rejects(writeExt4Image(t, path, { sourceDateEpoch: EPOCH }), (e: JeosError) => e.code === 'E_OUTPUT_METADATA' && /\/bad has uid -1/.test(e.message));
    await assert.rejects(lstat(path), { code: 'ENOENT' });
    await assert.rejects(writeExt4Image(new ImageTree(), path, { sourceDateEpoch: EPOCH, label: 'x'.repeat(17) }), { code: 'E_OUTPUT_EXT4_LABEL' });
  });
});
