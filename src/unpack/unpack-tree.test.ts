// The unpack stage on one package at a time: the merged-/usr links made first and adopted from
// base-files, what the tar headers record (modes, owners, devices, xattrs, hard links), the
// file list as dpkg -L prints it, the control data, file contents shared with the decompressed
// archive, every data.tar compression, and the progress events. Refused packages:
// unpack-refused.test.ts; packages that ship the same paths: unpack-shared-paths.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deb, hand, node, rejects, snapshot, unpack } from '../../test/support/unpack/unpack-fixtures.js';

test('merged /usr: links made first; /bin, /sbin, /lib and /lib64 entries land under /usr; dpkg-style file list', async () => {
  const { tree, result, pkg } = await unpack([
    await deb({
      name: 'coreutils',
      version: '9.7-3',
      files: {
        'bin/cat': { content: 'cat', mode: 0o755 },
        'sbin/init': { content: 'init', mode: 0o755 },
        'lib/x86_64-linux-gnu/libc.so.6': 'libc',
        'lib64/ld-linux-x86-64.so.2': { symlink: '/lib/x86_64-linux-gnu/ld.so' },
        'usr/bin/env': { content: 'env', mode: 0o755 },
      },
    }),
  ]);
  assert.deepEqual(snapshot(tree), [
    '/ dir 755 0:0 0 -',
    'bin symlink 777 0:0 0 - -> usr/bin',
    'lib symlink 777 0:0 0 - -> usr/lib',
    'lib64 symlink 777 0:0 0 - -> usr/lib64',
    'sbin symlink 777 0:0 0 - -> usr/sbin',
    'usr dir 755 0:0 T coreutils',
    'usr/bin dir 755 0:0 T coreutils',
    'usr/bin/cat file 755 0:0 T coreutils "cat"',
    'usr/bin/env file 755 0:0 T coreutils "env"',
    'usr/lib dir 755 0:0 0 -',
    'usr/lib/x86_64-linux-gnu dir 755 0:0 T coreutils',
    'usr/lib/x86_64-linux-gnu/libc.so.6 file 644 0:0 T coreutils "libc"',
    'usr/lib64 dir 755 0:0 0 -',
    'usr/lib64/ld-linux-x86-64.so.2 symlink 777 0:0 T coreutils -> /lib/x86_64-linux-gnu/ld.so',
    'usr/sbin dir 755 0:0 0 -',
    'usr/sbin/init file 755 0:0 T coreutils "init"',
  ]);
  // As `dpkg -L` prints it: the root as "/.", paths as shipped (not as resolved), archive order.
  assert.deepEqual(pkg('coreutils').paths, [
    '/.',
    '/bin',
    '/bin/cat',
    '/lib',
    '/lib/x86_64-linux-gnu',
    '/lib/x86_64-linux-gnu/libc.so.6',
    '/lib64',
    '/sbin',
    '/sbin/init',
    '/usr',
    '/usr/bin',
    '/usr/bin/env',
    '/lib64/ld-linux-x86-64.so.2',
  ]);
  assert.equal(tree.readFile('/bin/cat')!.toString(), 'cat');
  assert.deepEqual(result.stats, { packages: 1, entries: 13, files: 4, bytes: 14 });
});

test('lib64 is made only for amd64', async () => {
  const { tree } = await unpack([await deb({ name: 'base', version: '1', architecture: 'arm64', files: { 'usr/bin/x': 'x' } })], {
    architecture: 'arm64',
  });
  assert.equal(tree.get('lib64'), undefined);
  assert.equal(tree.get('usr/lib64'), undefined);
  assert.deepEqual(
    ['bin', 'lib', 'sbin'].map((p) => (tree.get(p) as { target?: string }).target),
    ['usr/bin', 'usr/lib', 'usr/sbin'],
  );
});

