import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { readVmImage } from './image.js';

describe('the VM image in out/vm', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jeos-vm-image-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('missing files are named, with the build command as the hint', async () => {
    await writeFile(join(dir, 'vmlinuz'), 'k');
    await assert.rejects(readVmImage(dir, 'examples/nginx'), (e: JeosError) => {
      assert.equal(e.code, 'E_VM_NO_IMAGE');
      assert.match(e.message, /missing initrd\.img, cmdline/);
      assert.match(e.hint!, /jeos build examples\/nginx --format vm/);
      return true;
    });
  });

  test('the command line is read as one line, whitespace trimmed', async () => {
    await writeFile(join(dir, 'initrd.img'), 'i');
    await writeFile(join(dir, 'cmdline'), '  console=ttyS0 panic=-1\n  systemd.show_status=1\n');
    const image = await readVmImage(dir);
    assert.equal(image.cmdline, 'console=ttyS0 panic=-1 systemd.show_status=1');
    assert.equal(image.kernel, join(dir, 'vmlinuz'));
    assert.equal(image.initrd, join(dir, 'initrd.img'));
    assert.equal(image.disk, undefined);
  });

  test('with root.img (vm.root: disk) the OS is on the disk and no initrd.img is needed', async () => {
    const diskDir = await mkdtemp(join(tmpdir(), 'jeos-vm-disk-'));
    try {
      await writeFile(join(diskDir, 'vmlinuz'), 'k');
      await writeFile(join(diskDir, 'cmdline'), 'root=/dev/nvme0n1\n');
      await writeFile(join(diskDir, 'root.img'), 'ext4');
      const image = await readVmImage(diskDir);
      assert.equal(image.disk, join(diskDir, 'root.img'));
      assert.equal(image.initrd, undefined);
    } finally {
      await rm(diskDir, { recursive: true, force: true });
    }
  });
});
