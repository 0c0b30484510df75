import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import type { VmImage } from './types.js';

export const VM_FILES = ['vmlinuz', 'initrd.img', 'cmdline'] as const;

/** The VM image in `dir` (out/vm): all three files must be there. */
export async function readVmImage(dir: string, project = 'DIR'): Promise<VmImage> {
  const missing: string[] = [];
  for (const name of VM_FILES) {
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (!st?.isFile()) missing.push(name);
  }
  if (missing.length) {
    throw new JeosError('E_VM_NO_IMAGE', `no VM image in ${dir} (missing ${missing.join(', ')})`, {
      hint: `build it first: jeos build ${project} --format vm (or add vm to outputs: in jeos.yaml)`,
    });
  }
  const cmdline = (await readFile(join(dir, 'cmdline'), 'utf8')).replace(/\s+/g, ' ').trim();
  return { dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), cmdline };
}
