/**
 * What a build needs to know for the disk output: the image's version and the disk's
 * settings, and the tools it runs, checked before any slow work.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { compareVersions } from '../archive/version.js';
import type { Config } from '../config/schema.js';
import { JeosError } from '../errors.js';
import { parseSize, type ImageSpec } from '../outputs/index.js';

/**
 * The image's version: `version:` of jeos.yaml, else `0~<SOURCE_DATE_EPOCH>`. The build's
 * timestamp is reproducible (the lock's newest Release date, or SOURCE_DATE_EPOCH) and grows
 * with every newer archive snapshot, and `0~` sorts it below every version a user sets
 * (docs/disk.md, Versions).
 */
export function imageVersion(config: Pick<Config, 'version'>, epoch: number): string {
  return config.version ?? `0~${epoch}`;
}

/** Whether version `a` is newer than `b`, compared as Debian versions are. */
export function isNewerVersion(a: string, b: string): boolean {
  return compareVersions(a, b) > 0;
}

export function diskSpec(config: Config, epoch: number, lockDigest?: string): NonNullable<ImageSpec['disk']> {
  return { version: imageVersion(config, epoch), sizeBytes: parseSize(config.disk.size), formats: config.disk.formats, ...(lockDigest ? { lockDigest } : {}) };
}

async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && (await access(join(dir, name), constants.X_OK).then(() => true, () => false))) return true;
  }
  return false;
}

/** qemu-img converts disk.img to qcow2: refuse in the first second when it is missing. */
export async function checkDiskTools(config: Config): Promise<void> {
  if (config.disk.formats.includes('qcow2') && !(await onPath('qemu-img'))) {
    throw new JeosError('E_TOOL_MISSING', 'qemu-img is not installed; it is needed to convert disk.img to qcow2 (disk.formats in jeos.yaml)', {
      hint: 'install it: apt-get install qemu-utils (or remove qcow2 from disk.formats)',
    });
  }
}
