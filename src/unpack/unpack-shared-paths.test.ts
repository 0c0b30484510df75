// The unpack stage when packages ship the same paths: a file two packages ship is a conflict
// (through the merged-/usr aliases too) unless Replaces hands it over, both are Multi-Arch: same
// with the same bytes, or a diversion sends one copy elsewhere; and the tree and file lists do
// not depend on the order the packages come in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deb, hand, node, rejects, snapshot, unpack } from '../../test/support/unpack/unpack-fixtures.js';

test('two packages shipping one file is E_UNPACK_FILE_CONFLICT naming both and the path, whatever the input order', async () => {
  const a = await deb({ name: 'alpha', version: '1', files: { 'usr/bin/tool': 'from alpha', 'usr/share/doc/alpha/c': 'c' } });
  const b = await deb({ name: 'beta', version: '1', files: { 'usr/bin/tool': 'from beta', 'usr/share/doc/beta/c': 'c' } });
  for (const order of [[a, b], [b, a]]) {
    await rejects(unpack(order), 'E_UNPACK_FILE_CONFLICT', 'alpha (alpha_1_amd64)', 'beta (beta_1_amd64)', '/usr/bin/tool');
  }
  // Through the merged-/usr aliases: /bin/tool and /usr/bin/tool are one file.
  const c = await deb({ name: 'gamma', version: '1', files: { 'bin/tool': 'from gamma' } });
  await rejects(unpack([a, c]), 'E_UNPACK_FILE_CONFLICT', 'alpha', 'gamma', '/bin/tool (/usr/bin/tool)');
  // Identical content does not make it allowed (dpkg refuses too) unless both are Multi-Arch: same.
  const d = await deb({ name: 'delta', version: '1', files: { 'usr/bin/tool': 'from alpha' } });
  await rejects(unpack([a, d]), 'E_UNPACK_FILE_CONFLICT', 'alpha', 'delta');
  // A file where another package has a directory.
  const e = await deb({ name: 'epsilon', version: '1', files: { 'usr/share/doc/alpha': 'a file' } });
  await rejects(unpack([a, e]), 'E_UNPACK_FILE_CONFLICT', 'epsilon', '/usr/share/doc/alpha', 'directory');
});

test('Replaces lets a package take a file over, in either unpack order; the loser no longer lists it', async () => {
  const old = await deb({ name: 'tool-old', version: '1.0', files: { 'usr/bin/tool': 'old', 'usr/bin/other': 'o' } });
  const neu = await deb({ name: 'tool-new', version: '2.0', replaces: 'tool-old (<< 2)', files: { 'usr/bin/tool': 'new' } });
  // tool-new sorts before tool-old, so here the replacing package is unpacked first; the reverse pairing is below.
  for (const order of [[old, neu], [neu, old]]) {
    const { tree, pkg } = await unpack(order);
    assert.equal(tree.readFile('usr/bin/tool')!.toString(), 'new');
    assert.equal(node(tree, 'usr/bin/tool').pkg, 'tool-new');
    assert.ok(pkg('tool-new').paths.includes('/usr/bin/tool'));
    assert.ok(!pkg('tool-old').paths.includes('/usr/bin/tool'));
    assert.ok(pkg('tool-old').paths.includes('/usr/bin/other'));
  }
  const a = await deb({ name: 'aa', version: '1', files: { 'etc/x': 'aa' } });
  const z = await deb({ name: 'zz', version: '1', replaces: 'aa', files: { 'etc/x': 'zz' } });
  const { tree, pkg } = await unpack([z, a]);
  assert.equal(tree.readFile('etc/x')!.toString(), 'zz');
  assert.deepEqual(pkg('aa').paths, ['/.', '/etc']);
  // A hard link in the replaced package to a name it lost links to the file that won, as on disk with dpkg.
  const withLink = await unpack([
    hand('old-links', [
      { name: './usr/bin/a', data: 'old' },
      { name: './usr/bin/b', type: '1', linkname: './usr/bin/a' },
    ]),
    hand('new-links', [{ name: './usr/bin/a', data: 'new' }], { Replaces: 'old-links' }),
  ]);
  assert.deepEqual(node(withLink.tree, 'usr/bin/b').kind, 'hardlink');
  assert.equal(withLink.tree.readFile('usr/bin/b')!.toString(), 'new');
  assert.deepEqual(withLink.pkg('old-links').paths, ['/.', '/usr/bin/b']);
  // A version that does not match the Replaces relation is still a conflict.
  const narrow = await deb({ name: 'tool-new', version: '2.0', replaces: 'tool-old (<< 1.0)', files: { 'usr/bin/tool': 'new' } });
  await rejects(unpack([old, narrow]), 'E_UNPACK_FILE_CONFLICT', 'tool-new', 'tool-old', '/usr/bin/tool');
});

