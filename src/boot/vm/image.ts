import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import type { VmImage } from './types.js';

export const VM_FILES = ['vmlinuz', 'initrd.img', 'cmdline'] as const;
/** With vm.root: disk, the OS is in root.img instead of initrd.img. */
export const DISK_IMAGE = 'root.img';

const isFile = async (path: string) => (await stat(path).catch(() => undefined))?.isFile() === true;

/** The VM image in `dir` (out/vm): vmlinuz, cmdline, and initrd.img or root.img. */
export async function readVmImage(dir: string, project = 'DIR'): Promise<VmImage> {
  const disk = await isFile(join(dir, DISK_IMAGE));
  const missing: string[] = [];
  for (const name of VM_FILES) {
    if (name === 'initrd.img' && disk) continue;
    if (!(await isFile(join(dir, name)))) missing.push(name);
  }
  if (missing.length) {
    throw new JeosError('E_VM_NO_IMAGE', `no VM image in ${dir} (missing ${missing.join(', ')})`, {
      hint: `build it first: jeos build ${project} --format vm (or add vm to outputs: in jeos.yaml)`,
    });
  }
  const cmdline = (await readFile(join(dir, 'cmdline'), 'utf8')).replace(/\s+/g, ' ').trim();
  return { dir, kernel: join(dir, 'vmlinuz'), ...(disk ? { disk: join(dir, DISK_IMAGE) } : { initrd: join(dir, 'initrd.img') }), cmdline };
}
