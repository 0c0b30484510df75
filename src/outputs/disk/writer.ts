/**
 * `out/disk.img`: a GPT disk that boots under UEFI. The EFI system partition holds
 * systemd-boot (from the locked systemd-boot-efi package, which the VM variant put in
 * the tree's /boot), loader.conf and one Boot Loader Specification Type #1 entry for
 * this version with its kernel and initramfs (the same initramfs the vm output makes)
 * and command line; the /var partition is an empty ext4 file system the guest keeps its
 * state in (docs/disk.md). No root, loop device or mount: the image is written as pieces
 * of a sparse file, and the same inputs give the same bytes (every identifier comes from
 * a digest of the contents).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { bootLoaderTreePath, efiArchOf, findKernel, ImageTree } from '../../tree/index.js';
import { writeInitramfs } from '../cpio/index.js';
import { writeExt4Image } from '../ext4/index.js';
import { treeProgress } from '../tar/writer.js';
import type { DiskImageInfo, OutputFile, OutputResult, OutputWriter } from '../types.js';
import { outsideVmRoot, VM_INITRAMFS_COMPRESSION } from '../vm/writer.js';
import { buildFat32, type FatFile } from './fat32.js';
import { gptPieces, guidFrom, PARTITION_TYPES } from './gpt.js';
import {
  aboutText,
  diskLayout,
  DISK_IMG,
  DISK_QCOW2,
  entryText,
  espBytesFor,
  ESP_LABEL,
  ESP_PART_NAME,
  LOADER_CONF,
  VAR_LABEL,
  VAR_PART_NAME,
  versionPaths,
} from './layout.js';

const SCRATCH = '.disk-scratch';
const CHUNK = 1 << 20;
const ZERO = Buffer.alloc(CHUNK);

interface Piece {
  offset: number;
  data: Buffer;
}

const sha256Of = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The non-zero MiB chunks of a (sparse) file, as pieces at `base`. */
async function nonZeroChunks(path: string, base: number): Promise<Piece[]> {
  const fh = await open(path, 'r');
  const pieces: Piece[] = [];
  try {
    for (let at = 0; ; at += CHUNK) {
      const buf = Buffer.alloc(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, at);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (!chunk.equals(ZERO.subarray(0, bytesRead))) pieces.push({ offset: base + at, data: chunk });
    }
  } finally {
    await fh.close();
  }
  return pieces;
}

/** Write the pieces (sorted, not overlapping) into a new sparse file of `size` bytes; its SHA-256 with holes read as zeros. */
async function writePieces(path: string, size: number, pieces: Piece[], durable: boolean): Promise<{ sha256: string; usedBytes: number }> {
  const hash = createHash('sha256');
  const fh = await open(path, 'wx', 0o644);
  let at = 0;
  let usedBytes = 0;
  const hashZeros = (to: number) => {
    while (at < to) {
      const n = Math.min(CHUNK, to - at);
      hash.update(ZERO.subarray(0, n));
      at += n;
    }
  };
  try {
    for (const p of pieces) {
      if (p.offset < at) throw new Error(`disk writer: bytes at ${p.offset} written twice`);
      hashZeros(p.offset);
      const { bytesWritten } = await fh.write(p.data, 0, p.data.length, p.offset);
      if (bytesWritten !== p.data.length) throw new Error(`short write: ${bytesWritten} of ${p.data.length} bytes`);
      hash.update(p.data);
      at += p.data.length;
      usedBytes += p.data.length;
    }
    if (at > size) throw new Error(`disk writer: ${at} bytes written into a disk of ${size}`);
    hashZeros(size);
    await fh.truncate(size);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), usedBytes };
}

function runTool(cmd: string, args: string[], why: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', (e) =>
      reject(
        (e as NodeJS.ErrnoException).code === 'ENOENT'
          ? new JeosError('E_TOOL_MISSING', `${cmd} is not installed; it is needed to ${why}`, { hint: 'install it: apt-get install qemu-utils' })
          : e,
      ),
    );
    child.on('close', (code) => (code === 0 ? resolve() : reject(new JeosError('E_DISK_CONVERT', `${cmd} failed to ${why}: ${err.trim().split('\n').pop() ?? `status ${code}`}`))));
  });
}

