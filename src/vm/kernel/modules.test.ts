/**
 * Kernel and module selection on a synthetic kernel package: exact closures, names
 * with - and _, built-in modules, soft and weak dependencies, unknown names, and
 * what trimming leaves in the tree.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImageTree } from '../../tree/index.js';
import { DEFAULT_MODULES, findKernel, selectKernelModules, similarNames, trimKernelModules } from '../index.js';
import { syntheticKernelTree, TEST_VERSION } from '../../../test/support/vm/test-kernel.js';

const DIR = `usr/lib/modules/${TEST_VERSION}`;
const FS = ['erofs', 'squashfs', 'overlay'];

describe('findKernel', () => {
  test('finds the version, the kernel image and the modules directory', () => {
    assert.deepEqual(findKernel(syntheticKernelTree()), { version: TEST_VERSION, vmlinuzPath: `boot/vmlinuz-${TEST_VERSION}`, modulesDir: DIR });
  });

  test("bookworm's lib/modules is the same directory in a merged-/usr tree", () => {
    assert.equal(findKernel(syntheticKernelTree({ layout: 'lib' })).modulesDir, DIR);
  });

  test('no kernel, or two without a version chosen, is an error with a hint', () => {
    assert.throws(() => findKernel(new ImageTree()), (e: { code: string; hint: string }) => e.code === 'E_VM_NO_KERNEL' && /linux-image-cloud-amd64/.test(e.hint));
    const two = syntheticKernelTree();
    two.writeFile('boot/vmlinuz-6.1.0-1-cloud-amd64', 'old');
    assert.throws(() => findKernel(two), { code: 'E_VM_KERNEL_AMBIGUOUS', message: /6\.1\.0-1-cloud-amd64, 6\.12\.0-9-cloud-amd64/ });
    assert.deepEqual(findKernel(two, { version: '6.1.0-1-cloud-amd64' }), { version: '6.1.0-1-cloud-amd64', vmlinuzPath: 'boot/vmlinuz-6.1.0-1-cloud-amd64' });
    assert.throws(() => findKernel(two, { version: '7.0' }), { code: 'E_VM_NO_KERNEL' });
  });
});

describe('selectKernelModules', () => {
  test('the default set plus filesystems: exact closure, reasons, built-ins, unresolved weak dependency', async () => {
    const s = await selectKernelModules(syntheticKernelTree(), TEST_VERSION, [...DEFAULT_MODULES, ...FS]);
    assert.deepEqual(
      s.keep.map((k) => [k.name, k.why.join('; ')]),
      [
        ['erofs', 'wanted'],
        ['failover', 'needed by net_failover'],
        ['libcrc32c', 'needed by erofs'],
        ['lz4', 'soft dependency of erofs'],
        ['lz4_compress', 'needed by lz4'],
        ['net_failover', 'needed by virtio_net'],
        ['overlay', 'wanted'],
        ['squashfs', 'wanted'],
        ['virtio_blk', 'wanted'],
        ['virtio_net', 'wanted'],
        ['virtio_rng', 'wanted'],
      ],
    );
    assert.equal(s.keep.find((k) => k.name === 'virtio_rng')!.path, `${DIR}/kernel/drivers/char/hw_random/virtio-rng.ko.xz`);
    assert.deepEqual(s.builtin, ['virtio_console', 'virtio_pci']);
    assert.deepEqual(s.unresolved, [{ module: 'erofs', kind: 'weakdep', target: 'xxhash_gone' }]);
    assert.deepEqual(
      s.drop.map((p) => p.slice(DIR.length + 1)),
      [
        'kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz',
        'kernel/drivers/scsi/scsi_mod.ko.xz',
        'kernel/drivers/scsi/virtio_scsi.ko.xz',
        'kernel/fs/fuse/fuse.ko.xz',
        'updates/zzz_extra.ko',
      ],
    );
  });

  test('- and _ are the same in names; a module wanted twice is kept once with both reasons', async () => {
    const s = await selectKernelModules(syntheticKernelTree(), TEST_VERSION, ['virtio-rng', 'virtio_rng', 'net-failover', 'virtio_net']);
    assert.deepEqual(
      s.keep.map((k) => [k.name, k.why]),
      [
        ['failover', ['needed by net_failover']],
        ['net_failover', ['wanted', 'needed by virtio_net']],
        ['virtio_net', ['wanted']],
        ['virtio_rng', ['wanted']],
      ],
    );
  });

  test('without soft dependencies, only depends= is followed', async () => {
    const s = await selectKernelModules(syntheticKernelTree(), TEST_VERSION, ['erofs'], { softDependencies: false });
    assert.deepEqual(
      s.keep.map((k) => k.name),
      ['erofs', 'libcrc32c'],
    );
    assert.deepEqual(s.unresolved, []);
  });

  test('firmware a kept module may load is reported', async () => {
    const s = await selectKernelModules(syntheticKernelTree(), TEST_VERSION, ['e1000']);
    assert.deepEqual(s.keep[0]!.firmware, ['e1000/none.bin']);
  });

  test('unknown names are one error listing close names', async () => {
    await assert.rejects(selectKernelModules(syntheticKernelTree(), TEST_VERSION, ['virtio_nte', 'ext5', 'virtio-scs']), (e: { code: string; message: string; hint: string; details: string[] }) => {
      assert.equal(e.code, 'E_VM_MODULE_UNKNOWN');
      assert.match(e.message, /no module "virtio_nte", "ext5", "virtio-scs"/);
      assert.match(e.hint, /- and _ are the same/);
      assert.deepEqual(e.details, ['virtio_nte: did you mean virtio_net?', 'ext5: no module with a similar name', 'virtio-scs: did you mean virtio_scsi?']);
      return true;
    });
  });

  test('similar names: a few edits away first, then names containing it', () => {
    assert.deepEqual(similarNames('virtio', ['virtio_net', 'virtio_blk', 'virtio', 'e1000']), ['virtio', 'virtio_blk', 'virtio_net']);
    assert.deepEqual(similarNames('ovelray', ['overlay', 'squashfs']), ['overlay']);
  });

  test('a kernel version without a modules directory is an error', async () => {
    await assert.rejects(selectKernelModules(syntheticKernelTree(), '6.0-other', ['virtio_net']), { code: 'E_VM_NO_MODULES' });
  });
});

describe('trimKernelModules', () => {
  test('drops the other modules and their empty directories, cuts modules.order, writes modules.dep', async () => {
    const tree = syntheticKernelTree();
    const r = await trimKernelModules(tree, TEST_VERSION, [...DEFAULT_MODULES, ...FS]);
    for (const path of r.drop) assert.equal(tree.get(path), undefined, `${path} removed`);
    for (const k of r.keep) assert.equal(tree.get(k.path)?.kind, 'file', `${k.path} kept`);
    for (const gone of ['kernel/drivers/scsi', 'kernel/fs/fuse', 'kernel/drivers/net/ethernet', 'updates']) assert.equal(tree.get(`${DIR}/${gone}`), undefined, `${gone}/ removed`);
    assert.deepEqual(
      r.removedDirs.map((d) => d.slice(DIR.length + 1)),
      ['updates', 'kernel/fs/fuse', 'kernel/drivers/scsi', 'kernel/drivers/net/ethernet/intel/e1000', 'kernel/drivers/net/ethernet/intel', 'kernel/drivers/net/ethernet'],
    );
    assert.equal(tree.get(`${DIR}/kernel/drivers/net`)?.kind, 'dir');
    assert.ok(r.droppedBytes > 0);
    assert.equal(
      tree.readFile(`${DIR}/modules.order`)!.toString(),
      [
        'kernel/lib/lz4/lz4_compress.ko',
        'kernel/crypto/lz4.ko',
        'kernel/lib/libcrc32c.ko',
        'kernel/net/core/failover.ko',
        'kernel/drivers/net/net_failover.ko',
        'kernel/drivers/net/virtio_net.ko',
        'kernel/drivers/block/virtio_blk.ko',
        'kernel/drivers/char/hw_random/virtio-rng.ko',
        'kernel/fs/erofs/erofs.ko',
        'kernel/fs/squashfs/squashfs.ko',
        'kernel/fs/overlayfs/overlay.ko',
        '',
      ].join('\n'),
    );
    // modules.order order; every module's dependencies, all of them, users before what they use.
    assert.equal(
      tree.readFile(`${DIR}/modules.dep`)!.toString(),
      [
        'kernel/lib/lz4/lz4_compress.ko.xz:',
        'kernel/crypto/lz4.ko.xz: kernel/lib/lz4/lz4_compress.ko.xz',
        'kernel/lib/libcrc32c.ko.xz:',
        'kernel/net/core/failover.ko.zst:',
        'kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.zst',
        'kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.zst',
        'kernel/drivers/block/virtio_blk.ko:',
        'kernel/drivers/char/hw_random/virtio-rng.ko.xz:',
        'kernel/fs/erofs/erofs.ko.xz: kernel/lib/libcrc32c.ko.xz',
        'kernel/fs/squashfs/squashfs.ko.xz:',
        'kernel/fs/overlayfs/overlay.ko.xz:',
        '',
      ].join('\n'),
    );
    assert.equal(
      tree.readFile(`${DIR}/modules.softdep`)!.toString(),
      '# Soft dependencies extracted from modules themselves.\nsoftdep libcrc32c pre: crc32c\nsoftdep virtio_blk pre: crypto-crc32c\nsoftdep erofs pre: crypto-lz4\n',
    );
    assert.deepEqual(
      r.written.map((p) => p.slice(DIR.length + 1)),
      [
        'modules.dep',
        'modules.dep.bin',
        'modules.alias',
        'modules.alias.bin',
        'modules.softdep',
        'modules.weakdep',
        'modules.symbols',
        'modules.symbols.bin',
        'modules.builtin.bin',
        'modules.builtin.alias.bin',
        'modules.devname',
      ],
    );
    const dep = tree.get(`${DIR}/modules.dep`)!;
    assert.deepEqual([dep.mode, dep.uid, dep.gid, dep.mtime], [0o644, 0, 0, 1_700_000_000], 'root-owned, 0644, the package time');
    assert.equal(tree.readFile(`${DIR}/modules.devname`)!.length, 0, 'no kept module has a device node');
  });

  test('trimming is deterministic: the same tree and names give the same files', async () => {
    const files = async () => {
      const tree = syntheticKernelTree();
      await trimKernelModules(tree, TEST_VERSION, ['fuse', 'virtio_net', 'zzz_extra']);
      return tree
        .entries()
        .filter(([p]) => p.startsWith(DIR))
        .map(([p, n]) => [p, n.kind === 'file' ? n.data.toString('hex') : n.kind]);
    };
    assert.deepEqual(await files(), await files());
  });
});
