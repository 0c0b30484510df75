/**
 * A FAT32 file system with the files given, made in memory as pieces of a sparse image:
 * the EFI system partition. 512-byte sectors (OVMF cannot read a 4 KiB-sector FAT),
 * two FATs, long (VFAT) names beside generated 8.3 ones, every time from SOURCE_DATE_EPOCH
 * and the volume serial number given, so the same files give the same bytes. Written from
 * Microsoft's FAT specification (FAT32 BPB, FSInfo, directory entries, long names).
 */
import { JeosError } from '../../errors.js';

export const FAT_SECTOR = 512;
export const RESERVED_SECTORS = 32;
const FATS = 2;
const BACKUP_BOOT_SECTOR = 6;
const FSINFO_SECTOR = 1;
const ROOT_CLUSTER = 2;
/** Fewer clusters than 65525 make a FAT16 by the specification's rule; keep a margin so no tool is in doubt. */
const MIN_CLUSTERS = 65525 + 16;
const END_OF_CHAIN = 0x0fffffff;
const DIR_ENTRY = 32;
export const ATTR = { readOnly: 0x01, volumeId: 0x08, directory: 0x10, archive: 0x20, longName: 0x0f } as const;

export interface FatFile {
  /** Path inside the file system, `/`-separated, without a leading slash: `EFI/BOOT/BOOTX64.EFI`. */
  path: string;
  data: Buffer;
}

export interface Fat32Options {
  /** Size of the file system in 512-byte sectors. */
  sectors: number;
  /** Sectors before the file system on its disk (the partition's first LBA), recorded in the BPB. */
  hiddenSectors: number;
  volumeId: number;
  /** At most 11 characters: A–Z, 0–9, space, `-`, `_`. */
  label: string;
  /** SOURCE_DATE_EPOCH in seconds: every entry's times. */
  time: number;
}

export interface Fat32Piece {
  /** Byte offset from the start of the file system. */
  offset: number;
  data: Buffer;
}

export interface Fat32Result {
  pieces: Fat32Piece[];
  clusterSize: number;
  clusters: number;
  freeClusters: number;
}

interface FileNode {
  kind: 'file';
  name: string;
  data: Buffer;
  cluster: number;
}

interface DirNode {
  kind: 'dir';
  name: string;
  children: Map<string, FileNode | DirNode>;
  cluster: number;
  /** Bytes of directory entries. */
  bytes: number;
}

/** The FAT32 geometry for a size: the largest cluster (up to 4 KiB) that still gives a FAT32 cluster count. */
export function fat32Geometry(sectors: number): { sectorsPerCluster: number; fatSectors: number; dataStart: number; clusters: number } {
  for (const spc of [8, 4, 2, 1]) {
    const fatSectors = Math.ceil((((sectors - RESERVED_SECTORS) / spc + 2) * 4) / FAT_SECTOR);
    const dataStart = RESERVED_SECTORS + FATS * fatSectors;
    const clusters = Math.floor((sectors - dataStart) / spc);
    if (clusters >= MIN_CLUSTERS) return { sectorsPerCluster: spc, fatSectors, dataStart, clusters };
  }
  throw new JeosError('E_DISK_ESP_SIZE', `an EFI system partition of ${Math.floor((sectors * FAT_SECTOR) / 2 ** 20)} MiB is too small for FAT32`, {
    hint: 'FAT32 with 512-byte sectors needs at least 33 MiB',
  });
}

/** DOS date and time (local time is UTC here), clamped to what the fields hold (1980–2107). */
export function dosDateTime(epoch: number): { date: number; time: number } {
  const d = new Date(Math.min(Math.max(epoch, 315_532_800), 4_354_819_198) * 1000);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

const SHORT_CHARS = /^[A-Z0-9!#$%&'()@^_`{}~-]+$/;

/** A name that is already a valid upper-case 8.3 name needs no long-name entries. */
export function isShortName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot + 1) : '';
  return base.length >= 1 && base.length <= 8 && SHORT_CHARS.test(base) && (dot < 0 || (ext.length >= 1 && ext.length <= 3 && SHORT_CHARS.test(ext)));
}

