/**
 * `out/vm/`: what `qemu -kernel vmlinuz -initrd initrd.img -append "$(cat cmdline)"`
 * boots. The kernel comes out of the tree's /boot; everything else, the kernel's
 * trimmed modules included, goes into the initramfs, which is the whole OS — or,
 * with vm.root: disk, into `root.img`, an ext4 image the kernel mounts from an
 * NVMe drive (no initramfs at all).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { findKernel } from '../../tree/index.js';
import { writeInitramfs } from '../cpio/index.js';
import { writeExt4Image } from '../ext4/index.js';
import { hashChunks } from '../sink.js';
import type { OutputFile, OutputResult, OutputWriter } from '../types.js';
import { treeProgress } from '../tar/writer.js';

export const VM_DIR = 'vm';
export const VMLINUZ = 'vmlinuz';
export const INITRD = 'initrd.img';
export const CMDLINE = 'cmdline';
export const ROOT_IMG = 'root.img';

/**
 * The initramfs is LZ4 unless asked otherwise: the kernel unpacks it about as fast as an
 * uncompressed one, sooner than zstd, for a somewhat larger file (docs/vm.md, "Why LZ4").
 */
export const VM_INITRAMFS_COMPRESSION = 'lz4' as const;

/**
 * /boot stays out of the VM's root file system: the boot loader (QEMU) loads the kernel
 * from out/vm/vmlinuz, and a second copy in RAM would only cost memory.
 */
export function outsideVmRoot(path: string): boolean {
  return path === 'boot' || path.startsWith('boot/');
}

function fileOf(path: string, data: Buffer, mediaType?: string): OutputFile {
  const digest = hashChunks([data]);
  return { path, size: digest.size, sha256: digest.sha256, ...(mediaType ? { mediaType } : {}) };
}

export const vmWriter: OutputWriter = {
  format: 'vm',
  check(image) {
    if (!image.vm) {
      throw new JeosError('E_OUTPUT_VM_SPEC', 'a vm output needs the kernel command line', { hint: 'build VM images with jeos build, which sets it' });
    }
  },
  async write(tree, image, ctx): Promise<OutputResult> {
    const kernel = findKernel(tree);
    const vmlinuz = tree.readFile(kernel.vmlinuzPath);
    if (!vmlinuz) throw new JeosError('E_VM_NO_KERNEL', `/${kernel.vmlinuzPath} is not a regular file`, { hint: 'the kernel package is damaged, or workload.files replaced its file: check vm.kernel and workload.files' });
    const dir = ctx.staging.path(VM_DIR);
    await mkdir(dir);
    const cmdline = `${image.vm!.cmdline.trim()}\n`;
    await writeFile(join(dir, VMLINUZ), vmlinuz, { flag: 'wx', mode: 0o644, flush: ctx.durable ?? false });
    await writeFile(join(dir, CMDLINE), cmdline, { flag: 'wx', mode: 0o644, flush: ctx.durable ?? false });
    const inBoot = (path: string) => path === kernel.vmlinuzPath || outsideVmRoot(path);
    const onData = treeProgress(tree, 'vm', ctx);
    const kernelFiles = [fileOf(`${VM_DIR}/${VMLINUZ}`, vmlinuz), fileOf(`${VM_DIR}/${CMDLINE}`, Buffer.from(cmdline))];
    if (image.vm!.root === 'disk') {
      const disk = await writeExt4Image(tree, join(dir, ROOT_IMG), { sourceDateEpoch: ctx.sourceDateEpoch, exclude: inBoot, durable: ctx.durable, onData });
      return {
        format: 'vm',
        path: VM_DIR,
        files: [...kernelFiles, { path: `${VM_DIR}/${ROOT_IMG}`, size: disk.size, sha256: disk.sha256 }],
        vm: {
          kernelVersion: kernel.version,
          cmdline: cmdline.trim(),
          disk: {
            format: 'ext4',
            size: disk.size,
            usedBytes: disk.usedBytes,
            inodes: disk.inodes,
            usedInodes: disk.usedInodes,
            uuid: disk.uuid,
            xattrsDropped: disk.xattrsDropped,
          },
        },
      };
    }
    const initrd = await writeInitramfs(tree, join(dir, INITRD), {
      sourceDateEpoch: ctx.sourceDateEpoch,
      compression: image.vm!.compression ?? VM_INITRAMFS_COMPRESSION,
      level: image.vm!.level,
      exclude: inBoot,
      durable: ctx.durable,
      onData,
    });
    return {
      format: 'vm',
      path: VM_DIR,
      files: [kernelFiles[0]!, { path: `${VM_DIR}/${INITRD}`, size: initrd.size, sha256: initrd.sha256 }, kernelFiles[1]!],
      vm: {
        kernelVersion: kernel.version,
        cmdline: cmdline.trim(),
        initrd: {
          compression: initrd.compression,
          level: initrd.level,
          size: initrd.size,
          uncompressedSize: initrd.uncompressedSize,
          uncompressedSha256: initrd.uncompressedSha256,
          entries: initrd.entries,
          xattrsDropped: initrd.xattrsDropped,
        },
      },
    };
  },
};