test('a package shipping the merged-/usr links itself (as trixie base-files does) adopts them', async () => {
  const { tree, pkg } = await unpack([
    hand('base-files', [
      { name: './bin', type: '2', mode: 0o777, linkname: 'usr/bin' },
      { name: './lib64', type: '2', mode: 0o777, linkname: '/usr/lib64' },
      { name: './usr/', type: '5', mode: 0o755 },
      { name: './usr/bin/', type: '5', mode: 0o755 },
    ]),
  ]);
  assert.deepEqual(snapshot(tree).slice(0, 5), [
    '/ dir 755 0:0 0 -',
    'bin symlink 777 0:0 T base-files -> usr/bin',
    'lib symlink 777 0:0 0 - -> usr/lib',
    'lib64 symlink 777 0:0 T base-files -> /usr/lib64',
    'sbin symlink 777 0:0 0 - -> usr/sbin',
  ]);
  assert.deepEqual(pkg('base-files').paths, ['/.', '/bin', '/lib64', '/usr', '/usr/bin']);
  // Something else at those names is refused.
  await rejects(unpack([hand('odd', [{ name: './lib', type: '2', linkname: 'opt/lib' }])]), 'E_UNPACK_FILE_CONFLICT', 'odd_1.0_amd64', '/lib', 'merged-/usr');
});

test('a directory entry where a symlink to a directory is stays a symlink (dpkg keeps it), but is still listed', async () => {
  const { tree, pkg } = await unpack([
    hand('mixed', [
      { name: './bin/', type: '5', mode: 0o700, uid: 5 },
      { name: './bin/tool', mode: 0o755, data: 't' },
      { name: './opt/', type: '5', mode: 0o755 },
      { name: './opt/real/', type: '5', mode: 0o755 },
      { name: './opt/alias', type: '2', linkname: 'real' },
      { name: './opt/alias/', type: '5', mode: 0o700 },
      { name: './opt/alias/f', data: 'f' },
    ]),
  ]);
  assert.equal(node(tree, 'bin').kind, 'symlink');
  assert.equal(node(tree, 'usr/bin').mode, 0o755, 'the directory behind the link is not changed either');
  assert.equal(node(tree, 'opt/alias').kind, 'symlink');
  assert.equal(tree.readFile('opt/real/f')!.toString(), 'f');
  assert.equal(tree.readFile('usr/bin/tool')!.toString(), 't');
  assert.deepEqual(pkg('mixed').paths, ['/.', '/bin', '/bin/tool', '/opt', '/opt/real', '/opt/alias', '/opt/alias', '/opt/alias/f']);
});