const shortPart = (s: string) => s.toUpperCase().replace(/[. ]/g, '').replace(/[^A-Z0-9!#$%&'()@^_`{}~-]/g, '_');

/** The 11 bytes of an 8.3 name: `BOOTX64 EFI`, or a `NAME~N` alias for a long name, unique in its directory. */
export function shortNameOf(name: string, taken: Set<string>): string {
  const pad = (base: string, ext: string) => base.padEnd(8, ' ') + ext.padEnd(3, ' ');
  const dot = name.lastIndexOf('.');
  if (isShortName(name)) {
    const s = dot > 0 ? pad(name.slice(0, dot), name.slice(dot + 1)) : pad(name, '');
    taken.add(s);
    return s;
  }
  const base = shortPart(dot > 0 ? name.slice(0, dot) : name) || '_';
  const ext = dot > 0 ? shortPart(name.slice(dot + 1)).slice(0, 3) : '';
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const s = pad(base.slice(0, 8 - tail.length) + tail, ext);
    if (!taken.has(s)) {
      taken.add(s);
      return s;
    }
  }
  throw new Error(`no free 8.3 alias for ${name}`);
}

/** The checksum of an 8.3 name that each of its long-name entries carries. */
export function shortNameChecksum(short: string): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short.charCodeAt(i)) & 0xff;
  return sum;
}

/** The long-name entries for a name, in the order they precede its 8.3 entry (last part first). */
export function longNameEntries(name: string, checksum: number): Buffer[] {
  const units: number[] = [];
  for (let i = 0; i < name.length; i++) units.push(name.charCodeAt(i));
  const count = Math.ceil(units.length / 13);
  if (units.length % 13) units.push(0);
  while (units.length < count * 13) units.push(0xffff);
  const slots = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
  const entries: Buffer[] = [];
  for (let i = count; i >= 1; i--) {
    const e = Buffer.alloc(DIR_ENTRY);
    e[0] = i | (i === count ? 0x40 : 0);
    e[11] = ATTR.longName;
    e[13] = checksum;
    slots.forEach((at, k) => e.writeUInt16LE(units[(i - 1) * 13 + k]!, at));
    entries.push(e);
  }
  return entries;
}

export function shortEntry(short: string, attr: number, cluster: number, size: number, stamp: { date: number; time: number }): Buffer {
  const e = Buffer.alloc(DIR_ENTRY);
  e.write(short, 0, 11, 'latin1');
  e[11] = attr;
  e.writeUInt16LE(stamp.time, 14);
  e.writeUInt16LE(stamp.date, 16);
  e.writeUInt16LE(stamp.date, 18);
  e.writeUInt16LE(cluster >>> 16, 20);
  e.writeUInt16LE(stamp.time, 22);
  e.writeUInt16LE(stamp.date, 24);
  e.writeUInt16LE(cluster & 0xffff, 26);
  e.writeUInt32LE(size, 28);
  return e;
}

