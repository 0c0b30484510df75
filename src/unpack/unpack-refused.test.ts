// The unpack stage refusing what it must not unpack, naming the package and entry, before
// anything lands: hard links to nothing earlier in the package, path traversal, entries under a
// symlink that climbs out of the root or under a file, a broken .deb or something that is not
// one, and the same package twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../tree/index.js';
import { handDeb } from '../../test/support/unpack/test-helpers.js';
import { deb, hand, node, rejects, unpack } from '../../test/support/unpack/unpack-fixtures.js';
import { unpackPackages } from './unpack.js';

test('hard links must name a regular file earlier in the same package', async () => {
  await rejects(
    unpack([hand('hl', [{ name: './usr/bin/b', type: '1', linkname: './usr/bin/missing' }])]),
    'E_DEB_BAD_HARDLINK',
    'hl_1.0_amd64',
    './usr/bin/b',
    './usr/bin/missing',
  );
  await rejects(
    unpack([
      hand('hl', [
        { name: './usr/bin/s', type: '2', linkname: 'x' },
        { name: './usr/bin/b', type: '1', linkname: './usr/bin/s' },
      ]),
    ]),
    'E_DEB_BAD_HARDLINK',
    './usr/bin/b',
  );
  // A file from another package does not count.
  await rejects(
    unpack([hand('a', [{ name: './usr/bin/a', data: 'a' }]), hand('b', [{ name: './usr/bin/b', type: '1', linkname: './usr/bin/a' }])]),
    'E_DEB_BAD_HARDLINK',
    'b_1.0_amd64',
  );
});

test('path traversal, absolute paths and ".." are refused, naming package and entry, before anything lands', async () => {
  for (const name of ['../../etc/passwd', './usr/../../etc/passwd', '/etc/passwd']) {
    const tree = new ImageTree();
    await rejects(
      unpackPackages(tree, [hand('evil', [{ name, data: 'root::0:0::/:/bin/sh' }])], { architecture: 'amd64' }),
      'E_DEB_UNSAFE_ENTRY',
      'evil_1.0_amd64',
      JSON.stringify(name),
    );
    assert.equal(tree.get('etc/passwd'), undefined);
  }
  await rejects(
    unpack([hand('evil', [{ name: './usr/bin/x', type: '1', linkname: '../../etc/shadow' }])]),
    'E_DEB_UNSAFE_ENTRY',
    'evil_1.0_amd64',
    './usr/bin/x',
  );
});

test('an entry under a symlink that climbs out of the root is E_DEB_SYMLINK_ESCAPE; absolute links stay inside', async () => {
  await rejects(
    unpack([
      hand('escape', [
        { name: './a', type: '2', linkname: '../../..' },
        { name: './a/x', data: 'outside' },
      ]),
    ]),
    'E_DEB_SYMLINK_ESCAPE',
    'escape_1.0_amd64',
    './a/x',
  );
  // The same through a link shipped by an earlier package.
  await rejects(
    unpack([hand('a-link', [{ name: './usr/share/up', type: '2', linkname: '../../../..' }]), hand('b-file', [{ name: './usr/share/up/etc/x', data: 'x' }])]),
    'E_DEB_SYMLINK_ESCAPE',
    'b-file_1.0_amd64',
    './usr/share/up/etc/x',
  );
  const { tree } = await unpack([
    hand('abs', [
      { name: './opt/', type: '5', mode: 0o755 },
      { name: './opt/etc', type: '2', linkname: '/etc' },
      { name: './opt/etc/x.conf', data: 'inside' },
    ]),
  ]);
  assert.equal(node(tree, 'etc/x.conf').kind, 'file');
});

test('an entry under a file is E_UNPACK_NOT_A_DIRECTORY naming package and entry', async () => {
  await rejects(
    unpack([
      hand('nd', [
        { name: './etc/x', data: 'file' },
        { name: './etc/x/y', data: 'under a file' },
      ]),
    ]),
    'E_UNPACK_NOT_A_DIRECTORY',
    'nd_1.0_amd64',
    './etc/x/y',
  );
});

test('a broken package fails the stage before the tree is touched', async () => {
  const good = await deb({ name: 'good', version: '1', files: { 'usr/bin/g': 'g' } });
  const broken = { label: 'broken_1_amd64', bytes: handDeb({ name: 'broken', dataMember: Buffer.from('garbage, not xz '.repeat(20)) }) };
  const tree = new ImageTree();
  await rejects(unpackPackages(tree, [good, broken], { architecture: 'amd64' }), 'E_DEB_BAD_COMPRESSION', 'broken_1_amd64', 'data.tar.xz');
  assert.equal(tree.size, 1);
  await rejects(unpackPackages(tree, [good, { label: 'page.html', bytes: Buffer.from('<html>') }], { architecture: 'amd64' }), 'E_DEB_NOT_A_DEB', 'page.html');
});

test('the same package twice is E_UNPACK_DUPLICATE_PACKAGE', async () => {
  const one = await deb({ name: 'twice', version: '1', files: { 'usr/bin/t': 't' } });
  await rejects(unpack([one, { ...one, label: 'copy.deb' }]), 'E_UNPACK_DUPLICATE_PACKAGE', 'package twice', 'copy.deb');
});
