import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JeosError } from '../errors.js';
import { OCI_ARCHIVE, OCI_DIR, ROOTFS_TAR, VM_DIR } from '../outputs/index.js';
import { OUTPUT_NAMES } from '../outputs/out-dir.js';
import { ImageTree } from '../tree/index.js';
import { manifestOf, manifestText } from './manifest.js';
import { readManifest, readRecord, readTrimExplanations } from './read.js';
import { MANIFEST_FILE, MANIFEST_VERSION, RECORD_FILE, TRIM_FILE } from './types.js';

function sampleTree(): ImageTree {
  const tree = new ImageTree();
  const meta = (mode: number, pkg?: string, uid = 0, gid = 0) => ({ mode, uid, gid, mtime: 0, ...(pkg ? { pkg } : {}) });
  tree.mkdirp('etc', meta(0o755));
  tree.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n', meta(0o644));
  tree.writeFile('etc/group', 'root:x:0:\nwww-data:x:33:\n', meta(0o644));
  tree.mkdirp('usr/bin', meta(0o755, 'app'));
  tree.writeFile('usr/bin/app', 'program', meta(0o4755, 'app:amd64'));
  tree.put('usr/bin/app-again', { kind: 'hardlink', target: 'usr/bin/app', ...meta(0o4755, 'app:amd64') });
  tree.symlink('bin', 'usr/bin', meta(0o777));
  tree.put('dev/null', { kind: 'char', major: 1, minor: 3, ...meta(0o666) });
  tree.put('run/fifo', { kind: 'fifo', ...meta(0o600, undefined, 33, 1234) });
  tree.writeFile('srv/index.html', 'hello', meta(0o640, undefined, 33, 33));
  tree.writeFile('usr/lib/modules/6.1/kernel/x.ko', 'module', meta(0o644));
  tree.writeFile('boot/vmlinuz-6.1', 'kernel', meta(0o644));
  return tree;
}

const versions = new Map([['app', '1.0-1'], ['app:amd64', '1.0-1']]);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('the manifest lists every path with its metadata, content digest, owner names, package and version', () => {
  const entries = manifestOf(sampleTree(), {
    versions,
    workloadFiles: new Set(['/srv/index.html']),
    trim: undefined,
    outside: (p) => p === 'boot' || p.startsWith('boot/'),
    packageOf: (p) => (p.startsWith('usr/lib/modules/') ? 'linux-image-6.1' : undefined),
  });
  const at = new Map(entries.map((e) => [e.path, e]));
  assert.deepEqual(entries.map((e) => e.path), [...entries.map((e) => e.path)].sort(), 'sorted by path');
  assert.equal(at.get('/')?.type, 'dir');
  assert.ok(!at.has('/boot') && !at.has('/boot/vmlinuz-6.1'), 'paths delivered outside the image are not listed');
  assert.deepEqual(at.get('/usr/bin/app'), {
    path: '/usr/bin/app', type: 'file', mode: '4755', uid: 0, gid: 0, owner: 'root', group: 'root',
    size: 7, sha256: sha('program'), source: 'package', package: 'app', version: '1.0-1', why: 'untrimmed',
  });
  assert.deepEqual(
    { ...at.get('/usr/bin/app-again') },
    { path: '/usr/bin/app-again', type: 'hardlink', mode: '4755', uid: 0, gid: 0, owner: 'root', group: 'root', size: 7, sha256: sha('program'), target: '/usr/bin/app', source: 'package', package: 'app', version: '1.0-1', why: 'untrimmed' },
  );
  assert.deepEqual({ type: at.get('/bin')?.type, target: at.get('/bin')?.target, source: at.get('/bin')?.source }, { type: 'symlink', target: 'usr/bin', source: 'jeos' });
  assert.equal(at.get('/dev/null')?.device, '1:3');
  assert.deepEqual({ owner: at.get('/run/fifo')?.owner, group: at.get('/run/fifo')?.group, gid: at.get('/run/fifo')?.gid }, { owner: 'www-data', group: undefined, gid: 1234 }, 'a gid with no name has no group');
  assert.deepEqual({ source: at.get('/srv/index.html')?.source, owner: at.get('/srv/index.html')?.owner, mode: at.get('/srv/index.html')?.mode }, { source: 'workload', owner: 'www-data', mode: '0640' });
  assert.deepEqual({ source: at.get('/usr/lib/modules/6.1/kernel/x.ko')?.source, package: at.get('/usr/lib/modules/6.1/kernel/x.ko')?.package }, { source: 'package', package: 'linux-image-6.1' });
});

test("with a trim, why and via come from the trim's explanation; a directory holding kept paths is its parent", () => {
  const entries = manifestOf(sampleTree(), {
    versions,
    workloadFiles: new Set(),
    trim: { kept: { '/usr/bin/app': { why: 'command' }, '/usr/bin/app-again': { why: 'hardlink', from: '/usr/bin/app' }, '/etc/passwd': { why: 'made-by-jeos' } }, dropped: {} },
  });
  const why = (p: string) => entries.find((e) => e.path === p);
  assert.deepEqual([why('/usr/bin/app')?.why, why('/usr/bin/app')?.via], ['command', undefined]);
  assert.deepEqual([why('/usr/bin/app-again')?.why, why('/usr/bin/app-again')?.via], ['hardlink', '/usr/bin/app']);
  assert.equal(why('/usr/bin')?.why, 'parent');
  assert.equal(why('/srv/index.html')?.why, 'unrecorded', 'a file the trim gave no reason for says so, rather than a guess');
});

test('the record files are written, read back and refused when of another version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-record-'));
  try {
    for (const name of [RECORD_FILE, MANIFEST_FILE, TRIM_FILE, ROOTFS_TAR, OCI_DIR, OCI_ARCHIVE, VM_DIR]) {
      assert.ok(OUTPUT_NAMES.includes(name), `${name} is one of the names a commit owns in out/`);
    }
    await assert.rejects(readRecord(dir), (e: JeosError) => e.code === 'E_RECORD_MISSING' && /jeos build/.test(e.hint ?? ''));
    assert.equal(await readTrimExplanations(dir), undefined);
    await writeFile(join(dir, RECORD_FILE), JSON.stringify({ buildVersion: 1 }));
    await assert.rejects(readRecord(dir), (e: JeosError) => e.code === 'E_RECORD_VERSION' && /recordVersion undefined/.test(e.message));
    await writeFile(join(dir, RECORD_FILE), '{ not json');
    await assert.rejects(readRecord(dir), (e: JeosError) => e.code === 'E_RECORD_CORRUPT');
    const entries = manifestOf(sampleTree(), { versions, workloadFiles: new Set(), trim: undefined });
    const text = manifestText({ image: entries, vm: undefined }, MANIFEST_VERSION);
    assert.equal(text.split('\n').length, entries.length + 8, 'one entry a line (and 7 lines of frame, and the last newline)');
    await writeFile(join(dir, MANIFEST_FILE), text);
    assert.deepEqual(await readManifest(dir), { manifestVersion: MANIFEST_VERSION, trees: { image: entries } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