const VALID_NAME = /^[^\x00-\x1f"*/:<>?\\|]{1,255}$/;

function treeOf(files: readonly FatFile[]): DirNode {
  const root: DirNode = { kind: 'dir', name: '', children: new Map(), cluster: 0, bytes: 0 };
  for (const file of files) {
    const parts = file.path.split('/');
    let dir = root;
    parts.forEach((part, i) => {
      if (!VALID_NAME.test(part) || part === '.' || part === '..' || part.endsWith('.') || part.endsWith(' ')) {
        throw new JeosError('E_DISK_ESP_NAME', `${JSON.stringify(file.path)} cannot be a FAT file name`, { hint: 'ESP names cannot hold control characters or "*/:<>?\\| and cannot end with a dot or space' });
      }
      const key = part.toUpperCase();
      const existing = dir.children.get(key);
      if (i === parts.length - 1) {
        if (existing) throw new JeosError('E_DISK_ESP_NAME', `${file.path} is on the ESP twice (FAT names ignore case)`);
        dir.children.set(key, { kind: 'file', name: part, data: file.data, cluster: 0 });
        return;
      }
      if (existing?.kind === 'file') throw new JeosError('E_DISK_ESP_NAME', `${file.path}: ${part} is a file on the ESP`);
      if (!existing) dir.children.set(key, { kind: 'dir', name: part, children: new Map(), cluster: 0, bytes: 0 });
      dir = dir.children.get(key) as DirNode;
    });
  }
  return root;
}

const sortedChildren = (dir: DirNode) => [...dir.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

function entryCount(name: string): number {
  return isShortName(name) ? 1 : 1 + Math.ceil(name.length / 13);
}

/** Build the file system: returns its non-zero pieces (the rest of it reads as zeros). */
export function buildFat32(files: readonly FatFile[], options: Fat32Options): Fat32Result {
  const geo = fat32Geometry(options.sectors);
  const clusterSize = geo.sectorsPerCluster * FAT_SECTOR;
  const root = treeOf(files);
  const stamp = dosDateTime(options.time);
  const label = options.label.toUpperCase().padEnd(11, ' ');
  if (!/^[A-Z0-9 _-]{11}$/.test(label)) throw new Error(`bad FAT label ${options.label}`);

  // Allocate clusters: directories and files in a fixed order, each contiguous.
  let next = ROOT_CLUSTER;
  const take = (bytes: number) => {
    const count = Math.max(1, Math.ceil(bytes / clusterSize));
    const first = next;
    next += count;
    return { first, count };
  };
  const chains: Array<{ first: number; count: number }> = [];
  const visit = (dir: DirNode, isRoot: boolean) => {
    let entries = isRoot ? 1 : 2; // the volume label, or . and ..
    for (const child of dir.children.values()) entries += entryCount(child.name);
    dir.bytes = entries * DIR_ENTRY;
    const chain = take(dir.bytes);
    dir.cluster = chain.first;
    chains.push(chain);
    for (const child of sortedChildren(dir)) {
      if (child.kind === 'dir') continue;
      if (child.data.length === 0) continue;
      const c = take(child.data.length);
      child.cluster = c.first;
      chains.push(c);
    }
    for (const child of sortedChildren(dir)) if (child.kind === 'dir') visit(child, false);
  };
  visit(root, true);
  const used = next - ROOT_CLUSTER;
  if (used > geo.clusters) {
    throw new JeosError('E_DISK_ESP_FULL', `the ESP's files need ${used * clusterSize} bytes; the ESP holds ${geo.clusters * clusterSize}`, {
      hint: 'make the disk larger (disk.size in jeos.yaml): the ESP grows with the boot files',
    });
  }

  const pieces: Fat32Piece[] = [];
  const clusterOffset = (c: number) => (geo.dataStart + (c - ROOT_CLUSTER) * geo.sectorsPerCluster) * FAT_SECTOR;

  // Directories.
  const writeDir = (dir: DirNode, parent: DirNode | undefined) => {
    const out: Buffer[] = [];
    const taken = new Set<string>();
    if (!parent) out.push(shortEntry(label, ATTR.volumeId, 0, 0, stamp));
    else {
      out.push(shortEntry('.          ', ATTR.directory, dir.cluster, 0, stamp));
      // `..` names cluster 0 when the parent is the root directory.
      out.push(shortEntry('..         ', ATTR.directory, parent.cluster === ROOT_CLUSTER ? 0 : parent.cluster, 0, stamp));
    }
    for (const child of sortedChildren(dir)) {
      const short = shortNameOf(child.name, taken);
      if (!isShortName(child.name)) out.push(...longNameEntries(child.name, shortNameChecksum(short)));
      out.push(
        child.kind === 'dir'
          ? shortEntry(short, ATTR.directory, child.cluster, 0, stamp)
          : shortEntry(short, ATTR.archive, child.cluster, child.data.length, stamp),
      );
    }
    pieces.push({ offset: clusterOffset(dir.cluster), data: Buffer.concat(out) });
    for (const child of sortedChildren(dir)) {
      if (child.kind === 'dir') writeDir(child, dir);
      else if (child.data.length) pieces.push({ offset: clusterOffset(child.cluster), data: child.data });
    }
  };
  writeDir(root, undefined);

  // The FAT: media and end-of-chain markers, then each chain cluster to cluster.
  const fat = Buffer.alloc(next * 4);
  fat.writeUInt32LE(0x0ffffff8, 0);
  fat.writeUInt32LE(END_OF_CHAIN, 4);
  for (const { first, count } of chains) {
    for (let c = first; c < first + count - 1; c++) fat.writeUInt32LE(c + 1, c * 4);
    fat.writeUInt32LE(END_OF_CHAIN, (first + count - 1) * 4);
  }
  for (let i = 0; i < FATS; i++) pieces.push({ offset: (RESERVED_SECTORS + i * geo.fatSectors) * FAT_SECTOR, data: fat });

  const boot = bootSector(options, geo, label);
  const info = fsInfo(geo.clusters - used, next);
  pieces.push({ offset: 0, data: boot }, { offset: FSINFO_SECTOR * FAT_SECTOR, data: info });
  pieces.push({ offset: BACKUP_BOOT_SECTOR * FAT_SECTOR, data: boot }, { offset: (BACKUP_BOOT_SECTOR + 1) * FAT_SECTOR, data: info });
  pieces.sort((a, b) => a.offset - b.offset);
  return { pieces, clusterSize, clusters: geo.clusters, freeClusters: geo.clusters - used };
}

function bootSector(options: Fat32Options, geo: ReturnType<typeof fat32Geometry>, label: string): Buffer {
  const b = Buffer.alloc(FAT_SECTOR);
  b[0] = 0xeb;
  b[1] = 0x58;
  b[2] = 0x90;
  b.write('JEOS    ', 3, 8, 'latin1');
  b.writeUInt16LE(FAT_SECTOR, 11);
  b[13] = geo.sectorsPerCluster;
  b.writeUInt16LE(RESERVED_SECTORS, 14);
  b[16] = FATS;
  b.writeUInt16LE(0, 17); // root entries: none outside the data area in FAT32
  b.writeUInt16LE(0, 19);
  b[21] = 0xf8;
  b.writeUInt16LE(0, 22);
  b.writeUInt16LE(63, 24); // geometry for BIOS calls nobody makes, as mkfs.fat writes it
  b.writeUInt16LE(255, 26);
  b.writeUInt32LE(options.hiddenSectors, 28);
  b.writeUInt32LE(options.sectors, 32);
  b.writeUInt32LE(geo.fatSectors, 36);
  b.writeUInt16LE(0, 40); // both FATs mirrored
  b.writeUInt16LE(0, 42);
  b.writeUInt32LE(ROOT_CLUSTER, 44);
  b.writeUInt16LE(FSINFO_SECTOR, 48);
  b.writeUInt16LE(BACKUP_BOOT_SECTOR, 50);
  b[64] = 0x80;
  b[66] = 0x29;
  b.writeUInt32LE(options.volumeId >>> 0, 67);
  b.write(label, 71, 11, 'latin1');
  b.write('FAT32   ', 82, 8, 'latin1');
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

function fsInfo(freeClusters: number, nextFree: number): Buffer {
  const b = Buffer.alloc(FAT_SECTOR);
  b.writeUInt32LE(0x41615252, 0);
  b.writeUInt32LE(0x61417272, 484);
  b.writeUInt32LE(freeClusters, 488);
  b.writeUInt32LE(nextFree, 492);
  b.writeUInt32LE(0xaa550000, 508);
  return b;
}
