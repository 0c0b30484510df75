import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkloadSchema } from '../config/schema.js';
import { JeosError } from '../errors.js';
import { ImageTree } from '../tree/index.js';
import { workloadUnit } from '../vm/system/units.js';
import { fileCapability } from '../util/capabilities.js';
import { readEnvironmentFiles, unitSetupStep, withFileEnvironment } from './unit-setup.js';
import type { BuildContext, VariantState } from './variant.js';

const meta = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: 0 });

/** An image tree with the accounts _kea (uid 101) and root, a program behind a link, and an /etc/default file. */
function image(): ImageTree {
  const tree = new ImageTree();
  tree.writeFile('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n_kea:x:101:102::/var/lib/kea:/usr/sbin/nologin\n', meta(0o644));
  tree.writeFile('etc/group', 'root:x:0:\n_kea:x:102:\n', meta(0o644));
  tree.writeFile('usr/sbin/kea-dhcp4', Buffer.from('\x7fELF'), meta(0o755));
  tree.symlink('usr/bin/kea', '../sbin/kea-dhcp4', meta(0o777));
  tree.mkdirp('var/lib/kea', meta(0o755));
  tree.writeFile('etc/default/kea', '# comment\nA="one two"\nB=2\n', meta(0o644));
  return tree;
}

function run(variant: 'image' | 'vm', workload: Record<string, unknown>, tree = image()) {
  const ctx = { config: { workload: WorkloadSchema.parse({ packages: ['kea-dhcp4-server'], ...workload }) }, epoch: 0 } as unknown as BuildContext;
  const state = { name: variant, tree, packages: [], workloadFiles: [], timings: {} } as unknown as VariantState;
  return { tree, state, done: unitSetupStep(variant).run(ctx, state) };
}

test('container: the unit\'s directories owned by the user (an existing one keeps its mode unless given), the workdir made, the skeleton of a booted system', async () => {
  const { tree, done } = run('image', {
    command: '/usr/bin/kea -c /etc/kea/kea-dhcp4.conf',
    user: '_kea',
    workdir: '/srv/kea',
    directories: [{ path: '/run/kea', mode: '0750' }, { path: '/var/lib/kea' }, { path: '/etc/kea', owner: 'root' }],
  });
  await done;
  assert.deepEqual(pick(tree, 'run/kea'), { kind: 'dir', mode: 0o750, uid: 101, gid: 102 });
  assert.deepEqual(pick(tree, 'var/lib/kea'), { kind: 'dir', mode: 0o755, uid: 101, gid: 102 });
  assert.deepEqual(pick(tree, 'etc/kea'), { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
  assert.deepEqual(pick(tree, 'srv/kea'), { kind: 'dir', mode: 0o755, uid: 101, gid: 102 });
  assert.deepEqual(pick(tree, 'var/log'), { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
  const link = tree.get('var/run');
  assert.equal(link?.kind === 'symlink' && link.target, '/run');
  assert.equal(tree.get('run/lock')?.mode, 0o1777);
});

test('container: capabilities become the program\'s file capabilities (through its link), only those runtimes grant by default; none for root', async () => {
  const { tree, state, done } = run('image', { command: ['/usr/bin/kea'], user: '_kea', capabilities: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'] });
  assert.match(await done, /\/usr\/sbin\/kea-dhcp4: file capabilities CAP_NET_BIND_SERVICE; left out .*CAP_NET_RAW/);
  assert.deepEqual(tree.get('usr/sbin/kea-dhcp4')!.xattrs!.get('security.capability'), fileCapability(['CAP_NET_BIND_SERVICE']));
  // The same bytes as setcap cap_net_bind_service+ep: revision 2 with the effective flag, bit 10 permitted.
  assert.equal(fileCapability(['CAP_NET_BIND_SERVICE']).toString('hex'), '0100000200040000000000000000000000000000');
  assert.equal(state.environment && Object.keys(state.environment).length, 0);
  const asRoot = run('image', { command: ['/usr/bin/kea'], capabilities: ['CAP_NET_BIND_SERVICE'] });
  await asRoot.done;
  assert.equal(asRoot.tree.get('usr/sbin/kea-dhcp4')!.xattrs, undefined);
  await assert.rejects(run('image', { command: ['/usr/bin/kea'], user: '_kea', capabilities: ['CAP_NOPE'] }).done, (e: unknown) => e instanceof JeosError && e.code === 'E_WORKLOAD_CAPABILITY');
});

test('VM: directories under /run are left to the unit\'s RuntimeDirectory=, which carries them with the capabilities and the environment files', async () => {
  const { tree, done } = run('vm', { command: ['/usr/bin/kea'], user: '_kea', directories: [{ path: '/run/kea', mode: '0750' }, { path: '/var/log/kea' }] });
  await done;
  assert.equal(tree.get('run/kea'), undefined);
  assert.equal(tree.get('var/log/kea')?.uid, 101);
  assert.equal(tree.get('var/run'), undefined, 'systemd makes the skeleton in a VM');
  const unit = workloadUnit({
    description: 'd', command: ['/usr/sbin/kea-dhcp4'], user: '_kea', workdir: '/', env: {}, restart: 'on-failure',
    environmentFiles: ['/etc/default/kea'], runtimeDirectories: [{ path: '/run/kea', mode: '0750' }, { path: '/run/lock/kea', mode: '0750' }], capabilities: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
  });
  assert.match(unit, /\nEnvironmentFile=\/etc\/default\/kea\nRuntimeDirectory=kea lock\/kea\nRuntimeDirectoryMode=0750\nRuntimeDirectoryPreserve=yes\nAmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW\n/);
});

test('environment files: read from the image, later over earlier, over workload.env; a missing one is an error unless written -/path', () => {
  const tree = image();
  tree.writeFile('etc/default/more', 'B=3\n', meta(0o644));
  const env = readEnvironmentFiles(tree, ['/etc/default/kea', '-/etc/default/none', '/etc/default/more']);
  assert.deepEqual(env, { A: 'one two', B: '3' });
  assert.deepEqual(withFileEnvironment({ env: { PATH: '/usr/bin', B: '1', C: 'c' } }, env).env, { PATH: '/usr/bin', B: '3', C: 'c', A: 'one two' });
  assert.throws(() => readEnvironmentFiles(tree, ['/etc/default/none']), (e: unknown) => e instanceof JeosError && e.code === 'E_WORKLOAD_ENV_FILE');
});

function pick(tree: ImageTree, path: string) {
  const n = tree.get(path);
  return n && { kind: n.kind, mode: n.mode, uid: n.uid, gid: n.gid };
}
