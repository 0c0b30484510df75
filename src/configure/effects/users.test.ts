import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JeosError } from '../../errors.js';
import { ImageTree } from '../../tree/index.js';
import type { Action } from '../actions.js';
import { context } from '../../../test/support/configure/context.js';
import { installFake, mergedUsrTree } from '../../../test/support/configure/packages.js';
import { configureUsers } from './users.js';

const sys = (name: string, extra: Partial<Extract<Action, { kind: 'add-user' }>> = {}): Action => ({
  kind: 'add-user',
  name,
  tool: 'adduser',
  system: true,
  group: { kind: 'same' },
  home: '/nonexistent',
  shell: '/usr/sbin/nologin',
  createHome: false,
  extraGroups: [],
  ...extra,
});

const lines = (tree: ImageTree, path: string): string[] => tree.readFile(path)!.toString().trimEnd().split('\n');

test('a minimal image has root and nobody only; shadow is 0600 without a shadow group', () => {
  const tree = mergedUsrTree(new ImageTree());
  tree.writeFile('usr/bin/sh', '', { mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  const report = configureUsers(context(tree));
  assert.deepEqual(lines(tree, 'etc/passwd'), ['root:x:0:0:root:/root:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin']);
  assert.deepEqual(lines(tree, 'etc/group'), ['root:x:0:', 'nogroup:x:65534:']);
  assert.deepEqual(lines(tree, 'etc/shadow'), ['root:*:20254:0:99999:7:::', 'nobody:*:20254:0:99999:7:::']);
  assert.equal(tree.get('etc/shadow')!.mode, 0o600);
  assert.equal(tree.get('etc/shadow')!.gid, 0);
  assert.deepEqual(report, { effect: 'users', changed: ['/etc', '/etc/group', '/etc/gshadow', '/etc/passwd', '/etc/shadow'], summary: '2 users, 2 groups' });
});

test('static accounts come in when a file is owned by their id, a unit names them, or a conffile does', () => {
  const tree = mergedUsrTree(new ImageTree());
  const pkg = installFake(tree, {
    name: 'svc',
    files: {
      '/usr/bin/chage': { content: 'x', mode: 0o2755, gid: 42 },
      '/usr/lib/systemd/system/svc.service': '[Service]\nUser=daemon\nSupplementaryGroups=audio video\n',
      '/etc/svc/svc.conf': '# comment\nuser www-data;\n',
      '/etc/svc/envvars': 'export SVC_RUN_GROUP=backup\n',
    },
    conffiles: ['/etc/svc/svc.conf', '/etc/svc/envvars'],
  });
  configureUsers(context(tree, [], {}, [pkg]));
  assert.deepEqual(lines(tree, 'etc/passwd').map((l) => l.split(':')[0]), ['root', 'daemon', 'www-data', 'nobody']);
  assert.deepEqual(lines(tree, 'etc/group').map((l) => l.split(':')[0]), ['root', 'daemon', 'audio', 'www-data', 'backup', 'shadow', 'video', 'nogroup']);
  assert.equal(tree.get('etc/shadow')!.mode, 0o640);
  assert.equal(tree.get('etc/shadow')!.gid, 42);
});

test('dynamic ids: sorted names, lowest free from 100, pairs share an id, static ids never reused', () => {
  const tree = mergedUsrTree(new ImageTree());
  configureUsers(
    context(
      tree,
      [
        sys('zeta'),
        sys('alpha', { group: { kind: 'default' } }),
        { kind: 'add-group', name: 'beta', system: true },
        sys('pinned', { uid: 120 }),
        sys('withhome', { home: '/var/lib/withhome', createHome: true, gecos: 'With, Home' }),
        sys('www-data', { home: '/srv/www' }), // a static name: base-passwd's entry wins
        { kind: 'add-member', user: 'zeta', group: 'beta' },
        { kind: 'add-member', user: 'alpha', group: 'beta' },
      ],
      { workloadUser: 'app' },
    ),
  );
  assert.deepEqual(lines(tree, 'etc/passwd'), [
    'root:x:0:0:root:/root:/bin/bash',
    'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
    'alpha:x:100:65534::/nonexistent:/usr/sbin/nologin',
    'app:x:101:101::/nonexistent:/usr/sbin/nologin',
    'withhome:x:103:103:With, Home:/var/lib/withhome:/usr/sbin/nologin',
    'zeta:x:104:104::/nonexistent:/usr/sbin/nologin',
    'pinned:x:120:120::/nonexistent:/usr/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  ]);
  assert.deepEqual(lines(tree, 'etc/group'), ['root:x:0:', 'www-data:x:33:', 'app:x:101:', 'beta:x:102:alpha,zeta', 'withhome:x:103:', 'zeta:x:104:', 'pinned:x:120:', 'nogroup:x:65534:']);
  const home = tree.get('var/lib/withhome')!;
  assert.deepEqual([home.kind, home.mode, home.uid, home.gid], ['dir', 0o755, 103, 103]);
});

test('sysusers.d: explicit ids, uid:group, memberships, masking by /etc, unsupported ids reported', () => {
  const tree = mergedUsrTree(new ImageTree());
  const m = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };
  tree.writeFile('usr/lib/sysusers.d/a.conf', 'g grp 300\nu fixed 301:grp "Fixed user" /var/lib/fixed /bin/sh\nu byfile /usr/bin/x\nm fixed audio\n', m);
  tree.writeFile('usr/lib/sysusers.d/masked.conf', 'u shouldnotexist -\n', m);
  tree.writeFile('etc/sysusers.d/masked.conf', '# masked\n', m);
  const report = configureUsers(context(tree));
  assert.deepEqual(lines(tree, 'etc/passwd').slice(1, -1), ['byfile:x:101:101::/:/usr/sbin/nologin', 'fixed:x:301:300:Fixed user:/var/lib/fixed:/bin/sh']);
  assert.ok(lines(tree, 'etc/group').includes('audio:x:29:fixed'));
  assert.match(report.summary, /sysusers lines not applied: \/usr\/lib\/sysusers\.d\/a\.conf: u byfile \/usr\/bin\/x \(an id taken from a file's owner is allocated dynamically instead\)/);
});

test('requests that cannot be met are marked on their commands', () => {
  const tree = mergedUsrTree(new ImageTree());
  const ctx = context(tree, [
    sys('one', { uid: 33 }),
    sys('two', { group: { kind: 'name', name: 'nosuchgroup' } }),
    { kind: 'add-member', user: 'ghost', group: 'root' },
    { kind: 'add-group', name: 'dupgid', system: true, gid: 0 },
  ]);
  configureUsers(ctx);
  assert.deepEqual(
    ctx.actions.map((r) => r.failed),
    ['uid 33 is already taken', 'group nosuchgroup does not exist', 'user ghost does not exist', 'gid 0 is already taken'],
  );
});

test('a bad workload user name is a JeosError; a numeric one makes no account', () => {
  assert.throws(
    () => configureUsers(context(mergedUsrTree(new ImageTree()), [], { workloadUser: 'Bad Name' })),
    (e: unknown) => e instanceof JeosError && e.code === 'E_CONFIGURE_USER_NAME' && !!e.hint,
  );
  const tree = mergedUsrTree(new ImageTree());
  const report = configureUsers(context(tree, [], { workloadUser: '1000' }));
  assert.match(report.summary, /workload user 1000 is numeric, no account made/);
  assert.equal(lines(tree, 'etc/passwd').length, 2);
});
