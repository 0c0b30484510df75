import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeb, FIXTURE_EPOCH } from '../../test/fixtures/debs.js';
import { JeosError } from '../errors.js';
import { parseConffiles, parseControl, readDeb } from './deb.js';
import { arArchive, compress, handDeb, tarArchive } from '../../test/support/unpack/test-helpers.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-deb-'));
after(() => rm(work, { recursive: true, force: true }));

async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(e.hint);
    return true;
  });
}

for (const compression of ['xz', 'gzip', 'zstd', 'none'] as const) {
  test(`readDeb on a dpkg-deb package with ${compression} data`, async () => {
    const path = await buildDeb(
      {
        name: `hello-${compression}`,
        version: '2:1.0-1',
        compression,
        depends: 'libc6 (>= 2.36)',
        multiArch: 'foreign',
        files: {
          'usr/bin/hello': { content: '#!/bin/sh\necho hello\n', mode: 0o755 },
          'usr/share/doc/hello/copyright': 'GPL',
          'usr/bin/hi': { symlink: 'hello' },
        },
      },
      work,
    );
    const deb = await readDeb(await readFile(path), `hello-${compression}`);
    assert.equal(deb.dataCompression, compression);
    assert.deepEqual(
      deb.control.map(([k]) => k),
      ['Package', 'Version', 'Architecture', 'Maintainer', 'Installed-Size', 'Depends', 'Multi-Arch', 'Description'],
    );
    assert.deepEqual(deb.control[1], ['Version', '2:1.0-1']);
    assert.deepEqual([...deb.controlFiles.keys()], [], 'dpkg-deb adds no md5sums of its own');
    assert.deepEqual(
      deb.entries.map((e) => [e.path, e.type, e.mode, e.uid, e.gid, e.mtime, e.type === 'symlink' ? e.linkname : e.data.toString()]),
      [
        ['./', 'dir', 0o755, 0, 0, FIXTURE_EPOCH, ''],
        ['./usr/', 'dir', 0o755, 0, 0, FIXTURE_EPOCH, ''],
        ['./usr/bin/', 'dir', 0o755, 0, 0, FIXTURE_EPOCH, ''],
        ['./usr/bin/hello', 'file', 0o755, 0, 0, FIXTURE_EPOCH, '#!/bin/sh\necho hello\n'],
        ['./usr/share/', 'dir', 0o755, 0, 0, FIXTURE_EPOCH, ''],
        ['./usr/share/doc/', 'dir', 0o755, 0, 0, FIXTURE_EPOCH, ''],
        ['./usr/share/doc/hello/', 'dir', 0o755, 0, 0, FIXTURE_EPOCH, ''],
        ['./usr/share/doc/hello/copyright', 'file', 0o644, 0, 0, FIXTURE_EPOCH, 'GPL'],
        // dpkg-deb puts symlinks after everything else
        ['./usr/bin/hi', 'symlink', 0o777, 0, 0, FIXTURE_EPOCH, 'hello'],
      ],
    );
  });
}

test('a long path from dpkg-deb (GNU long name) comes through whole', async () => {
  const long = `usr/share/${'x'.repeat(90)}/${'y'.repeat(90)}.txt`;
  const deb = await readDeb(await readFile(await buildDeb({ name: 'longname', version: '1', files: { [long]: 'deep' } }, work)), 'longname');
  const entry = deb.entries.find((e) => e.path === `./${long}`);
  assert.equal(entry?.data.toString(), 'deep');
});

test('control paragraph: continuation lines joined, first paragraph only', () => {
  const control = parseControl('Package: p\nVersion: 1\nArchitecture: all\nDescription: short\n long line\n .\n more\n\nPackage: ignored\n', 'p');
  assert.deepEqual(control, [
    ['Package', 'p'],
    ['Version', '1'],
    ['Architecture', 'all'],
    ['Description', 'short\nlong line\n.\nmore'],
  ]);
});

test('a control file without Package, Version or Architecture, or with garbage, is E_DEB_BAD_CONTROL', async () => {
  assert.throws(() => parseControl('Package: p\nArchitecture: all\n', 'p_1_all'), (e: JeosError) => e.code === 'E_DEB_BAD_CONTROL' && e.message.includes('Version'));
  assert.throws(() => parseControl('not a field\n', 'p_1_all'), (e: JeosError) => e.code === 'E_DEB_BAD_CONTROL' && e.message.includes('p_1_all'));
  const noControl = arArchive([
    { name: 'debian-binary', data: '2.0\n' },
    { name: 'control.tar', data: tarArchive([{ name: './md5sums', data: '' }]) },
    { name: 'data.tar', data: tarArchive([]) },
  ]);
  await rejects(readDeb(noControl, 'nocontrol_1_all'), 'E_DEB_BAD_CONTROL', 'nocontrol_1_all', 'no control file');
});

test('control.tar members other than control are kept by name, as bytes', async () => {
  const deb = await readDeb(
    handDeb({ name: 'scripts', controlFiles: { conffiles: '/etc/scripts.conf\n', postinst: '#!/bin/sh\nexit 0\n', md5sums: 'abc  etc/x\n' } }),
    'scripts',
  );
  assert.deepEqual([...deb.controlFiles.keys()], ['conffiles', 'postinst', 'md5sums']);
  assert.equal(deb.controlFiles.get('postinst')!.toString(), '#!/bin/sh\nexit 0\n');
});

test('conffiles: plain paths, and remove-on-upgrade entries left out', () => {
  assert.deepEqual(parseConffiles('/etc/nginx/nginx.conf\n/etc/default/nginx \nremove-on-upgrade /etc/old.conf\n\n'), ['/etc/nginx/nginx.conf', '/etc/default/nginx']);
  assert.deepEqual(parseConffiles(undefined), []);
});

test('garbage in data.tar.xz is E_DEB_BAD_COMPRESSION naming package and member', async () => {
  const deb = handDeb({ name: 'garbage', dataMember: Buffer.from('definitely not xz '.repeat(40)) });
  await rejects(readDeb(deb, 'garbage_1.0_amd64'), 'E_DEB_BAD_COMPRESSION', 'garbage_1.0_amd64', 'data.tar.xz');
});

test('a truncated data member (tar cut short inside a file, then compressed) is E_DEB_TRUNCATED', async () => {
  const tar = tarArchive([
    { name: './', type: '5', mode: 0o755 },
    { name: './usr/lib/libbig.so', data: 'B'.repeat(5000) },
  ]);
  for (const compression of ['none', 'xz'] as const) {
    const deb = handDeb({ name: 'cut', dataMember: compress(tar.subarray(0, 2048), compression), compression });
    await rejects(readDeb(deb, 'cut_1.0_amd64'), 'E_DEB_TRUNCATED', 'cut_1.0_amd64', './usr/lib/libbig.so');
  }
});

test('not a .deb at all', async () => {
  await rejects(readDeb(Buffer.from('PK\x03\x04 a zip file'), 'thing.deb'), 'E_DEB_NOT_A_DEB', 'thing.deb');
});