test('Multi-Arch: same packages share identical files; different contents conflict', async () => {
  const copyright = 'Copyright: the authors';
  const amd64 = await deb({ name: 'libz', version: '1', multiArch: 'same', files: { 'usr/lib/x86_64-linux-gnu/libz.so.1': 'amd64', 'usr/share/doc/libz/copyright': copyright } });
  const i386 = await deb({ name: 'libz', version: '1', architecture: 'i386', multiArch: 'same', files: { 'usr/lib/i386-linux-gnu/libz.so.1': 'i386', 'usr/share/doc/libz/copyright': copyright } });
  const { tree, result } = await unpack([i386, amd64]);
  assert.deepEqual(
    result.packages.map((p) => `${p.name}:${p.architecture} ${p.multiArch}`),
    ['libz:amd64 same', 'libz:i386 same'],
  );
  assert.equal(node(tree, 'usr/lib/i386-linux-gnu/libz.so.1').pkg, 'libz:i386');
  assert.equal(node(tree, 'usr/share/doc/libz/copyright').pkg, 'libz:amd64');
  for (const p of result.packages) assert.ok(p.paths.includes('/usr/share/doc/libz/copyright'), `${p.architecture} lists the shared file`);
  const differs = await deb({ name: 'libz', version: '1', architecture: 'i386', multiArch: 'same', files: { 'usr/share/doc/libz/copyright': 'other text' } });
  await rejects(unpack([amd64, differs]), 'E_UNPACK_FILE_CONFLICT', 'libz:amd64', 'libz:i386', '/usr/share/doc/libz/copyright');
});

test('diversions (empty by default) send other packages\' copies elsewhere', async () => {
  const dist = await deb({ name: 'dist', version: '1', files: { 'usr/bin/tool': 'original' } });
  const local = await deb({ name: 'local-tool', version: '1', files: { 'usr/bin/tool': 'replacement' } });
  await rejects(unpack([dist, local]), 'E_UNPACK_FILE_CONFLICT');
  const diversions = new Map([['/usr/bin/tool', { to: '/usr/bin/tool.distrib', package: 'local-tool' }]]);
  const { tree, pkg } = await unpack([dist, local], { diversions });
  assert.equal(tree.readFile('usr/bin/tool')!.toString(), 'replacement');
  assert.equal(tree.readFile('usr/bin/tool.distrib')!.toString(), 'original');
  assert.equal(node(tree, 'usr/bin/tool.distrib').pkg, 'dist');
  assert.ok(pkg('dist').paths.includes('/usr/bin/tool'), 'dpkg lists the name the package ships, not the diverted one');
  // A local diversion (no owning package) diverts every package's copy.
  const only = await unpack([dist], { diversions: new Map([['/usr/bin/tool', { to: '/usr/bin/tool.orig' }]]) });
  assert.equal(only.tree.get('usr/bin/tool'), undefined);
  assert.equal(only.tree.readFile('usr/bin/tool.orig')!.toString(), 'original');
});

test('the result does not depend on the input order', async () => {
  const debs = [
    await deb({ name: 'one', version: '1', files: { 'usr/share/common/one': '1', 'etc/one.conf': 'x' } }),
    hand('two', [
      { name: './usr/', type: '5', mode: 0o755 },
      { name: './usr/share/', type: '5', mode: 0o755 },
      { name: './usr/share/common/', type: '5', mode: 0o775, mtime: 5 },
      { name: './usr/share/common/two', data: '2' },
    ]),
    await deb({ name: 'three', version: '1', replaces: 'one', files: { 'etc/one.conf': 'y' } }),
  ];
  const forward = await unpack(debs);
  const backward = await unpack([...debs].reverse());
  assert.deepEqual(snapshot(backward.tree), snapshot(forward.tree));
  assert.deepEqual(
    backward.result.packages.map((p) => [p.name, p.paths]),
    forward.result.packages.map((p) => [p.name, p.paths]),
  );
  assert.deepEqual(
    forward.result.packages.map((p) => p.name),
    ['one', 'three', 'two'],
  );
  // A shared directory takes the metadata of the last package in that order, as dpkg would.
  assert.equal(node(forward.tree, 'usr/share/common').mode, 0o775);
  assert.equal(node(forward.tree, 'usr/share/common').pkg, 'two');
});
