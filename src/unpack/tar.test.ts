import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import { readTar, type TarEntry } from './tar.js';
import { tarArchive, tarEntry, tarHeader } from '../../test/support/unpack/test-helpers.js';

const ref = { label: 'pkg_1.0_amd64', member: 'data.tar' };

/** Entries without their data buffers, for deepEqual. */
function shape(entries: TarEntry[]): Array<Record<string, unknown>> {
  return entries.map(({ data, ...rest }) => ({ ...rest, data: data.toString('latin1') }));
}

function rejects(fn: () => unknown, code: string, ...mentions: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(e.hint, 'every error has a hint');
    return true;
  });
}

const base = { uid: 0, gid: 0, mtime: 1_700_000_000, linkname: '', devmajor: 0, devminor: 0 };

test('every entry type of a hand-written archive, with owners, modes and device numbers', () => {
  const tar = tarArchive([
    { name: './', type: '5', mode: 0o755 },
    { name: './usr/bin/tool', mode: 0o4755, uid: 0, gid: 50, data: 'binary' },
    { name: './usr/bin/alias', type: '1', linkname: './usr/bin/tool' },
    { name: './usr/bin/sym', type: '2', mode: 0o777, linkname: 'tool' },
    { name: './dev/console', type: '3', mode: 0o600, devmajor: 5, devminor: 1 },
    { name: './dev/sda', type: '4', mode: 0o660, gid: 6, devmajor: 8, devminor: 0 },
    { name: './run/initctl', type: '6', mode: 0o600 },
  ]);
  assert.deepEqual(shape(readTar(tar, ref)), [
    { ...base, path: './', type: 'dir', mode: 0o755, data: '' },
    { ...base, path: './usr/bin/tool', type: 'file', mode: 0o4755, gid: 50, data: 'binary' },
    { ...base, path: './usr/bin/alias', type: 'hardlink', mode: 0o644, linkname: './usr/bin/tool', data: '' },
    { ...base, path: './usr/bin/sym', type: 'symlink', mode: 0o777, linkname: 'tool', data: '' },
    { ...base, path: './dev/console', type: 'char', mode: 0o600, devmajor: 5, devminor: 1, data: '' },
    { ...base, path: './dev/sda', type: 'block', mode: 0o660, gid: 6, devmajor: 8, devminor: 0, data: '' },
    { ...base, path: './run/initctl', type: 'fifo', mode: 0o600, data: '' },
  ]);
});

test('file contents are views into the archive, not copies', () => {
  const tar = tarArchive([
    { name: './a', data: 'first' },
    { name: './b', data: 'x'.repeat(1000) },
  ]);
  const [a, b] = readTar(tar, ref);
  assert.equal(a!.data.buffer, tar.buffer);
  assert.equal(b!.data.buffer, tar.buffer);
  assert.equal(b!.data.byteOffset, tar.byteOffset + 3 * 512);
  assert.equal(b!.data.length, 1000);
});

test('PAX headers: path, linkpath, size, mtime, uid, gid, and binary SCHILY.xattr values', () => {
  const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0x00, 0x0a, 0x3d]);
  const longPath = `./usr/share/${'d'.repeat(120)}/file`;
  const tar = tarArchive([
    {
      name: './usr/bin/ping',
      mode: 0o755,
      data: 'ping',
      pax: { 'SCHILY.xattr.security.capability': capability, 'SCHILY.xattr.user.note': 'é', mtime: '1700000123.75', uid: '4000000', gid: '3' },
    },
    { name: 'truncated-name', data: 'long', pax: { path: longPath } },
    { name: './l', type: '2', linkname: 'short', pax: { linkpath: `../${'t'.repeat(150)}` } },
  ]);
  const [ping, long, link] = readTar(tar, ref);
  assert.equal(ping!.path, './usr/bin/ping');
  assert.equal(ping!.mtime, 1_700_000_123);
  assert.equal(ping!.uid, 4_000_000);
  assert.equal(ping!.gid, 3);
  assert.deepEqual([...ping!.xattrs!.keys()], ['security.capability', 'user.note']);
  assert.ok(ping!.xattrs!.get('security.capability')!.equals(capability), 'xattr bytes kept exactly, NUL and newline included');
  assert.equal(ping!.xattrs!.get('user.note')!.toString('utf8'), 'é');
  assert.equal(long!.path, longPath);
  assert.equal(long!.data.toString(), 'long');
  assert.equal(long!.xattrs, undefined);
  assert.equal(link!.linkname, `../${'t'.repeat(150)}`);
});

test('a PAX size overrides the header size', () => {
  const body = Buffer.from('0123456789');
  const pax = tarEntry({ name: 'PaxHeaders/x', type: 'x', data: '11 size=10\n' });
  const header = tarHeader({ name: './f' }, 0); // header says 0 bytes, PAX says 10
  const tar = Buffer.concat([pax, header, body, Buffer.alloc(512 - body.length), Buffer.alloc(1024)]);
  const [f] = readTar(tar, ref);
  assert.equal(f!.data.toString(), '0123456789');
});

