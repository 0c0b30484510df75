/**
 * What a target is, from what it holds rather than its name, and reading it: a
 * directory (an unpacked root, or an OCI layout), a file (tar or newc cpio, plain or
 * gzip/zstd/LZ4; an ext4 image), or `container:NAME`.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { Collector } from './collect.js';
import { NewcReader } from './newc-reader.js';
import { CONTAINER_PREFIX, exportContainer, inspectContainer, runningState } from './read-container.js';
import { readDirectory } from './read-directory.js';
import { readDiskInitrd } from './read-disk.js';
import { readExt4 } from './read-ext4.js';
import { readOci } from './read-oci.js';
import { readVm, VM_PREFIX } from './read-vm.js';
import { compressionOf, plainStream, readHead } from './stream.js';
import { TarReader } from './tar-reader.js';
import type { Observed } from './types.js';

export interface ReadOptions {
  /** The baseline's size of a file path, so a reader may skip hashing a file whose size differs. */
  sizeOf: (path: string) => number | undefined;
  /** The build's Debian architecture (picks the image of a multi-platform OCI index). */
  architecture: string;
}

export interface ReadTarget extends Observed {
  /** The OCI manifest digest (OCI layouts) or the image digest podman ran (containers). */
  imageDigest?: string;
  /** A running VM: the guest agent's pid (it and its children answer the audit). */
  agentPid?: number;
  /** SHA-256 of the jeos.lock the target says it was built from (a disk's version, a VM jeos run started). */
  lockDigest?: string;
}

function notImage(target: string, why: string, hint?: string): JeosError {
  return new JeosError('E_AUDIT_NOT_IMAGE', `${target} is not an image: ${why}`, {
    hint: hint ?? 'pass an unpacked root directory, a rootfs tar, an OCI layout (out/oci), an initramfs (out/vm/initrd.img, with --vm), a root.img or disk.img (with --vm), container:NAME or vm:NAME',
  });
}

const exists = (path: string) => stat(path).then(() => true, () => false);

const isExt4 = (head: Buffer) => head.length >= 1082 && head.readUInt16LE(1080) === 0xef53;
const isTar = (head: Buffer) => head.length >= 263 && head.toString('latin1', 257, 262) === 'ustar';
const isNewc = (head: Buffer) => head.toString('latin1', 0, 6) === '070701';
const isGpt = (head: Buffer) => head.length >= 520 && head.toString('latin1', 512, 520) === 'EFI PART';
const isQcow2 = (head: Buffer) => head.length >= 4 && head.readUInt32BE(0) === 0x514649fb;

export async function readTarget(target: string, options: ReadOptions): Promise<ReadTarget> {
  if (target.startsWith(CONTAINER_PREFIX)) {
    const name = target.slice(CONTAINER_PREFIX.length);
    const info = await inspectContainer(name);
    const running = await runningState(name, info.pid);
    const tree = await exportContainer(name);
    return { kind: 'container', entries: tree.entries, dpkgStatus: tree.dpkgStatus, running, imageDigest: info.imageDigest };
  }
  if (target.startsWith(VM_PREFIX)) {
    const vm = await readVm(target.slice(VM_PREFIX.length));
    return {
      kind: 'vm', entries: vm.collector.entries, dpkgStatus: vm.collector.dpkgStatus, running: vm.running, agentPid: vm.agentPid,
      ...(vm.lockDigest ? { lockDigest: vm.lockDigest } : {}),
    };
  }
  const st = await stat(target).catch((e: NodeJS.ErrnoException) => {
    throw new JeosError('E_AUDIT_NO_TARGET', `${target} does not exist (${e.code})`, {
      hint: 'name a directory, a file of out/ (rootfs.tar, oci, vm/initrd.img, vm/root.img) or container:NAME',
    });
  });
  if (st.isDirectory()) {
    if (await exists(join(target, 'oci-layout'))) {
      const { collector, manifestDigest } = await readOci(target, options.architecture);
      return { kind: 'oci', entries: collector.entries, dpkgStatus: collector.dpkgStatus, imageDigest: manifestDigest };
    }
    if ((await exists(join(target, 'build.json'))) && (await exists(join(target, 'manifest.json')))) {
      throw notImage(target, 'it is the output directory of a build', `audit one of its outputs: ${join(target, 'rootfs.tar')}, ${join(target, 'oci')} or, with --vm, ${join(target, 'vm/initrd.img')}`);
    }
    const tree = await readDirectory(target, options.sizeOf);
    return { kind: 'directory', entries: tree.entries, dpkgStatus: tree.dpkgStatus };
  }
  if (!st.isFile()) throw notImage(target, 'it is neither a directory nor a regular file');
  const head = await readHead(target, 2048);
  if (isGpt(head)) {
    const disk = await readDiskInitrd(target);
    const compression = compressionOf(disk.data);
    const read = await readArchive(`${target}:${disk.initrd}`, compression, disk.data);
    if (read.kind !== 'initramfs') throw notImage(target, `${disk.initrd} on its ESP is not a newc cpio archive`);
    const via = `${disk.initrd} of ${disk.entry}${compression ? `, ${compression}` : ''}`;
    return { ...read, kind: 'disk', via, ...(disk.lockDigest ? { lockDigest: disk.lockDigest } : {}) };
  }
  if (isQcow2(head)) throw notImage(target, 'it is a qcow2 image', `convert it to a raw disk first: qemu-img convert -O raw ${target} disk.img`);
  if (isExt4(head)) {
    const tree = await readExt4(target, options.sizeOf);
    return { kind: 'ext4', via: 'debugfs', entries: tree.entries, dpkgStatus: tree.dpkgStatus };
  }
  const compression = compressionOf(head);
  if (!compression && !isTar(head) && !isNewc(head)) throw notImage(target, 'it is not a tar, a cpio archive, an ext4 image or a compressed one of those');
  return { ...(await readArchive(target, compression)), ...(compression ? { via: compression } : {}) };
}

/** A tar or newc archive, plain or compressed: the format is told from the first plain bytes. */
async function readArchive(path: string, compression: ReturnType<typeof compressionOf>, data?: Buffer): Promise<ReadTarget> {
  const stream = plainStream(path, compression, data);
  const out = new Collector();
  let reader: TarReader | NewcReader | undefined;
  let head: Buffer[] = [];
  let headBytes = 0;
  for await (const chunk of stream.chunks) {
    if (!reader) {
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes < 512) continue;
      const first = Buffer.concat(head);
      if (isNewc(first)) reader = new NewcReader(path, out);
      else if (isTar(first)) reader = new TarReader(path, (m) => out.tarMember(m, false));
      else throw notImage(path, `its ${compression ?? ''} content is neither a tar nor a newc cpio archive`.replace('  ', ' '));
      reader.feed(first);
      head = [];
      continue;
    }
    reader.feed(chunk);
  }
  if (!reader) throw notImage(path, 'it is too short to be an archive');
  reader.end();
  const kind = reader instanceof NewcReader ? 'initramfs' : 'tar';
  return { kind, entries: out.entries, dpkgStatus: out.dpkgStatus, fileSha256: stream.sha256() };
}
