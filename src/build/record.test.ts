import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../tree/index.js';
import { setuidFiles } from './record.js';

const meta = (mode: number, pkg?: string) => ({ mode, uid: 0, gid: 0, mtime: 0, ...(pkg ? { pkg } : {}) });

test("build.json's setuid list: the setuid and setgid files and hard links of a tree, with mode and package; setgid directories left out", () => {
  const tree = new ImageTree();
  tree.writeFile('usr/bin/su', 'su', meta(0o4755, 'util-linux'));
  tree.writeFile('usr/bin/wall', 'wall', meta(0o2755, 'bsdutils'));
  tree.put('usr/bin/su-again', { kind: 'hardlink', target: 'usr/bin/su', ...meta(0o4755, 'util-linux') });
  tree.writeFile('usr/bin/ls', 'ls', meta(0o755, 'coreutils'));
  tree.mkdirp('var/mail', meta(0o2775, 'base-files'));
  tree.writeFile('srv/tool', 'tool', meta(0o6711));
  assert.deepEqual(setuidFiles(tree), [
    { path: '/srv/tool', mode: '6711' },
    { path: '/usr/bin/su', mode: '4755', package: 'util-linux' },
    { path: '/usr/bin/su-again', mode: '4755', package: 'util-linux' },
    { path: '/usr/bin/wall', mode: '2755', package: 'bsdutils' },
  ]);
});