test('GNU long names and long link targets (L and K), ustar prefix, base-256 numbers', () => {
  const name = `./usr/lib/${'n'.repeat(200)}`;
  const target = `/usr/lib/${'k'.repeat(180)}`;
  const tar = tarArchive([
    { name: '././@LongLink', type: 'L', data: `${name}\0` },
    { name: name.slice(0, 99), type: '0', data: 'x' },
    { name: '././@LongLink', type: 'K', data: `${target}\0` },
    { name: '././@LongLink', type: 'L', data: `${name}.link\0` },
    { name: 'cut', type: '2', linkname: target.slice(0, 99) },
    { name: 'file', ustarPrefix: './usr/share/doc/pkg', data: 'p' },
    { name: './big-uid', uid: 2 ** 40, base256Uid: true },
  ]);
  const entries = readTar(tar, ref);
  assert.deepEqual(
    entries.map((e) => [e.path, e.type, e.linkname]),
    [
      [name, 'file', ''],
      [`${name}.link`, 'symlink', target],
      ['./usr/share/doc/pkg/file', 'file', ''],
      ['./big-uid', 'file', ''],
    ],
  );
  assert.equal(entries[3]!.uid, 2 ** 40);
});

test('reads what GNU tar writes: long names, symlinks, hard links, empty files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jeos-tar-'));
  try {
    const deep = join('root', 'a'.repeat(60), 'b'.repeat(60));
    mkdirSync(join(dir, deep), { recursive: true });
    writeFileSync(join(dir, deep, 'file.txt'), 'hello\n');
    writeFileSync(join(dir, 'root', 'empty'), '');
    linkSync(join(dir, deep, 'file.txt'), join(dir, 'root', '0hard'));
    symlinkSync(`../${'c'.repeat(120)}`, join(dir, 'root', 'link'));
    for (const format of ['gnu', 'pax', 'ustar']) {
      if (format === 'ustar') rmSync(join(dir, 'root', 'link')); // ustar cannot store a 123-byte link target
      const r = spawnSync('tar', [`--format=${format}`, '--sort=name', '-C', join(dir, 'root'), '-cf', '-', '.']);
      assert.equal(r.status, 0, r.stderr.toString());
      const entries = readTar(r.stdout, ref);
      const byPath = new Map(entries.map((e) => [e.path.replace(/\/$/, ''), e]));
      const file = byPath.get(`./${'a'.repeat(60)}/${'b'.repeat(60)}/file.txt`);
      assert.ok(file, `${format}: long path found among ${[...byPath.keys()].join(', ')}`);
      // tar stores the first name it meets (./0hard, by sort order) as the file, the other as a link to it.
      assert.equal(byPath.get('./0hard')!.type, 'file');
      assert.equal(byPath.get('./0hard')!.data.toString(), 'hello\n');
      assert.equal(file.type, 'hardlink');
      assert.equal(file.linkname, './0hard');
      assert.equal(byPath.get('./empty')!.data.length, 0);
      if (format !== 'ustar') assert.equal(byPath.get('./link')!.linkname, `../${'c'.repeat(120)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a member cut short is E_DEB_TRUNCATED naming the package, member and entry', () => {
  const tar = tarArchive([{ name: './usr/bin/big', data: 'z'.repeat(3000) }]);
  rejects(() => readTar(tar.subarray(0, 512 + 1024), ref), 'E_DEB_TRUNCATED', 'pkg_1.0_amd64', 'data.tar', './usr/bin/big');
});

test('a header cut short, or a missing end-of-archive marker, is E_DEB_TRUNCATED', () => {
  const tar = tarArchive([{ name: './a', data: 'a' }]);
  rejects(() => readTar(tar.subarray(0, 1024 + 100), ref), 'E_DEB_TRUNCATED', 'pkg_1.0_amd64');
  rejects(() => readTar(tarArchive([{ name: './a', data: 'a' }], { end: false }), ref), 'E_DEB_TRUNCATED', 'end-of-archive');
  rejects(() => readTar(Buffer.alloc(0), ref), 'E_DEB_TRUNCATED');
  // An extended header with nothing after it.
  rejects(() => readTar(tarArchive([{ name: '././@LongLink', type: 'L', data: 'x\0' }]), ref), 'E_DEB_TRUNCATED');
});

test('a damaged header is E_DEB_CORRUPT', () => {
  const tar = tarArchive([{ name: './a', data: 'a' }]);
  const flipped = Buffer.from(tar);
  flipped[10] = 0x41;
  rejects(() => readTar(flipped, ref), 'E_DEB_CORRUPT', 'checksum');
  rejects(() => readTar(Buffer.concat([Buffer.from('garbage'.repeat(100)), Buffer.alloc(1024)]), ref), 'E_DEB_CORRUPT');
  rejects(() => readTar(tarArchive([{ name: './sparse', type: 'S' }]), ref), 'E_DEB_CORRUPT', './sparse', 'unsupported type');
  rejects(() => readTar(tarArchive([{ name: 'PaxHeaders/x', type: 'x', data: '99 path=x\n' }, { name: './x' }]), ref), 'E_DEB_CORRUPT', 'PAX');
});
