// Sinks on a full file system: a real tmpfs too small for what is written. The failure must
// carry its errno (ENOSPC), which the outputs stage turns into E_OUTPUT_IO, not an unexplained
// short write (an internal error).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImageTree } from '../tree/index.js';
import { writeExt4Image } from './ext4/index.js';
import { gzipChunksToFile, writeChunksToFile } from './sink.js';

const probe = spawnSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `cannot mount a tmpfs here (${(probe.stderr || 'mount failed').trim()})`;

/** Incompressible bytes, so gzip cannot make them fit. */
function noise(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = 2463534242;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe('sinks on a full file system', { skip }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jeos-full-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
  after(async () => {
    spawnSync('umount', [dir]);
    await rmdir(dir);
  });

  test('a batched write that comes up short fails with the file system\'s errno', async () => {
    // One writev of 256 KiB on a 64 KiB file system: the kernel takes what fits, then says ENOSPC.
    const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(32 << 10, i));
    await assert.rejects(writeChunksToFile(join(dir, 'big.tar'), chunks), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOSPC', e.message);
      assert.doesNotMatch(e.message, /short write/);
      return true;
    });
  });

  test('a gzip sink fails with the errno too', async () => {
    for (const name of await readdir(dir)) spawnSync('rm', ['-f', join(dir, name)]);
    await assert.rejects(gzipChunksToFile(join(dir, 'layer.gz'), [noise(256 << 10)], { level: 1 }), { code: 'ENOSPC' });
  });

  test('the ext4 writer (a VM root disk) fails with the errno too', async () => {
    for (const name of await readdir(dir)) spawnSync('rm', ['-f', join(dir, name)]);
    const tree = new ImageTree();
    tree.writeFile('data/blob', noise(256 << 10));
    await assert.rejects(writeExt4Image(tree, join(dir, 'root.img'), { sourceDateEpoch: 0 }), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'ENOSPC', e.message);
      return true;
    });
  });
});
