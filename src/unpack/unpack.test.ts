import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeb, FIXTURE_EPOCH, type DebRecipe } from '../../test/fixtures/debs.js';
import { JeosError } from '../errors.js';
import { ImageTree, type TreeNode } from '../tree/index.js';
import { handDeb, type HandEntry } from '../../test/support/unpack/test-helpers.js';
import { unpackPackages, type DebInput, type UnpackOptions } from './unpack.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-unpack-'));
after(() => rm(work, { recursive: true, force: true }));

const T = FIXTURE_EPOCH;

async function deb(recipe: DebRecipe): Promise<DebInput> {
  const path = await buildDeb(recipe, join(work, `${recipe.name}-${recipe.version}-${recipe.architecture ?? 'amd64'}-${Math.random()}`));
  return { label: `${recipe.name}_${recipe.version}_${recipe.architecture ?? 'amd64'}`, bytes: await readFile(path) };
}

/** A hand-made package: control fields plus raw tar entries (a `./` entry comes first). */
function hand(name: string, entries: HandEntry[], fields: Record<string, string> = {}, controlFiles?: Record<string, string>): DebInput {
  const control = Object.entries({ Package: name, Version: '1.0', Architecture: 'amd64', ...fields, Description: 'hand-made' })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const bytes = handDeb({ control: `${control}\n`, entries: [{ name: './', type: '5', mode: 0o755 }, ...entries], ...(controlFiles ? { controlFiles } : {}) });
  return { label: `${name}_1.0_amd64`, bytes };
}

async function unpack(debs: DebInput[], options: Partial<UnpackOptions> = {}) {
  const tree = new ImageTree();
  const result = await unpackPackages(tree, debs, { architecture: 'amd64', ...options });
  return { tree, result, pkg: (name: string) => result.packages.find((p) => p.name === name)! };
}

async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(e.hint, 'every error has a hint');
    return true;
  });
}

/** One line per tree entry: path, kind, mode, owner, mtime, package, and content/target. */
function snapshot(tree: ImageTree): string[] {
  return tree.entries().map(([path, n]) => {
    const what =
      n.kind === 'file'
        ? JSON.stringify(n.data.toString())
        : n.kind === 'symlink' || n.kind === 'hardlink'
          ? `-> ${n.target}`
          : n.kind === 'char' || n.kind === 'block'
            ? `${n.major},${n.minor}`
            : '';
    const meta = `${n.mode.toString(8)} ${n.uid}:${n.gid} ${n.mtime === T ? 'T' : n.mtime} ${n.pkg ?? '-'}`;
    return `${path || '/'} ${n.kind} ${meta}${what ? ` ${what}` : ''}`;
  });
}

function node(tree: ImageTree, path: string): TreeNode {
  const n = tree.get(path);
  assert.ok(n, `${path} exists`);
  return n;
}

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

test('progress events: decompression, then one per package in unpack order', async () => {
  const events: string[] = [];
  await unpack([await deb({ name: 'p2', version: '1' }), await deb({ name: 'p1', version: '1' })], {
    onEvent: (e) => events.push(e.type === 'decompressed' ? `decompressed ${e.packages}` : `${e.package} ${e.done}/${e.total}`),
  });
  assert.deepEqual(events, ['decompressed 2', 'p1 1/2', 'p2 2/2']);
});
