import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeb } from '../../test/fixtures/debs.js';
import { JeosError } from '../errors.js';
import { readAr, readDebMembers } from './ar.js';
import { arArchive } from '../../test/support/unpack/test-helpers.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-ar-'));
after(() => rm(work, { recursive: true, force: true }));

function rejects(fn: () => unknown, code: string, ...mentions: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(e.hint);
    return true;
  });
}

const members = (...names: string[]) => names.map((name) => ({ name, data: name === 'debian-binary' ? '2.0\n' : `${name} bytes` }));

test('the members of a package built by dpkg-deb, as views into the file', async () => {
  const path = await buildDeb({ name: 'archeck', version: '1.0', files: { 'usr/share/archeck/x': 'x' } }, work);
  const bytes = await readFile(path);
  const all = readAr(bytes, 'archeck');
  assert.deepEqual(
    all.map((m) => m.name),
    ['debian-binary', 'control.tar.xz', 'data.tar.xz'],
  );
  assert.equal(all[0]!.data.toString(), '2.0\n');
  assert.equal(all[2]!.data.buffer, bytes.buffer);
  const deb = readDebMembers(bytes, 'archeck');
  assert.equal(deb.format, '2.0');
  assert.deepEqual([deb.control.name, deb.control.compression, deb.data.name, deb.data.compression], ['control.tar.xz', 'xz', 'data.tar.xz', 'xz']);
});

test('odd-sized members are padded to even offsets; names lose the GNU "/"', () => {
  const ar = arArchive([
    { name: 'debian-binary', data: '2.0\n' },
    { name: 'control.tar.gz', data: 'odd' },
    { name: 'data.tar', data: 'abcde' },
  ]);
  assert.deepEqual(
    readAr(ar, 'p').map((m) => [m.name, m.data.toString()]),
    [
      ['debian-binary', '2.0\n'],
      ['control.tar.gz', 'odd'],
      ['data.tar', 'abcde'],
    ],
  );
});

test('members starting with "_" between the required ones, and anything after data.tar, are skipped', () => {
  const deb = readDebMembers(arArchive(members('debian-binary', '_gpgorigin', 'control.tar.zst', '_extra', 'data.tar.gz', 'trailing')), 'p');
  assert.equal(deb.control.compression, 'zstd');
  assert.equal(deb.data.name, 'data.tar.gz');
  assert.equal(deb.data.compression, 'gzip');
});

test('not a .deb: no ar signature, empty, wrong first member, wrong format, members out of order', () => {
  rejects(() => readDebMembers(Buffer.from('<html>404 Not Found</html>'), 'curl_8.0_amd64'), 'E_DEB_NOT_A_DEB', 'curl_8.0_amd64', '!<arch>');
  rejects(() => readDebMembers(Buffer.from('!<arch>\n'), 'p'), 'E_DEB_NOT_A_DEB', 'empty');
  rejects(() => readDebMembers(arArchive(members('control.tar.xz', 'data.tar.xz')), 'p'), 'E_DEB_NOT_A_DEB', 'debian-binary');
  rejects(
    () => readDebMembers(arArchive([{ name: 'debian-binary', data: '3.0\n' }, ...members('control.tar.xz', 'data.tar.xz')]), 'p'),
    'E_DEB_NOT_A_DEB',
    '"3.0"',
  );
  rejects(() => readDebMembers(arArchive(members('debian-binary', 'data.tar.xz', 'control.tar.xz')), 'p'), 'E_DEB_NOT_A_DEB', 'control.tar', 'data.tar.xz');
  rejects(() => readDebMembers(arArchive(members('debian-binary', 'control.tar.xz')), 'p'), 'E_DEB_NOT_A_DEB', 'data.tar member is missing');
});

test('a compression jeos cannot read is E_DEB_BAD_COMPRESSION naming the member', () => {
  rejects(() => readDebMembers(arArchive(members('debian-binary', 'control.tar.gz', 'data.tar.bz2')), 'old_1_all'), 'E_DEB_BAD_COMPRESSION', 'old_1_all', 'data.tar.bz2');
});

test('truncated or garbled archives', () => {
  const ar = arArchive(members('debian-binary', 'control.tar.gz', 'data.tar.xz'));
  rejects(() => readAr(ar.subarray(0, ar.length - 3), 'cut_1_amd64'), 'E_DEB_TRUNCATED', 'cut_1_amd64', 'data.tar.xz');
  rejects(() => readAr(ar.subarray(0, 8 + 30), 'cut_1_amd64'), 'E_DEB_TRUNCATED', 'header');
  const garbled = Buffer.from(ar);
  garbled.write('xx', 8 + 58, 'latin1');
  rejects(() => readAr(garbled, 'bad'), 'E_DEB_CORRUPT', 'bad', 'garbled');
  const badSize = Buffer.from(ar);
  badSize.write('12z4      ', 8 + 48, 'latin1');
  rejects(() => readAr(badSize, 'bad'), 'E_DEB_CORRUPT', 'size');
});
