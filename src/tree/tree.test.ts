import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImageTree } from './index.js';

const meta = { mode: 0o644, uid: 0, gid: 0, mtime: 1 };

describe('ImageTree.clone', () => {
  test('changes to the copy leave the original as it was, and the other way round', () => {
    const tree = new ImageTree();
    tree.writeFile('etc/hostname', 'a\n', { ...meta, xattrs: new Map([['user.x', Buffer.from('1')]]) });
    tree.symlink('bin', 'usr/bin');
    const copy = tree.clone();
    copy.writeFile('etc/hostname', 'b\n', meta);
    copy.writeFile('init', 'x', meta);
    copy.remove('bin');
    tree.get('etc/hostname')!.mode = 0o600;
    tree.get('etc/hostname')!.xattrs!.set('user.y', Buffer.from('2'));
    assert.equal(tree.readFile('etc/hostname')!.toString(), 'a\n');
    assert.equal(tree.has('init'), false);
    assert.equal(tree.get('bin')?.kind, 'symlink');
    assert.equal(copy.get('etc/hostname')!.mode, 0o644);
    assert.equal(tree.clone().get('etc/hostname')!.xattrs!.size, 2);
    assert.deepEqual(copy.list('etc'), ['hostname']);
    assert.equal(copy.has('bin'), false);
  });
});
