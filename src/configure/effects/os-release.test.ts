import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JeosError } from '../../errors.js';
import { ImageTree } from '../../tree/index.js';
import { context } from '../../../test/support/configure/context.js';
import { configureOsRelease, parseOsRelease } from './os-release.js';

test('without base-files the fields come from the options alone', () => {
  const tree = new ImageTree();
  configureOsRelease(context(tree, [], { os: { codename: 'forky', imageId: 'my.app-1', imageVersion: '2.0+build.3' } }));
  assert.equal(
    tree.readFile('etc/os-release')!.toString(),
    'PRETTY_NAME="Debian GNU/Linux"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=forky\nID=debian\nVARIANT=jeos\nVARIANT_ID=jeos\nIMAGE_ID=my.app-1\nIMAGE_VERSION="2.0+build.3"\n',
  );
  const parsed = parseOsRelease(tree.readFile('etc/os-release')!.toString());
  assert.equal(parsed.get('IMAGE_VERSION'), '2.0+build.3');
  assert.equal(parsed.get('PRETTY_NAME'), 'Debian GNU/Linux');
});

test('a symlink at /etc/os-release becomes a file; /usr/lib/os-release is untouched', () => {
  const tree = new ImageTree();
  const base = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nHOME_URL="https://example.org/"\nID=debian\n';
  tree.writeFile('usr/lib/os-release', base);
  tree.symlink('etc/os-release', '../usr/lib/os-release');
  configureOsRelease(context(tree));
  assert.equal(tree.get('etc/os-release')!.kind, 'file');
  assert.equal(tree.readFile('usr/lib/os-release')!.toString(), base);
  assert.equal(parseOsRelease(tree.readFile('etc/os-release')!.toString()).get('HOME_URL'), 'https://example.org/');
});

test('IMAGE_ID and IMAGE_VERSION outside os-release(5) syntax are refused', () => {
  for (const os of [{ imageId: 'Has Space', imageVersion: '1' }, { imageId: 'ok', imageVersion: 'two words' }]) {
    assert.throws(() => configureOsRelease(context(new ImageTree(), [], { os })), (e: unknown) => e instanceof JeosError && /^E_CONFIGURE_IMAGE_/.test(e.code) && !!e.hint);
  }
});
