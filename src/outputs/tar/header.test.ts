import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { ImageTree } from '../../tree/index.js';
import { run } from '../contract.case.test.js';
import { writeChunksToFile } from '../sink.js';
import { tarChunks } from '../../util/tar/chunks.js';
import { encodeHeader, paxRecord, type TarEntry } from '../../util/tar/header.js';
import { treeTarItems } from './stream.js';

const base: TarEntry = { path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0 };

/** The pax records in front of a header, as key → raw value. */
function paxOf(header: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (header.length === 512) return out;
  assert.equal(String.fromCharCode(header[156]!), 'x');
  const size = parseInt(header.subarray(124, 135).toString('latin1'), 8);
  let body = header.subarray(512, 512 + size);
  while (body.length > 0) {
    const space = body.indexOf(0x20);
    const length = Number(body.subarray(0, space).toString());
    const record = body.subarray(space + 1, length);
    assert.equal(body[length - 1], 0x0a, 'a record ends with a newline where its length says');
    const eq = record.indexOf(0x3d);
    out.set(record.subarray(0, eq).toString(), record.subarray(eq + 1, record.length - 1));
    body = body.subarray(length);
  }
  return out;
}

function field(header: Buffer, offset: number, size: number): string {
  const b = header.subarray(header.length - 512 + offset, header.length - 512 + offset + size);
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? size : nul).toString('utf8');
}

function rejectsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof JeosError && e.code === code && (e.hint?.length ?? 0) > 10);
}

describe('tar headers', () => {
  test('a pax record counts its own length, across every digit boundary', () => {
    for (let n = 0; n < 1100; n++) {
      const r = paxRecord('k', Buffer.alloc(n, 0x61));
      assert.equal(Number(r.subarray(0, r.indexOf(0x20)).toString()), r.length, `value of ${n} bytes`);
    }
  });

  test('the checksum is the sum of the header bytes with the checksum field as spaces', () => {
    const h = encodeHeader({ ...base, path: 'usr/bin/x', size: 12345, mtime: 1_700_000_000, mode: 0o4755 });
    const copy = Buffer.from(h);
    copy.fill(0x20, 148, 156);
    const sum = copy.reduce((a, b) => a + b, 0);
    assert.equal(h.subarray(148, 156).toString('latin1'), `${sum.toString(8).padStart(6, '0')}\0 `);
    assert.equal(h.subarray(257, 265).toString('latin1'), 'ustar\x0000');
    assert.equal(field(h, 265, 32) + field(h, 297, 32), '', 'uname and gname are empty');
  });

  test('paths up to 255 bytes use the ustar prefix; longer, non-ASCII or unsplittable ones a pax path', () => {
    const p150 = `${'a'.repeat(70)}/${'b'.repeat(79)}`;
    const h150 = encodeHeader({ ...base, path: p150 });
    assert.equal(h150.length, 512);
    assert.deepEqual([field(h150, 345, 155), field(h150, 0, 100)], ['a'.repeat(70), 'b'.repeat(79)]);

    const dir = encodeHeader({ ...base, type: 'dir', path: `${'a'.repeat(60)}/${'b'.repeat(99)}` });
    assert.equal(dir.length, 512);
    assert.equal(field(dir, 0, 100), `${'b'.repeat(99)}/`, 'a directory keeps its trailing slash in the name field');

    for (const path of [`${'a'.repeat(150)}/${'b'.repeat(110)}`, 'x'.repeat(101), `${'a'.repeat(160)}/b`, 'caf\u00e9']) {
      const h = encodeHeader({ ...base, path });
      assert.equal(paxOf(h).get('path')?.toString('utf8'), path, path);
    }
  });

  test('link targets over 100 bytes or not ASCII go to pax linkpath', () => {
    assert.equal(encodeHeader({ ...base, type: 'symlink', path: 'l', linkname: 'x'.repeat(100) }).length, 512);
    for (const linkname of ['x'.repeat(101), '/usr/share/caf\u00e9']) {
      assert.equal(paxOf(encodeHeader({ ...base, type: 'symlink', path: 'l', linkname })).get('linkpath')?.toString('utf8'), linkname);
    }
  });

  test('numbers out of octal range go to pax: size over 8 GiB, ids over 2097151, times before 1970', () => {
    const pax = paxOf(encodeHeader({ ...base, size: 2 ** 33 + 1, uid: 2_097_152, gid: 4_000_000_000, mtime: -1 }));
    assert.deepEqual(
      Object.fromEntries([...pax].map(([k, v]) => [k, v.toString()])),
      { size: String(2 ** 33 + 1), uid: '2097152', gid: '4000000000', mtime: '-1' },
    );
    assert.equal(paxOf(encodeHeader({ ...base, size: 2 ** 33 - 1, uid: 2_097_151 })).size, 0);
  });

  test('xattrs are written in name order whatever the map order, values as raw bytes', () => {
    const a = encodeHeader({ ...base, xattrs: new Map([['user.b', Buffer.from([0, 1])], ['security.capability', Buffer.from([0xff])]]) });
    const b = encodeHeader({ ...base, xattrs: new Map([['security.capability', Buffer.from([0xff])], ['user.b', Buffer.from([0, 1])]]) });
    assert.ok(a.equals(b));
    assert.deepEqual([...paxOf(a).keys()], ['SCHILY.xattr.security.capability', 'SCHILY.xattr.user.b']);
    assert.ok(paxOf(a).get('SCHILY.xattr.user.b')!.equals(Buffer.from([0, 1])));
  });

  test('what a tar header cannot hold is refused with a code and a hint', () => {
    rejectsCode(() => encodeHeader({ ...base, xattrs: new Map([['user.a=b', Buffer.alloc(1)]]) }), 'E_OUTPUT_XATTR_NAME');
    rejectsCode(() => encodeHeader({ ...base, xattrs: new Map([['', Buffer.alloc(1)]]) }), 'E_OUTPUT_XATTR_NAME');
    rejectsCode(() => encodeHeader({ ...base, type: 'char', devmajor: 2 ** 21, devminor: 0 }), 'E_OUTPUT_DEVICE_NUMBER');
    rejectsCode(() => encodeHeader({ ...base, type: 'block', devmajor: 1, devminor: -1 }), 'E_OUTPUT_DEVICE_NUMBER');
  });
});

