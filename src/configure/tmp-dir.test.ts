import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installFake, mergedUsrTree } from '../../test/support/configure/packages.js';
import { ImageTree } from '../tree/index.js';
import { trimImage } from '../trim/index.js';
import { ensureTmp } from './tmp-dir.js';

const meta = (tree: ImageTree) => {
  const n = tree.get('tmp');
  return n && { kind: n.kind, mode: n.mode, uid: n.uid, gid: n.gid, pkg: n.pkg };
};

test('/tmp is made 1777 and root-owned when no package ships it, and a container trim keeps it', () => {
  const tree = mergedUsrTree(new ImageTree());
  const packages = [installFake(tree, { name: 'app', files: { '/usr/bin/app': { content: 'x', mode: 0o755 } } })];
  assert.equal(ensureTmp(tree, 1_700_000_000), true);
  assert.deepEqual(meta(tree), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0, pkg: undefined });
  assert.equal(ensureTmp(tree, 1_700_000_000), false, 'nothing to do the second time');
  trimImage(tree, packages, { architecture: 'amd64', settings: { enabled: true, keep: [], locales: [] }, roots: [], requested: [] });
  assert.equal(tree.get('usr/bin/app'), undefined, 'the trim did drop what nothing reaches');
  assert.deepEqual(meta(tree), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0, pkg: undefined }, 'but not /tmp');
});

test("a /tmp jeos made on the way to a workload file is fixed; a package's /tmp or link is left as shipped", () => {
  const made = new ImageTree();
  made.writeFile('tmp/seed', 'x');
  assert.equal(made.get('tmp')?.mode, 0o755);
  assert.equal(ensureTmp(made, 0), true);
  assert.equal(made.get('tmp')?.mode, 0o1777);
  assert.ok(made.get('tmp/seed'), 'its contents stay');

  const shipped = new ImageTree();
  shipped.mkdirp('tmp', { mode: 0o1777, uid: 0, gid: 0, mtime: 0, pkg: 'base-files' });
  assert.equal(ensureTmp(shipped, 0), false);
  const odd = new ImageTree();
  odd.mkdirp('var/tmp');
  odd.symlink('tmp', 'var/tmp', { mode: 0o777, uid: 0, gid: 0, mtime: 0, pkg: 'tmp-link' });
  assert.equal(ensureTmp(odd, 0), false);
  assert.equal(odd.get('tmp')?.kind, 'symlink');
});
