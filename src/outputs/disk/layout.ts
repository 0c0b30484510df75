/**
 * Where everything goes on a jeos disk: the names on the ESP, the partitions and their
 * sizes. `jeos disk add` and `jeos disk status` (later) read and write the same names.
 */
import { JeosError } from '../../errors.js';

export { efiArchOf, bootLoaderTreePath } from '../../tree/index.js';

export const DISK_IMG = 'disk.img';
export const DISK_QCOW2 = 'disk.qcow2';
export const MiB = 1 << 20;
/** The ESP is at least this large, whatever the boot files. */
export const MIN_ESP_BYTES = 256 * MiB;
/** Room for this many versions' kernel and initrd on the ESP. */
export const ESP_VERSIONS = 3;
export const MIN_VAR_BYTES = 64 * MiB;
/** Partitions start and end on MiB boundaries (the first at 1 MiB). */
export const ALIGN_SECTORS = 2048;
export const ESP_LABEL = 'ESP';
export const VAR_LABEL = 'jeos-var';
export const ESP_PART_NAME = 'jeos-esp';
export const VAR_PART_NAME = 'jeos-var';
/** Boot tries a new version's entry starts with (systemd-boot counts them down). */
export const BOOT_TRIES = 3;

/** The ESP's file names for one version. */
export function versionPaths(version: string): { dir: string; entry: string; linux: string; initrd: string; about: string } {
  return {
    dir: `jeos/${version}`,
    entry: `loader/entries/jeos-${version}+${BOOT_TRIES}.conf`,
    linux: `jeos/${version}/linux`,
    initrd: `jeos/${version}/initrd`,
    about: `jeos/${version}/jeos.json`,
  };
}

/** `jeos/<version>/jeos.json`: where a version on the disk came from, for jeos disk status. */
export interface VersionAbout {
  name: string;
  version: string;
  /** SHA-256 of the jeos.lock it was built from. */
  lockDigest: string | null;
  sourceDateEpoch: number;
  kernelVersion: string;
}

export function aboutText(a: VersionAbout): string {
  return `${JSON.stringify(a, null, 2)}\n`;
}

/** A Boot Loader Specification Type #1 entry. */
export function entryText(e: { name: string; version: string; efiArch: string; cmdline: string }): string {
  const p = versionPaths(e.version);
  return [
    `title ${e.name} ${e.version}`,
    `version ${e.version}`,
    // One sort key for every jeos version: systemd-boot then orders them by version, newest first.
    'sort-key jeos',
    `architecture ${e.efiArch}`,
    `linux /${p.linux}`,
    `initrd /${p.initrd}`,
    `options ${e.cmdline}`,
    '',
  ].join('\n');
}

/**
 * loader.conf: no menu (timeout 0: the newest good entry boots; a key held at power-on still
 * shows the menu), no editing of the command line from the console, no entries systemd-boot
 * would add on its own (the firmware's setup, other OSes found on the ESP).
 */
export const LOADER_CONF = ['timeout 0', 'editor no', 'auto-entries no', 'auto-firmware no', ''].join('\n');

/** A sizes string (`1G`, `768M`) in bytes. */
export function parseSize(size: string): number {
  const m = /^([1-9][0-9]*)([MG])$/.exec(size);
  if (!m) throw new JeosError('E_DISK_SIZE', `disk size ${JSON.stringify(size)} is not a size`, { hint: 'write it as 1G or 768M' });
  return Number(m[1]) * (m[2] === 'G' ? 1024 : 1) * MiB;
}

export interface DiskLayout {
  sectors: number;
  esp: { first: number; last: number };
  var: { first: number; last: number };
}

/** The ESP holds ESP_VERSIONS versions' boot files with room to spare, and never less than MIN_ESP_BYTES. */
export function espBytesFor(bootFilesBytes: number): number {
  const wanted = ESP_VERSIONS * bootFilesBytes + 16 * MiB;
  return Math.max(MIN_ESP_BYTES, Math.ceil(wanted / (64 * MiB)) * 64 * MiB);
}

export function diskLayout(sizeBytes: number, espBytes: number): DiskLayout {
  const sectors = sizeBytes / 512;
  const espFirst = ALIGN_SECTORS;
  const espLast = espFirst + espBytes / 512 - 1;
  const varFirst = espLast + 1;
  // The last MiB holds the backup GPT (its last 33 sectors) and keeps /var's end aligned.
  const varLast = sectors - ALIGN_SECTORS - 1;
  const needed = (ALIGN_SECTORS * 2) * 512 + espBytes + MIN_VAR_BYTES;
  if (!Number.isInteger(sectors) || sizeBytes < needed) {
    throw new JeosError('E_DISK_TOO_SMALL', `a disk of ${Math.round(sizeBytes / MiB)} MiB cannot hold the ESP (${espBytes / MiB} MiB) and a /var of at least ${MIN_VAR_BYTES / MiB} MiB`, {
      hint: `set disk.size in jeos.yaml to ${Math.ceil(needed / MiB)}M or more`,
    });
  }
  return { sectors, esp: { first: espFirst, last: espLast }, var: { first: varFirst, last: varLast } };
}
