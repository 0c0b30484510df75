import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PackagesParser } from './packages.js';
import { columnsToText, fromColumnar, toColumnar } from './parsed-cache.js';

const index = `Package: web
Version: 1:2.0-1
Installed-Size: 1556
Maintainer: Someone <someone@example.org>
Architecture: amd64
Depends: libc6 (>= 2.34),
 libweb (= 1:2.0-1)
Provides: httpd
Description: serveur web – petit et rapide
 A long description line that is skipped.
 .
 Another one.
Description-md5: 0123456789abcdef
Multi-Arch: foreign
Filename: pool/main/w/web/web_2.0-1_amd64.deb
Size: 600000
SHA256: ${'a'.repeat(64)}

Package: base-files
Essential: yes
Priority: required
Version: 13.8
Architecture: amd64
Installed-Size: 400
Filename: pool/main/b/base-files/base-files_13.8_amd64.deb
Size: 70000
SHA256: ${'b'.repeat(64)}
`;

const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

function parseInChunks(size: number) {
  const p = new PackagesParser('trixie', 'main', 'test index');
  const raw = latin1(index);
  for (let i = 0; i < raw.length; i += size) p.push(raw.slice(i, i + size));
  p.end();
  return p;
}

test('the parser keeps the fields jeos uses, whatever the chunking', () => {
  for (const size of [1, 7, 64, 100_000]) {
    const { records } = parseInChunks(size);
    assert.equal(records.length, 2, `chunk size ${size}`);
    const [web, base] = records;
    assert.equal(web!.name, 'web');
    assert.equal(web!.version, '1:2.0-1');
    assert.equal(web!.installedSize, 1556);
    assert.equal(web!.size, 600000);
    assert.equal(web!.depends, 'libc6 (>= 2.34), libweb (= 1:2.0-1)', 'a folded relationship field is joined');
    assert.equal(web!.description, 'serveur web – petit et rapide', 'UTF-8 synopsis decoded');
    assert.equal(web!.multiArch, 'foreign');
    assert.equal(web!.essential, false);
    assert.equal(web!.suite, 'trixie');
    assert.equal(base!.essential, true);
    assert.equal(base!.priority, 'required');
    assert.equal(base!.depends, undefined);
  }
});

test('a stanza without Version is refused with the index named', () => {
  const p = new PackagesParser('trixie', 'main', 'trixie/main/binary-amd64/Packages.xz');
  assert.throws(() => {
    p.push('Package: x\nArchitecture: amd64\n\n');
    p.end();
  }, /trixie\/main\/binary-amd64\/Packages\.xz: package x has no Version/);
});

test('the pre-parsed form gives back the same records, and a damaged one is rejected', () => {
  const parsed = parseInChunks(50);
  const text = columnsToText(parsed.columns, parsed.records.length);
  const back = fromColumnar(text, 'trixie', 'main');
  assert.ok(back);
  assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(parsed.records)));
  assert.equal(back[0]!.description, 'serveur web – petit et rapide');
  assert.equal(toColumnar(parsed.records), text, 'records and columns give the same cache text');
  assert.equal(fromColumnar(text.slice(0, text.length - 30), 'trixie', 'main'), undefined, 'truncated');
  assert.equal(fromColumnar(text.replace('web\u0000', 'web\u0000extra\u0000'), 'trixie', 'main'), undefined, 'a column with a value too many');
  assert.equal(fromColumnar('{"format":1,"count":0}\n', 'trixie', 'main'), undefined, 'an old format');
});
