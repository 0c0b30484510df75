import { mkdir as mkdirCommand } from '../maintscripts/file-commands.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageTree } from '../../tree/index.js';
import type { Action } from '../actions.js';
import { context } from '../../../test/support/configure/context.js';
import { mergedUsrTree } from '../../../test/support/configure/packages.js';
import { capabilityXattr } from '../../util/capabilities.js';
import { configureFilesystem } from './filesystem.js';
import type { Accounts } from './context.js';

const ACCOUNTS: Accounts = {
  uid: (n) => ({ root: 0, svc: 110 })[n] ?? (/^\d+$/.test(n) ? Number(n) : undefined),
  gid: (n) => ({ root: 0, adm: 4, svc: 110 })[n] ?? (/^\d+$/.test(n) ? Number(n) : undefined),
  primaryGid: (n) => ({ root: 0, svc: 110 })[n],
};

function run(tree: ImageTree, actions: Action[]) {
  const ctx = context(tree, actions);
  ctx.accounts = ACCOUNTS;
  const report = configureFilesystem(ctx);
  return { report, failed: ctx.actions.map((r) => r.failed) };
}

const m = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };
const show = (tree: ImageTree, path: string): string => {
  const n = tree.get(path);
  if (!n) return 'missing';
  return `${n.kind} ${n.mode.toString(8)} ${n.uid}:${n.gid}${n.kind === 'symlink' ? ` -> ${n.target}` : ''}${n.kind === 'file' ? ` ${JSON.stringify(n.data.toString())}` : ''}`;
};

test('commands are carried out in script order, with owners by name and symbolic modes', () => {
  const tree = mergedUsrTree(new ImageTree());
  tree.mkdirp('etc');
  tree.writeFile('usr/bin/tool', 'x', { ...m, mode: 0o755 });
  const { report, failed } = run(tree, [
    { kind: 'mkdir', paths: ['/var/lib/svc/cache'], parents: true },
    { kind: 'write-file', path: '/var/lib/svc/state', content: 'one\n', append: false },
    { kind: 'write-file', path: '/var/lib/svc/state', content: 'two\n', append: true },
    { kind: 'chown', user: 'svc', loginGroup: true, paths: ['/var/lib/svc'], recursive: true },
    { kind: 'chmod', mode: 'go-rwx,u+s', paths: ['/usr/bin/tool'], recursive: false },
    { kind: 'chmod', mode: 'g+X', paths: ['/var/lib/svc'], recursive: true },
    { kind: 'symlink', target: '../lib/svc', link: '/var/cache', noDereference: false, force: false },
    { kind: 'copy', from: '/var/lib/svc/state', to: '/etc', preserve: true, onlyIfMissing: false },
    { kind: 'move', from: '/etc/state', to: '/etc/state.conf' },
    { kind: 'statoverride', user: 'root', group: 'adm', mode: 0o4750, path: '/usr/bin/tool', update: true },
    // dpkg-statoverride --update only warns when the path does not exist (chrony's /var/log/chrony): recorded.
    { kind: 'statoverride', user: 'root', group: 'adm', mode: 0o750, path: '/var/log/none', update: true },
  ]);
  assert.deepEqual(failed, Array(11).fill(undefined));
  assert.equal(show(tree, 'var/lib/svc'), 'dir 755 110:110');
  assert.equal(show(tree, 'var/lib/svc/cache'), 'dir 755 110:110');
  assert.equal(show(tree, 'var/lib/svc/state'), 'file 644 110:110 "one\\ntwo\\n"');
  assert.equal(show(tree, 'var/cache'), 'symlink 777 0:0 -> ../lib/svc');
  assert.equal(show(tree, 'etc/state.conf'), 'file 644 110:110 "one\\ntwo\\n"');
  assert.equal(show(tree, 'etc/state'), 'missing');
  assert.equal(show(tree, 'usr/bin/tool'), 'file 4750 0:4 "x"');
  assert.equal(tree.readFile('var/lib/dpkg/statoverride')!.toString(), 'root adm 4750 /usr/bin/tool\nroot adm 750 /var/log/none\n');
  assert.equal(show(tree, 'var/log/none'), 'missing');
  assert.deepEqual(report.changed.slice(0, 4), ['/etc/state', '/etc/state.conf', '/usr/bin/tool', '/var/cache']);
  assert.equal(report.summary, '11 script file operations carried out');
});

