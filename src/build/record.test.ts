import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../tree/index.js';
import { recordFiles, recordIn } from './record.js';
import type { BuildContext, VariantState } from './variant.js';

const meta = (mode: number, pkg?: string) => ({ mode, uid: 0, gid: 0, mtime: 0, ...(pkg ? { pkg } : {}) });

test('build.json lists the setuid and setgid files of each tree, with mode and package', () => {
  const tree = new ImageTree();
  tree.writeFile('usr/bin/su', 'su', meta(0o4755, 'util-linux'));
  tree.writeFile('usr/bin/wall', 'wall', meta(0o2755, 'bsdutils'));
  tree.put('usr/bin/su-again', { kind: 'hardlink', target: 'usr/bin/su', ...meta(0o4755, 'util-linux') });
  tree.writeFile('usr/bin/ls', 'ls', meta(0o755, 'coreutils'));
  tree.mkdirp('var/mail', meta(0o2775, 'base-files'));
  tree.writeFile('srv/tool', 'tool', meta(0o6711));
  const ctx = {
    lock: { packages: [], configDigest: 'c'.repeat(64), architecture: 'amd64' },
    config: { name: 'img' },
    epoch: 0,
  } as unknown as BuildContext;
  const image: VariantState = { name: 'image', tree, packages: [], workloadFiles: ['/srv/tool'], timings: {} };
  const record = recordIn(recordFiles(ctx, { image }, [], { lockDigest: 'd'.repeat(64), timings: { total: 0 } }));
  assert.deepEqual(record.image.setuid, [
    { path: '/srv/tool', mode: '6711' },
    { path: '/usr/bin/su', mode: '4755', package: 'util-linux' },
    { path: '/usr/bin/su-again', mode: '4755', package: 'util-linux' },
    { path: '/usr/bin/wall', mode: '2755', package: 'bsdutils' },
  ]);
});
