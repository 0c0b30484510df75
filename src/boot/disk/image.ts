/** The disk image jeos run/test --disk boot: out/disk.img, or a file named with --image. */
import { open, stat } from 'node:fs/promises';
import { JeosError } from '../../errors.js';

export interface DiskImage {
  path: string;
  format: 'raw' | 'qcow2';
}

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** Check the file is a raw GPT disk or a qcow2 image; refuse anything else before QEMU starts. */
export async function readDiskImage(path: string, project = 'DIR'): Promise<DiskImage> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) {
    throw new JeosError('E_DISK_NO_IMAGE', `no disk image at ${path}`, {
      hint: `build it first: jeos build ${project} --format disk (with disk among the outputs in jeos.yaml), or name one with --image`,
    });
  }
  const fh = await open(path, 'r');
  const head = Buffer.alloc(1024);
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) return { path, format: 'qcow2' };
  if (head.toString('latin1', 512, 520) === 'EFI PART') return { path, format: 'raw' };
  throw new JeosError('E_DISK_NOT_GPT', `${path} is neither a GPT disk image nor a qcow2 image`, {
    hint: 'boot out/disk.img or out/disk.qcow2 as jeos build --format disk wrote them',
  });
}
