import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../../tree/index.js';
import { applyImageTmpfiles } from './image.js';

const EPOCH = 1_750_000_000;

test('a container image gets its tmpfiles.d entries at build time, /run included; what a container cannot have is left out with the reason', () => {
  const tree = new ImageTree();
  tree.writeFile('etc/passwd', 'root:x:0:0::/root:/bin/sh\nbind:x:100:101::/var/cache/bind:/usr/sbin/nologin\nnsd:x:102:102::/var/lib/nsd:/usr/sbin/nologin\n');
  tree.writeFile('etc/group', 'root:x:0:\nbind:x:101:\nnsd:x:102:\n');
  tree.writeFile('usr/lib/tmpfiles.d/named.conf', 'd /run/named 0775 root bind - -\n');
  tree.writeFile('usr/lib/tmpfiles.d/nsd.conf', '#Type Path Mode UID GID Age Argument\n    d /run/nsd     0755 nsd nsd -   -\n');
  tree.writeFile(
    'usr/lib/tmpfiles.d/other.conf',
    ['d /var/lib/app 0750 nsd nsd -', 'L /var/run - - - - ../run', 'f /run/app.flag 0644 - - - ready', 'd /run/%m 0755', 'a+ /var/lib/app - - - - u:bind:rwx', 'c /dev/fuse 0666 - - - 10:229', 'x /tmp/keep-*', 'd /var/log/journal 2755 root systemd-journal -'].join('\n') + '\n',
  );
  const record = applyImageTmpfiles(tree, EPOCH);
  const meta = (p: string) => {
    const n = tree.get(p)!;
    return [n.kind, n.uid, n.gid, n.mode & 0o7777];
  };
  assert.deepEqual(meta('run/named'), ['dir', 0, 101, 0o775]);
  assert.deepEqual(meta('run/nsd'), ['dir', 102, 102, 0o755]);
  assert.deepEqual(meta('var/lib/app'), ['dir', 102, 102, 0o750]);
  assert.equal(tree.readFile('run/app.flag')?.toString(), 'ready');
  assert.deepEqual(tree.get('var/run'), { ...tree.get('var/run'), kind: 'symlink', target: '../run' });
  assert.deepEqual(record.paths, ['/run/app.flag', '/run/named', '/run/nsd', '/var/lib/app', '/var/run']);
  const reasons = Object.fromEntries(record.skipped.map((s) => [s.line.replace(/^[^:]+: /, ''), s.reason]));
  assert.deepEqual(reasons, {
    'd /run/%m 0755': 'a specifier (host name, machine or boot ID) is known only once the container runs',
    'a+ /var/lib/app - - - - u:bind:rwx': 'ACLs and file attributes are not set in a container image',
    'c /dev/fuse 0666 - - - 10:229': 'the container runtime provides /dev, /proc and /sys',
    'x /tmp/keep-*': 'it only keeps a path from being cleaned by age, and nothing cleans in a container',
    'd /var/log/journal 2755 root systemd-journal -': 'no journald runs in a container',
  });
  assert.ok(!tree.get('run/fuse') && !tree.get('dev'));
});