describe('tree to tar items', () => {
  let work: string;
  before(async () => (work = await mkdtemp(join(tmpdir(), 'jeos-tar-'))));
  after(() => rm(work, { recursive: true, force: true }));

  test('hardlinks to nothing, to a directory, or in a loop are refused', () => {
    const cases: Array<[string, (t: ImageTree) => void]> = [
      ['missing', (t) => t.put('a', { kind: 'hardlink', target: 'nowhere', mode: 0o644, uid: 0, gid: 0, mtime: 0 })],
      ['directory', (t) => (t.mkdirp('d'), t.put('a', { kind: 'hardlink', target: 'd', mode: 0o644, uid: 0, gid: 0, mtime: 0 }))],
      [
        'loop',
        (t) => {
          t.put('a', { kind: 'hardlink', target: 'b', mode: 0o644, uid: 0, gid: 0, mtime: 0 });
          t.put('b', { kind: 'hardlink', target: 'a', mode: 0o644, uid: 0, gid: 0, mtime: 0 });
        },
      ],
    ];
    for (const [name, setup] of cases) {
      const t = new ImageTree();
      setup(t);
      assert.throws(() => [...treeTarItems(t, 0)], (e: unknown) => e instanceof JeosError && e.code === 'E_OUTPUT_HARDLINK', name);
    }
  });

  test('metadata no file system can hold is refused with the path', () => {
    for (const bad of [{ uid: -1 }, { gid: 1.5 }, { mode: 0o10000 }, { mtime: Number.NaN }, { uid: 2 ** 32 - 1 }]) {
      const t = new ImageTree();
      t.writeFile('etc/x', 'x', { mode: 0o644, uid: 0, gid: 0, mtime: 0, ...bad });
      assert.throws(() => [...treeTarItems(t, 0)], (e: unknown) => e instanceof JeosError && e.code === 'E_OUTPUT_METADATA' && e.message.includes('/etc/x'), JSON.stringify(bad));
    }
  });

  test('an empty tree is just the end-of-archive marker, and GNU tar accepts it', async () => {
    const path = join(work, 'empty.tar');
    const digest = await writeChunksToFile(path, tarChunks(treeTarItems(new ImageTree(), 0)));
    assert.equal(digest.size, 1024);
    const { stdout, stderr } = await run('tar', ['-tvf', path]);
    assert.equal(stdout + stderr, '');
  });

  test('times before 1970 round-trip through Python tarfile', async () => {
    const t = new ImageTree();
    t.writeFile('old', 'x', { mode: 0o644, uid: 0, gid: 0, mtime: -86_400 });
    const path = join(work, 'old.tar');
    await writeChunksToFile(path, tarChunks(treeTarItems(t, 1_700_000_000)));
    const { stdout } = await run('python3', ['-c', 'import sys,tarfile; print(int(tarfile.open(sys.argv[1]).getmember("old").mtime))', path]);
    assert.equal(stdout.trim(), '-86400');
  });
});
