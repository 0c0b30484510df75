// jeos lock for a VM image: the init (and libkmod, which it loads modules with) joins the request and the kernel is locked on its own,
// followed through its meta package, without the tools a kernel installs with.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHarness, trixieRepo, type Harness } from './harness.js';

describe('jeos lock with a vm output', () => {
  let h: Harness;
  let dir: string;
  const yaml = (outputs: string) => `name: app\ndebian:\n  suites: [trixie, trixie-security]\nworkload:\n  packages: [app]\noutputs: [${outputs}]\n`;

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [
          { name: 'app', version: '1', depends: 'libc' },
          { name: 'libc', version: '2.41-1' },
          { name: 'systemd', version: '257-1', depends: 'libc', provides: 'systemd-sysusers', installedSizeKiB: 9000 },
          { name: 'systemd-standalone-sysusers', version: '257-1', depends: 'libc', provides: 'systemd-sysusers', conflicts: 'systemd-sysusers' },
          { name: 'sysusers-app', version: '1', depends: 'libc, systemd | systemd-standalone-sysusers' },
          { name: 'kmod', version: '34-1', depends: 'libc, libkmod2' },
          { name: 'libkmod2', version: '34-1', depends: 'libc' },
          { name: 'busybox', version: '1:1.37.0-6', depends: 'libc', conflicts: 'busybox-static', replaces: 'busybox-static' },
          { name: 'busybox-static', version: '1:1.37.0-6', conflicts: 'busybox', replaces: 'busybox', provides: 'busybox' },
          { name: 'shell-tools', version: '1', depends: 'busybox' },
          { name: 'linux-image-cloud-amd64', version: '6.12.1-1', depends: 'linux-image-6.12.1-cloud-amd64 (= 6.12.1-1)' },
          { name: 'linux-image-6.12.1-cloud-amd64', version: '6.12.1-1', depends: 'kmod, linux-base', installedSizeKiB: 90000 },
          { name: 'linux-base', version: '4.12', depends: 'libc' },
        ],
        [],
      ),
    );
    dir = join(h.work, 'vm');
    await mkdir(dir);
  });
  after(async () => {
    await h?.close();
  });

  test('a VM image locks systemd as its init, libkmod and the static BusyBox (which load the modules and take the lease) apart from the image\'s packages, and the kernel package alone', async () => {
    await writeFile(join(dir, 'jeos.yaml'), yaml('tar, vm'));
    const r = await h.jeos('lock', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kernel for the VM image: linux-image-6\.12\.1-cloud-amd64 6\.12\.1-1 \(trixie;/m);
    const lock = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
    assert.deepEqual(lock.request.packages, ['app']);
    assert.deepEqual(lock.packages.map((p: { name: string }) => p.name), ['app', 'libc'], 'the container image is the workload\'s closure alone');
    assert.deepEqual(lock.vmPackages.map((p: { name: string }) => p.name), ['busybox-static', 'libkmod2', 'systemd'], 'no kmod, linux-base or kernel among the VM\'s packages, nor the image\'s own');
    assert.deepEqual(lock.vmPackages.find((p: { name: string }) => p.name === 'systemd').neededBy, ['vm']);
    assert.match(r.stdout, /^the VM image adds 3 packages \(.*\): busybox-static, libkmod2, systemd$/m);
    assert.equal(lock.kernel.name, 'linux-image-6.12.1-cloud-amd64');
    assert.match(lock.kernel.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(lock.kernel.neededBy, ['vm.kernel: linux-image-cloud-amd64']);
  });

  test('when the image\'s own packages hold the dynamically linked busybox, the VM uses it and adds no busybox-static, which would conflict', async () => {
    await writeFile(join(dir, 'jeos.yaml'), yaml('tar, vm').replace('packages: [app]', 'packages: [app, shell-tools]'));
    const r = await h.jeos('lock', dir);
    assert.equal(r.code, 0, r.stderr);
    const lock = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
    assert.ok(lock.packages.some((p: { name: string }) => p.name === 'busybox'), 'the image has busybox');
    assert.deepEqual(lock.vmPackages.map((p: { name: string }) => p.name), ['libkmod2', 'systemd']);
    const why = await h.jeos('why', 'libc', dir, '--json');
    assert.equal(JSON.parse(why.stdout).lockState, 'fresh', 'the image\'s busybox counts for the VM');
  });

  test('vm.network: networkd locks no BusyBox, and changing vm.network makes the lock stale', async () => {
    await writeFile(join(dir, 'jeos.yaml'), `${yaml('tar, vm')}vm:\n  network: networkd\n`);
    const r = await h.jeos('lock', dir);
    assert.equal(r.code, 0, r.stderr);
    const lock = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
    assert.deepEqual(lock.vmPackages.map((p: { name: string }) => p.name), ['libkmod2', 'systemd']);
    await writeFile(join(dir, 'jeos.yaml'), yaml('tar, vm'));
    const why = await h.jeos('why', 'libc', dir, '--json');
    assert.equal(JSON.parse(why.stdout).lockState, 'stale');
  });

  test('without a vm output the same config locks no kernel, and vm: settings do not make that lock stale', async () => {
    await writeFile(join(dir, 'jeos.yaml'), yaml('tar'));
    assert.equal((await h.jeos('lock', dir)).code, 0);
    const lock = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
    assert.equal(lock.kernel, undefined);
    assert.deepEqual(lock.request.packages, ['app']);
    await writeFile(join(dir, 'jeos.yaml'), `${yaml('tar')}vm:\n  kernel: linux-image-other\n  memory: 512\n`);
    const why = await h.jeos('why', 'libc', dir, '--json');
    assert.equal(JSON.parse(why.stdout).lockState, 'fresh');
  });

  test('when the image\'s smallest set conflicts with the VM\'s systemd (systemd-standalone-sysusers for an alternative), the two are resolved together: the image takes systemd, the VM adds the rest, and lock says so', async () => {
    await writeFile(join(dir, 'jeos.yaml'), yaml('tar').replace('packages: [app]', 'packages: [sysusers-app]'));
    assert.equal((await h.jeos('lock', dir)).code, 0);
    const alone = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
    assert.deepEqual(alone.packages.map((p: { name: string }) => p.name), ['libc', 'systemd-standalone-sysusers', 'sysusers-app'], 'without a VM the container takes the smaller alternative');
    await writeFile(join(dir, 'jeos.yaml'), yaml('tar, vm').replace('packages: [app]', 'packages: [sysusers-app]'));
    const r = await h.jeos('lock', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^note: the image and the VM were resolved together: the VM's packages conflict with systemd-standalone-sysusers, so the image has systemd instead$/m);
    const lock = JSON.parse(await readFile(join(dir, 'jeos.lock'), 'utf8'));
    assert.deepEqual(lock.packages.map((p: { name: string }) => p.name), ['libc', 'systemd', 'sysusers-app']);
    assert.deepEqual(lock.packages.find((p: { name: string }) => p.name === 'systemd').neededBy, ['sysusers-app: systemd | systemd-standalone-sysusers'], 'systemd is the image\'s for the alternative, not a request');
    assert.deepEqual(lock.vmPackages.map((p: { name: string }) => p.name), ['busybox-static', 'libkmod2']);
    const why = await h.jeos('why', 'libc', dir, '--json');
    assert.equal(JSON.parse(why.stdout).lockState, 'fresh');
  });

  test('an unknown kernel package is named, with a hint', async () => {
    await writeFile(join(dir, 'jeos.yaml'), `${yaml('vm')}vm:\n  kernel: linux-image-nonesuch\n`);
    const r = await h.jeos('lock', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[E_KERNEL_NOT_FOUND\]: no kernel package linux-image-nonesuch for amd64/);
    assert.match(r.stderr, /hint: set vm\.kernel/);
  });
});
