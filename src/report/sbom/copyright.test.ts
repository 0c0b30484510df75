import assert from 'node:assert/strict';
import { test } from 'node:test';
import { licenceExpression, readCopyright, spdxLicenceId } from './copyright.js';
import { distroQualifier } from './model.js';
import { contentUuid } from './text.js';

test('DEP-5 short names map to SPDX identifiers, or to none', () => {
  const cases: Array<[string, string | undefined]> = [
    ['GPL-2+', 'GPL-2.0-or-later'],
    ['GPL-2', 'GPL-2.0-only'],
    ['LGPL-2.1+', 'LGPL-2.1-or-later'],
    ['GFDL-1.3', 'GFDL-1.3-only'],
    ['Expat', 'MIT'],
    ['BSD-3-clause', 'BSD-3-Clause'],
    ['Apache-2.0', 'Apache-2.0'],
    ['zlib', 'Zlib'],
    ['MPL-1.1+', 'MPL-1.1+'],
    ['public-domain', undefined],
    ['GCC-exception-3.1', undefined],
  ];
  for (const [name, id] of cases) assert.equal(spdxLicenceId(name), id, name);
});

test('License fields become SPDX expressions: and/or, commas, exceptions, LicenseRefs', () => {
  const ref = (name: string) => `LicenseRef-${name}`;
  assert.equal(licenceExpression('GPL-2+ or Artistic', ref), 'GPL-2.0-or-later OR Artistic-1.0');
  assert.equal(licenceExpression('Expat or GPL-2+, and public-domain', ref), '(MIT OR GPL-2.0-or-later) AND LicenseRef-public-domain');
  assert.equal(licenceExpression('GPL-3+ with GCC-3.1 exception', ref), 'GPL-3.0-or-later WITH GCC-exception-3.1');
  assert.equal(licenceExpression('GPL-2+ with Autoconf exception', ref), 'LicenseRef-GPL-2+ with Autoconf exception');
  assert.equal(licenceExpression('BSD-3-clause, Android', ref), 'BSD-3-Clause AND LicenseRef-Android');
});

test('a copyright file: machine-readable or not, stand-alone licence texts found', () => {
  const text = `Format: https://packaging-manuals.example/copyright-format/1.0/

Files: *
Copyright: 2020 A
License: GPL-2+

Files: lib/*
License: Nonsense-1
 Do what you like
 .
 but keep this.

Files: doc/*
License: public-domain

License: public-domain
 No rights reserved.
`;
  const r = readCopyright(text);
  assert.equal(r.machineReadable, true);
  assert.deepEqual(r.expressions, ['GPL-2.0-or-later', '\0Nonsense-1\0', '\0public-domain\0']);
  assert.deepEqual(r.unknown, [
    { name: 'Nonsense-1', text: 'Do what you like\n\nbut keep this.' },
    { name: 'public-domain', text: 'No rights reserved.' },
  ]);
  assert.equal(readCopyright('This package was debianized by someone.\n').machineReadable, false);
});

test('the distro qualifier and the content UUID', () => {
  assert.equal(distroQualifier('trixie'), 'debian-13');
  assert.equal(distroQualifier('trixie-security'), 'debian-13');
  assert.equal(distroQualifier('sid'), 'debian-sid');
  assert.equal(contentUuid('spdx', 'a'), contentUuid('spdx', 'a'));
  assert.notEqual(contentUuid('spdx', 'a'), contentUuid('spdx', 'b'));
  assert.match(contentUuid('spdx', 'a'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