/** The ext4 file system of /var, as large as its partition allows: `upper/` and `work/` for the overlay the guest mounts over the image's /var. */
async function writeVarFs(path: string, bytes: number, epoch: number): Promise<Awaited<ReturnType<typeof writeExt4Image>>> {
  const tree = new ImageTree();
  tree.mkdirp('upper', { mode: 0o755, uid: 0, gid: 0, mtime: epoch });
  tree.mkdirp('work', { mode: 0o755, uid: 0, gid: 0, mtime: epoch });
  // One inode per 16 KiB, as mke2fs gives a general-purpose file system.
  const freeInodes = Math.floor(bytes / 16384);
  let freeBytes = bytes - 8 * 1024 * 1024;
  for (let attempt = 0; attempt < 6; attempt++) {
    await rm(path, { force: true });
    const fs = await writeExt4Image(tree, path, { sourceDateEpoch: epoch, label: VAR_LABEL, freeBytes, freeInodes });
    if (fs.size <= bytes) return fs;
    freeBytes -= fs.size - bytes + 4096;
  }
  throw new Error(`the /var file system does not fit its partition of ${bytes} bytes`);
}

export const diskWriter: OutputWriter = {
  format: 'disk',
  check(image) {
    if (!image.vm || !image.disk) {
      throw new JeosError('E_OUTPUT_DISK_SPEC', 'a disk output needs the kernel command line and the version', { hint: 'build disk images with jeos build, which sets them' });
    }
    efiArchOf(image.architecture);
  },
  async write(tree, image, ctx): Promise<OutputResult> {
    const spec = image.disk!;
    const efiArch = efiArchOf(image.architecture);
    const kernel = findKernel(tree);
    const vmlinuz = tree.readFile(kernel.vmlinuzPath);
    if (!vmlinuz) throw new JeosError('E_VM_NO_KERNEL', `/${kernel.vmlinuzPath} is not a regular file`);
    const loader = tree.readFile(bootLoaderTreePath(efiArch));
    if (!loader) {
      throw new JeosError('E_DISK_NO_BOOT_LOADER', `the VM tree has no systemd-boot (/${bootLoaderTreePath(efiArch)})`, {
        hint: 'the lock must hold systemd-boot-efi: run jeos lock (disk among the outputs adds it), then build again',
      });
    }
    const scratch = ctx.staging.path(SCRATCH);
    await mkdir(scratch);
    try {
      const inBoot = (path: string) => path === kernel.vmlinuzPath || outsideVmRoot(path);
      const initrdPath = join(scratch, 'initrd');
      await writeInitramfs(tree, initrdPath, {
        sourceDateEpoch: ctx.sourceDateEpoch,
        compression: image.vm!.compression ?? VM_INITRAMFS_COMPRESSION,
        level: image.vm!.level,
        exclude: inBoot,
        onData: treeProgress(tree, 'disk', ctx),
      });
      const initrd = await readFile(initrdPath);
      const cmdline = `${image.vm!.cmdline.trim()} jeos.version=${spec.version}`;
      const paths = versionPaths(spec.version);
      const espFiles: FatFile[] = [
        { path: `EFI/BOOT/BOOT${efiArch.toUpperCase()}.EFI`, data: loader },
        { path: `EFI/systemd/systemd-boot${efiArch}.efi`, data: loader },
        { path: 'loader/loader.conf', data: Buffer.from(LOADER_CONF) },
        // The entries directory holds Type #1 entries (what bootctl and kernel-install look for).
        { path: 'loader/entries.srel', data: Buffer.from('type1\n') },
        { path: paths.entry, data: Buffer.from(entryText({ name: image.name, version: spec.version, efiArch, cmdline })) },
        { path: paths.linux, data: vmlinuz },
        { path: paths.initrd, data: initrd },
        {
          path: paths.about,
          data: Buffer.from(aboutText({ name: image.name, version: spec.version, lockDigest: spec.lockDigest ?? null, sourceDateEpoch: ctx.sourceDateEpoch, kernelVersion: kernel.version })),
        },
      ];

      const espBytes = espBytesFor(vmlinuz.length + initrd.length);
      const layout = diskLayout(spec.sizeBytes, espBytes);
      const seed = createHash('sha256').update(`jeos disk\0${image.name}\0${spec.version}\0${spec.sizeBytes}\0`);
      for (const f of espFiles) seed.update(`${f.path}\0${sha256Of(f.data)}\0`);
      const digest = seed.digest();
      const id = (what: string) => createHash('sha256').update(digest).update(what).digest();
      const guids = { disk: guidFrom(id('disk')), esp: guidFrom(id('esp')), var: guidFrom(id('var')) };
      const volumeId = id('fat').readUInt32LE(0);

      const fat = buildFat32(espFiles, {
        sectors: layout.esp.last - layout.esp.first + 1,
        hiddenSectors: layout.esp.first,
        volumeId,
        label: ESP_LABEL,
        time: ctx.sourceDateEpoch,
      });
      const varBytes = (layout.var.last - layout.var.first + 1) * 512;
      const varPath = join(scratch, 'var.ext4');
      const varFs = await writeVarFs(varPath, varBytes, ctx.sourceDateEpoch);

      const pieces: Piece[] = [
        ...gptPieces(layout.sectors, guids.disk, [
          { type: PARTITION_TYPES.esp, guid: guids.esp, first: layout.esp.first, last: layout.esp.last, name: ESP_PART_NAME },
          { type: PARTITION_TYPES.var, guid: guids.var, first: layout.var.first, last: layout.var.last, name: VAR_PART_NAME },
        ]),
        ...fat.pieces.map((p) => ({ offset: layout.esp.first * 512 + p.offset, data: p.data })),
        ...(await nonZeroChunks(varPath, layout.var.first * 512)),
      ].sort((a, b) => a.offset - b.offset);
      const rawPath = ctx.staging.path(DISK_IMG);
      let raw;
      try {
        raw = await writePieces(rawPath, spec.sizeBytes, pieces, ctx.durable ?? false);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') await rm(rawPath, { force: true });
        throw e;
      }
      ctx.onEvent?.({ kind: 'output-progress', format: 'disk', done: 1, total: 1 });

      const files: OutputFile[] = [{ path: DISK_IMG, size: spec.sizeBytes, sha256: raw.sha256 }];
      const conversions: DiskImageInfo['conversions'] = [];
      if (spec.formats.includes('qcow2')) {
        const qcow2 = ctx.staging.path(DISK_QCOW2);
        await runTool('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', rawPath, qcow2], 'convert disk.img to qcow2');
        const data = await readFile(qcow2);
        files.push({ path: DISK_QCOW2, size: data.length, sha256: sha256Of(data) });
        conversions.push({ format: 'qcow2', path: DISK_QCOW2, size: data.length });
      }
      const hex = volumeId.toString(16).padStart(8, '0').toUpperCase();
      return {
        format: 'disk',
        path: DISK_IMG,
        files,
        disk: {
          version: spec.version,
          size: spec.sizeBytes,
          usedBytes: raw.usedBytes,
          diskGuid: guids.disk,
          esp: { ...layout.esp, guid: guids.esp, clusterSize: fat.clusterSize, freeBytes: fat.freeClusters * fat.clusterSize, volumeId: `${hex.slice(0, 4)}-${hex.slice(4)}` },
          var: { ...layout.var, guid: guids.var, uuid: varFs.uuid, label: VAR_LABEL, size: varFs.size },
          entry: paths.entry,
          espFiles: espFiles.map((f) => ({ path: f.path, size: f.data.length, sha256: sha256Of(f.data) })),
          kernelVersion: kernel.version,
          cmdline,
          conversions,
        },
      };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  },
};