test('what a real shell would refuse is marked, and the rest goes on', () => {
  const tree = mergedUsrTree(new ImageTree());
  tree.mkdirp('etc/dir');
  tree.writeFile('etc/dir/file', 'x', m);
  tree.writeFile('etc/plain', 'x', m);
  const { report, failed } = run(tree, [
    { kind: 'mkdir', paths: ['/no/parent/here'], parents: false },
    { kind: 'mkdir', paths: ['/etc/plain'], parents: true },
    { kind: 'remove', paths: ['/etc/dir'], recursive: false, dirsOnly: false },
    { kind: 'remove', paths: ['/etc/dir'], recursive: false, dirsOnly: true },
    { kind: 'symlink', target: 'x', link: '/etc/plain', noDereference: false, force: false },
    { kind: 'chown', user: 'nobody-here', paths: ['/etc/plain'], recursive: false },
    { kind: 'chmod', mode: '755', paths: ['/etc/missing'], recursive: false },
    { kind: 'copy', from: '/etc/missing', to: '/etc/copy', preserve: false, onlyIfMissing: false },
    { kind: 'remove', paths: ['/etc/dir'], recursive: true, dirsOnly: false },
  ]);
  assert.deepEqual(failed, [
    'the parent of /no/parent/here does not exist',
    '/etc/plain exists and is not a directory',
    '/etc/dir is a directory',
    '/etc/dir is not empty',
    '/etc/plain already exists',
    'user nobody-here does not exist',
    '/etc/missing does not exist in the image',
    '/etc/missing is not a file in the image',
    undefined,
  ]);
  assert.equal(show(tree, 'etc/dir/file'), 'missing');
  assert.equal(report.summary, '1 script file operations carried out, 8 not (see the script report)');
});

test('setcap writes security.capability as the real setcap does; dpkg-divert --rename moves the file', () => {
  const tree = mergedUsrTree(new ImageTree());
  tree.writeFile('usr/bin/ping', 'x', { ...m, mode: 0o755 });
  tree.writeFile('usr/bin/ip', 'x', { ...m, mode: 0o755 });
  tree.writeFile('usr/bin/old', 'x', { ...m, mode: 0o755 });
  const value = (text: string): Buffer => {
    const v = capabilityXattr(text);
    assert.ok(v, text);
    return v;
  };
  const { failed } = run(tree, [
    { kind: 'setcap', path: '/bin/ping', value: value('cap_net_raw+ep') },
    { kind: 'setcap', path: '/usr/bin/ip', value: value('cap_dac_override,cap_bpf,cap_net_admin=ep') },
    { kind: 'setcap', path: '/usr/bin/ip', value: Buffer.alloc(0) },
    { kind: 'divert', path: '/usr/bin/old', to: '/usr/bin/old.distrib', package: 'other', rename: true },
  ]);
  assert.deepEqual(failed, [undefined, undefined, undefined, undefined]);
  assert.equal(tree.get('usr/bin/ping')!.xattrs!.get('security.capability')!.toString('hex'), '0100000200200000000000000000000000000000');
  assert.equal(tree.get('usr/bin/ip')!.xattrs, undefined);
  assert.equal(tree.get('usr/bin/old'), undefined);
  assert.equal(tree.get('usr/bin/old.distrib')!.kind, 'file');
});

const canSetcap = process.getuid?.() === 0 && spawnSync('setcap', ['-h']).status !== null && spawnSync('python3', ['-c', 'import os; os.getxattr']).status === 0;

test('capability texts encode exactly as setcap(8) writes them', { skip: !canSetcap ? 'needs root, setcap and python3' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'jeos-setcap-'));
  try {
    const file = join(dir, 'f');
    writeFileSync(file, '');
    for (const text of ['cap_net_raw+ep', 'cap_dac_override,cap_bpf,cap_net_admin=ep', 'cap_sys_admin,cap_checkpoint_restore+p', 'all=ep cap_sys_module-ep', 'cap_setuid=i', 'cap_chown+ei cap_kill+ep']) {
      execFileSync('setcap', [text, file]);
      const real = execFileSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], "security.capability").hex())', file]).toString();
      assert.equal(capabilityXattr(text)!.toString('hex'), real, text);
    }
    // What setcap refuses is not understood here either.
    for (const text of ['cap_chown+ei cap_kill=p', 'cap_no_such_thing+ep']) {
      assert.notEqual(spawnSync('setcap', [text, file]).status, 0, text);
      assert.equal(capabilityXattr(text), undefined, text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mkdir -Z (an SELinux context for what is made) is a plain mkdir in an image without labels (valkey-tools: mkdir -pZ /etc/valkey)', () => {
  assert.deepEqual(mkdirCommand(['-pZ', '/etc/valkey']), [{ kind: 'mkdir', paths: ['/etc/valkey'], parents: true }]);
});
