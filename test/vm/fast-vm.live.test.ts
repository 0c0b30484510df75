// Live tier: the nginx example as the two lighter VM shapes, from the real archive, booted
// by jeos test --vm under QEMU — vm.root: disk (the OS on an ext4 image on NVMe, no
// initramfs) with systemd and vm.network: networkd (systemd-modules-load and
// systemd-networkd instead of the default BusyBox service), and with vm.init: busybox. Each answers HTTP 200 through the
// forwarded port; a bad command fails the BusyBox VM with nginx's own complaint and the
// workload named in the guest's report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { root } from '../cli/harness.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-fast-vm-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const skip = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status !== 0 && 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';

const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);

/** examples/nginx with outputs [tar, vm] and the given vm: keys, in a directory of its own. */
async function variant(name: string, vm: string, edit: (yaml: string) => string = (y) => y): Promise<string> {
  const dir = join(work, name);
  await cp(join(root, 'examples/nginx'), dir, { recursive: true });
  await rm(join(dir, 'jeos.lock'), { force: true });
  await rm(join(dir, 'out'), { recursive: true, force: true });
  const yaml = (await readFile(join(dir, 'jeos.yaml'), 'utf8')).replace(/^outputs:.*$/m, 'outputs: [tar, vm]');
  await writeFile(join(dir, 'jeos.yaml'), `${edit(yaml)}vm:\n${vm}`);
  return dir;
}

async function vmTest(dir: string, ...extra: string[]): Promise<Record<string, any>> {
  const tested = await jeos('test', dir, '--vm', '--json', ...extra);
  assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
  return JSON.parse(tested.stdout);
}

describe('the nginx example as a disk-root and a BusyBox VM, from the live archive', { skip }, () => {
  after(async () => rm(work, { recursive: true, force: true }));

  test('vm.root: disk with systemd and vm.network: networkd: out/vm/root.img, no initrd.img, HTTP 200 and no failed unit', async () => {
    const dir = await variant('disk', '  root: disk\n  network: networkd\n');
    const built = await jeos('build', dir, '--quiet');
    assert.equal(built.code, 0, built.stderr + built.stdout);
    await access(join(dir, 'out/vm/root.img'));
    await assert.rejects(access(join(dir, 'out/vm/initrd.img')));
    assert.match(await readFile(join(dir, 'out/vm/cmdline'), 'utf8'), /root=\/dev\/nvme0n1 rootfstype=ext4 rw init=\/init/);
    const record = JSON.parse(await readFile(join(dir, 'out/build.json'), 'utf8'));
    assert.match(record.vm.system.network.by, /systemd-networkd/);
    assert.ok(record.vm.system.enabled.includes('systemd-networkd.service'));
    const r = await vmTest(dir);
    assert.equal(r.ok, true);
    assert.match(r.healthcheck.detail, /^HTTP 200 /);
    assert.deepEqual(r.failedUnits, []);
    const fsck = spawnSync('e2fsck', ['-fn', join(dir, 'out/vm/root.img')], { encoding: 'utf8' });
    assert.equal(fsck.status, 0, `the booted image is unchanged and clean (snapshot=on):\n${fsck.stdout}`);
  });

  describe('vm.init: busybox', () => {
    let dir: string;
    before(async () => {
      dir = await variant('busybox', '  init: busybox\n  root: disk\n');
    });

    test('builds without systemd, boots BusyBox init and answers HTTP 200', async () => {
      const built = await jeos('build', dir, '--json');
      assert.equal(built.code, 0, built.stderr + built.stdout);
      const record = JSON.parse(await readFile(join(dir, 'out/build.json'), 'utf8'));
      assert.equal(record.vm.system.init, '/usr/bin/busybox');
      const lock = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
      const vmPackages = lock.vmPackages.map((p: { name: string }) => p.name);
      assert.ok(vmPackages.includes('busybox-static'), vmPackages.join(' '));
      assert.ok(!vmPackages.includes('systemd'), 'no systemd in a BusyBox VM');
      const r = await vmTest(dir);
      assert.equal(r.ok, true);
      assert.match(r.healthcheck.detail, /^HTTP 200 /);
      assert.equal(r.reported, true, 'the boot script reported on the second serial port');
      assert.deepEqual(r.failedUnits, []);
    });

    test('a workload that cannot start fails with its own error, named in the report', async (t) => {
      if (skippedEarlier(t)) return;
      const broken = await variant('busybox-broken', '  init: busybox\n  root: disk\n', (y) => y.replace(/^(\s*command: \[.*)\]\s*$/m, '$1, -X]'));
      const built = await jeos('build', broken, '--quiet', '--offline');
      assert.equal(built.code, 0, built.stderr + built.stdout);
      const tested = await jeos('test', broken, '--vm', '--timeout', '45');
      assert.equal(tested.code, 1, `${tested.stderr}\n${tested.stdout}`);
      assert.match(tested.stdout, /^FAILED: .*nginx\.workload/m);
      assert.match(tested.stdout, /nginx: invalid option: "X"/);
    });
  });
});
