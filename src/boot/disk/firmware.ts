/**
 * OVMF, the UEFI firmware QEMU boots a disk image with, from the host's ovmf package:
 * its code read-only, and a private copy of its variables for each disk (the firmware
 * and systemd-boot write boot entries and their own state there).
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, realpath, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';

/** Debian's ovmf package: the 4 MiB build (code and variables as separate flash images). */
export const OVMF_DIR = '/usr/share/OVMF';
export const OVMF_CODE = 'OVMF_CODE_4M.fd';
export const OVMF_VARS = 'OVMF_VARS_4M.fd';

export interface Firmware {
  code: string;
  /** The pristine variables every private copy starts from. */
  varsTemplate: string;
}

const isFile = async (path: string) => (await stat(path).catch(() => undefined))?.isFile() === true;

/** Fail in the first second when OVMF is missing, naming the package. */
export async function requireOvmf(dir = OVMF_DIR): Promise<Firmware> {
  const code = join(dir, OVMF_CODE);
  const varsTemplate = join(dir, OVMF_VARS);
  const absent: string[] = [];
  for (const f of [code, varsTemplate]) if (!(await isFile(f))) absent.push(f);
  if (absent.length) {
    throw new JeosError('E_TOOL_MISSING', `OVMF is not installed (${absent.join(', ')} missing); it is needed to boot disk images under UEFI`, {
      hint: 'install it: apt-get install ovmf',
    });
  }
  return { code, varsTemplate };
}

/**
 * The variables store a disk boots with. `persistent`: one per disk (by its real path) in
 * the cache, kept between runs as a machine's NVRAM is; otherwise a fresh copy in a new
 * temporary directory, so a test starts from the firmware's defaults and leaves nothing.
 */
export async function varsFor(firmware: Firmware, disk: string, options: { persistent: boolean; cacheDir?: string }): Promise<{ path: string; temporary?: string }> {
  if (options.persistent && options.cacheDir) {
    const key = createHash('sha256').update(await realpath(disk)).digest('hex').slice(0, 16);
    const dir = join(options.cacheDir, 'uefi', key);
    const path = join(dir, OVMF_VARS);
    if (!(await isFile(path))) {
      await mkdir(dir, { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await copyFile(firmware.varsTemplate, tmp);
      await rename(tmp, path);
    }
    return { path };
  }
  const temporary = await mkdtemp(join(tmpdir(), 'jeos-uefi-'));
  const path = join(temporary, OVMF_VARS);
  await copyFile(firmware.varsTemplate, path);
  return { path, temporary };
}