test('devices and fifos (with unpack.allowDevices), setuid modes, owners, PAX xattrs and hard links are recorded from the tar headers', async () => {
  const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const { tree, result } = await unpack([
    hand('special', [
      { name: './dev/', type: '5', mode: 0o755 },
      { name: './dev/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3 },
      { name: './dev/sda', type: '4', mode: 0o660, gid: 6, devmajor: 8, devminor: 0 },
      { name: './dev/initctl', type: '6', mode: 0o600 },
      { name: './usr/bin/', type: '5', mode: 0o755 },
      { name: './usr/bin/ping', mode: 0o755, data: 'ping', mtime: 1_600_000_000, pax: { 'SCHILY.xattr.security.capability': capability } },
      { name: './usr/bin/su', mode: 0o4755, data: 'su' },
      { name: './bin/ping4', type: '1', linkname: './usr/bin/ping' },
      { name: './var/mail/', type: '5', mode: 0o2775, gid: 8 },
    ]),
  ], { allowDevices: true });
  const ping = node(tree, 'usr/bin/ping');
  assert.equal(ping.kind, 'file');
  assert.ok(ping.xattrs?.get('security.capability')?.equals(capability));
  assert.deepEqual(node(tree, 'usr/bin/ping4'), { kind: 'hardlink', target: 'usr/bin/ping', mode: 0o755, uid: 0, gid: 0, mtime: 1_600_000_000, xattrs: ping.xattrs, pkg: 'special' });
  assert.deepEqual(snapshot(tree).filter((l) => /^(dev|var|usr\/bin\/su)/.test(l)), [
    'dev dir 755 0:0 T special',
    'dev/initctl fifo 600 0:0 T special',
    'dev/null char 666 0:0 T special 1,3',
    'dev/sda block 660 0:6 T special 8,0',
    'usr/bin/su file 4755 0:0 T special "su"',
    'var dir 755 0:0 0 -',
    'var/mail dir 2775 0:8 T special',
  ]);
  assert.equal(result.stats.files, 2, 'hard links are not counted as files');
});

test('UnpackedPackage: control fields, control files and conffiles', async () => {
  const { pkg } = await unpack([
    hand(
      'nginx-common',
      [
        { name: './etc/', type: '5', mode: 0o755 },
        { name: './etc/nginx/', type: '5', mode: 0o755 },
        { name: './etc/nginx/nginx.conf', data: 'events {}' },
      ],
      { Version: '1.26.3-3', Architecture: 'all', 'Multi-Arch': 'foreign', Replaces: 'nginx (<< 1.4.5-1)' },
      { conffiles: '/etc/nginx/nginx.conf\nremove-on-upgrade /etc/nginx/old.conf\n', postinst: '#!/bin/sh\n' },
    ),
  ]);
  const p = pkg('nginx-common');
  assert.equal(p.version, '1.26.3-3');
  assert.equal(p.architecture, 'all');
  assert.equal(p.multiArch, 'foreign');
  assert.deepEqual(p.control.map(([k]) => k), ['Package', 'Version', 'Architecture', 'Multi-Arch', 'Replaces', 'Description']);
  assert.deepEqual(p.conffiles, ['/etc/nginx/nginx.conf']);
  assert.deepEqual([...p.controlFiles.keys()], ['conffiles', 'postinst']);
  assert.deepEqual(p.paths, ['/.', '/etc', '/etc/nginx', '/etc/nginx/nginx.conf']);
});

test('file contents are not copied: files of a package share the decompressed archive', async () => {
  const { tree } = await unpack([await deb({ name: 'shared', version: '1', files: { 'usr/share/a': 'A'.repeat(3000), 'usr/share/b': 'B' } })]);
  const a = node(tree, 'usr/share/a');
  const b = node(tree, 'usr/share/b');
  assert.ok(a.kind === 'file' && b.kind === 'file');
  assert.equal(a.data.buffer, b.data.buffer);
  assert.equal(a.data.toString(), 'A'.repeat(3000));
});

test('all four data.tar compressions unpack to the same tree', async () => {
  const snapshots: string[][] = [];
  for (const compression of ['xz', 'gzip', 'zstd', 'none'] as const) {
    const { tree } = await unpack([await deb({ name: 'comp', version: '1', compression, files: { 'usr/bin/c': { content: 'c', mode: 0o755 }, 'usr/bin/d': { symlink: 'c' } } })]);
    snapshots.push(snapshot(tree));
  }
  assert.ok(snapshots[0]!.includes('usr/bin/c file 755 0:0 T comp "c"'));
  assert.ok(snapshots[0]!.includes('usr/bin/d symlink 777 0:0 T comp -> c'));
  for (const s of snapshots.slice(1)) assert.deepEqual(s, snapshots[0]);
});

test('progress events: decompression, then one per package in unpack order', async () => {
  const events: string[] = [];
  await unpack([await deb({ name: 'p2', version: '1' }), await deb({ name: 'p1', version: '1' })], {
    onEvent: (e) => events.push(e.type === 'decompressed' ? `decompressed ${e.packages}` : `${e.package} ${e.done}/${e.total}`),
  });
  assert.deepEqual(events, ['decompressed 2', 'p1 1/2', 'p2 2/2']);
});
