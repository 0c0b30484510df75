/**
 * A file longer than four block groups (the most an inode's own extents cover) gets
 * its extents from a leaf block; e2fsck and debugfs read it back. Slow: 650 MB.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ImageTree } from '../../tree/index.js';
import { writeExt4Image } from './index.js';

const run = promisify(execFile);

test('a 650 MB file spans six groups through an extent leaf block', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-ext4-large-'));
  try {
    const data = Buffer.alloc(650 << 20);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i / 4096, i);
    const t = new ImageTree();
    t.writeFile('huge', data);
    const image = join(dir, 'large.img');
    await writeExt4Image(t, image, { sourceDateEpoch: 1_700_000_000, freeBytes: 1 << 20 });
    const fsck = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    const { stdout } = await run('debugfs', ['-R', 'stat /huge', image]);
    assert.match(stdout, /EXTENTS:\n\(ETB0\):\d+, /, 'the extents live in a leaf block');
    await run('debugfs', ['-R', `dump /huge ${join(dir, 'out')}`, image]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(await readFile(join(dir, 'out'))), sha(data));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
