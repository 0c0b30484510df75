import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ImageTree } from '../../tree/index.js';
import type { UnpackedPackage } from '../../unpack/types.js';
import { context } from '../../../test/support/configure/context.js';
import { installFake } from '../../../test/support/configure/packages.js';
import { captureShippedState, configureDpkgDatabase, statusParagraph } from './dpkg-database.js';

test('status paragraphs put fields in dpkg\'s order, keep others after, drop defaults', () => {
  const pkg: UnpackedPackage = {
    name: 'libfoo1',
    version: '1:2.3-4',
    architecture: 'amd64',
    multiArch: 'same',
    control: [
      ['Package', 'libfoo1'],
      ['Source', 'foo (2.3-4)'],
      ['Version', '1:2.3-4'],
      ['Architecture', 'amd64'],
      ['Maintainer', 'Someone <someone@example.invalid>'],
      ['Installed-Size', '123'],
      ['Depends', 'libc6 (>= 2.34)'],
      ['Breaks', 'old-foo (<< 2)'],
      ['Section', 'libs'],
      ['Priority', 'optional'],
      ['Multi-Arch', 'same'],
      ['Essential', 'no'],
      ['Homepage', 'https://foo.example.invalid/'],
      ['Description', 'foo library\nLonger text.\n.\n  indented line'],
      ['Built-Using', 'bar (= 1)'],
    ],
    controlFiles: new Map(),
    paths: ['/.', '/etc', '/etc/foo.conf'],
    conffiles: ['/etc/foo.conf', '/etc/missing.conf'],
  };
  assert.equal(
    statusParagraph(pkg, new Map([['/etc/foo.conf', '0123456789abcdef0123456789abcdef']])),
    [
      'Package: libfoo1',
      'Status: install ok installed',
      'Priority: optional',
      'Section: libs',
      'Installed-Size: 123',
      'Maintainer: Someone <someone@example.invalid>',
      'Architecture: amd64',
      'Multi-Arch: same',
      'Source: foo (2.3-4)',
      'Version: 1:2.3-4',
      'Depends: libc6 (>= 2.34)',
      'Breaks: old-foo (<< 2)',
      'Conffiles:',
      ' /etc/foo.conf 0123456789abcdef0123456789abcdef',
      'Description: foo library',
      ' Longer text.',
      ' .',
      '   indented line',
      'Homepage: https://foo.example.invalid/',
      'Built-Using: bar (= 1)',
      '',
    ].join('\n'),
  );
});

test('info files per package; md5sums computed as shipped when a package has none; arch for foreign packages', () => {
  const tree = new ImageTree();
  const a = installFake(tree, { name: 'a', files: { '/usr/bin/a': 'aaa', '/etc/a.conf': 'conf' }, conffiles: ['/etc/a.conf'], noMd5sums: true, scripts: { postinst: '#!/bin/sh\n', triggers: 'interest x\n' } });
  const b = installFake(tree, { name: 'b', architecture: 'i386', multiArch: 'same', files: { '/usr/lib/i386-linux-gnu/b.so': 'bbb' } });
  const shipped = captureShippedState(tree, [a, b]);
  tree.writeFile('usr/bin/a', 'changed by a later effect');
  tree.writeFile('etc/a.conf', 'changed too');
  const report = configureDpkgDatabase(context(tree, [], {}, [a, b]), shipped);
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  assert.equal(tree.readFile('var/lib/dpkg/info/a.md5sums')!.toString(), `${md5('aaa')}  usr/bin/a\n`);
  assert.match(tree.readFile('var/lib/dpkg/status')!.toString(), new RegExp(`Conffiles:\\n /etc/a.conf ${md5('conf')}\\n`));
  assert.equal(tree.readFile('var/lib/dpkg/info/a.list')!.toString(), '/.\n/usr\n/usr/bin\n/usr/bin/a\n/etc\n/etc/a.conf\n');
  assert.equal(tree.get('var/lib/dpkg/info/a.postinst')!.mode, 0o755);
  assert.equal(tree.get('var/lib/dpkg/info/a.triggers')!.mode, 0o644);
  assert.ok(tree.get('var/lib/dpkg/info/b:i386.list'));
  assert.equal(tree.readFile('var/lib/dpkg/arch')!.toString(), 'amd64\ni386\n');
  assert.equal(tree.readFile('var/lib/dpkg/info/format')!.toString(), '1\n');
  assert.match(tree.readFile('var/lib/dpkg/status')!.toString(), /^Package: a\n[^]*\n\nPackage: b\n/);
  assert.equal(report.summary, '2 packages installed in /var/lib/dpkg/status; md5sums computed for a');
});
