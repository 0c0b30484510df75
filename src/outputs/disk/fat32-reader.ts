/**
 * Reading a FAT32 file system inside a disk image file: its boot sector and FAT 1, cluster
 * chains (checked: in range, no loop), directories with their long names, paths and files.
 * FatVolume (fat32-volume.ts) makes its in-place edits of the ESP on top of this.
 */
import type { FileHandle } from 'node:fs/promises';
import { JeosError } from '../../errors.js';
import { ATTR, FAT_SECTOR, shortNameChecksum } from './fat32.js';

export const DIR_ENTRY = 32;
export const FREE = 0;
const EOC_MIN = 0x0ffffff8;
export const MASK = 0x0fffffff;
export const DELETED = 0xe5;

export interface FatEntry {
  /** The long name when there is one, else the 8.3 name as `NAME.EXT`. */
  name: string;
  /** The 11 bytes of the 8.3 name. */
  short: string;
  isDir: boolean;
  cluster: number;
  size: number;
  /** Byte offsets (in the image file) of the entry's slots: its long-name entries, then its 8.3 entry. */
  slots: number[];
}

const corrupt = (what: string) =>
  new JeosError('E_DISK_ESP_CORRUPT', `the disk's EFI system partition is damaged: ${what}`, {
    hint: 'check it with fsck.fat -n (package dosfstools) on the partition; jeos changed nothing',
  });

/** A FAT32 file system opened for reading: its geometry and FAT 1, read by FatVolume.open. */
export abstract class FatReader {
  /** FAT 1 as it is on the disk (the editor keeps it and FAT 2 equal). */
  protected fat!: Uint32Array;
  protected bytesPerCluster = 0;
  private sectorsPerCluster = 0;
  protected fatStart = 0;
  protected fatSectors = 0;
  private dataStart = 0;
  private clusterCount = 0;
  protected rootCluster = 2;
  protected fsInfoSector = 1;

  protected constructor(
    protected readonly fh: FileHandle,
    /** Byte offset of the file system in the image file. */
    readonly base: number,
    readonly bytes: number,
  ) {}

  protected async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, offset);
    if (bytesRead !== length) throw corrupt(`${length} bytes at ${offset} are beyond the end of the image`);
    return buf;
  }

  protected async load(): Promise<void> {
    const b = await this.read(this.base, FAT_SECTOR);
    const notFat = (why: string) =>
      new JeosError('E_DISK_NOT_FAT32', `the EFI system partition is not a FAT32 file system jeos can edit: ${why}`, {
        hint: 'jeos disk works on disks made by jeos build --format disk',
      });
    if (b.readUInt16LE(510) !== 0xaa55) throw notFat('no boot sector signature');
    if (b.readUInt16LE(11) !== FAT_SECTOR) throw notFat(`${b.readUInt16LE(11)}-byte sectors`);
    if (b.toString('latin1', 82, 87) !== 'FAT32' || b.readUInt16LE(22) !== 0) throw notFat('not FAT32');
    if (b[16] !== 2) throw notFat(`${b[16]} FATs`);
    if (b.readUInt16LE(40) & 0x80) throw notFat('its FATs are not mirrored');
    this.sectorsPerCluster = b[13]!;
    if (![1, 2, 4, 8, 16, 32, 64, 128].includes(this.sectorsPerCluster)) throw notFat(`${this.sectorsPerCluster} sectors per cluster`);
    this.bytesPerCluster = this.sectorsPerCluster * FAT_SECTOR;
    this.fatStart = b.readUInt16LE(14);
    this.fatSectors = b.readUInt32LE(36);
    this.rootCluster = b.readUInt32LE(44);
    this.fsInfoSector = b.readUInt16LE(48);
    const sectors = b.readUInt32LE(32);
    if (sectors * FAT_SECTOR > this.bytes) throw notFat(`it claims ${sectors} sectors, the partition has ${this.bytes / FAT_SECTOR}`);
    this.dataStart = this.fatStart + 2 * this.fatSectors;
    this.clusterCount = Math.floor((sectors - this.dataStart) / this.sectorsPerCluster);
    if (this.clusterCount < 65525 || (this.clusterCount + 2) * 4 > this.fatSectors * FAT_SECTOR) throw notFat('its geometry does not hold together');
    const raw = await this.read(this.base + this.fatStart * FAT_SECTOR, (this.clusterCount + 2) * 4);
    this.fat = new Uint32Array(this.clusterCount + 2);
    for (let i = 0; i < this.fat.length; i++) this.fat[i] = raw.readUInt32LE(i * 4) & MASK;
  }

  /** Clusters `bytes` of file data take. */
  clustersFor(bytes: number): number {
    return Math.ceil(bytes / this.bytesPerCluster);
  }

  get clusterSize(): number {
    return this.bytesPerCluster;
  }

  freeClusters(): number {
    let n = 0;
    for (let c = 2; c < this.fat.length; c++) if (this.fat[c] === FREE) n++;
    return n;
  }

  protected offsetOf(cluster: number): number {
    return this.base + (this.dataStart + (cluster - 2) * this.sectorsPerCluster) * FAT_SECTOR;
  }

  /** The clusters of a chain, checked: in range, no loop. */
  chain(first: number): number[] {
    const out: number[] = [];
    const seen = new Set<number>();
    for (let c = first; ; ) {
      if (c < 2 || c >= this.fat.length) throw corrupt(`a chain points at cluster ${c}`);
      if (seen.has(c)) throw corrupt(`the chain from cluster ${first} loops`);
      seen.add(c);
      out.push(c);
      const next = this.fat[c]!;
      if (next >= EOC_MIN) return out;
      if (next === FREE) throw corrupt(`the chain from cluster ${first} runs into a free cluster`);
      c = next;
    }
  }

  protected async readChain(first: number, size?: number): Promise<Buffer> {
    const clusters = this.chain(first);
    const parts: Buffer[] = [];
    for (const run of runsOf(clusters)) parts.push(await this.read(this.offsetOf(run.first), run.count * this.bytesPerCluster));
    const all = Buffer.concat(parts);
    if (size !== undefined && size > all.length) throw corrupt(`a file of ${size} bytes has ${clusters.length} clusters`);
    return size === undefined ? all : all.subarray(0, size);
  }

  /** The entries of a directory (not `.`, `..` or the volume label). */
  async readDir(cluster: number): Promise<FatEntry[]> {
    const data = await this.readChain(cluster);
    const clusters = this.chain(cluster);
    const at = (i: number) => this.offsetOf(clusters[Math.floor((i * DIR_ENTRY) / this.bytesPerCluster)]!) + ((i * DIR_ENTRY) % this.bytesPerCluster);
    const out: FatEntry[] = [];
    let lfn: { parts: string[]; checksum: number; slots: number[] } | undefined;
    for (let i = 0; i * DIR_ENTRY < data.length; i++) {
      const e = data.subarray(i * DIR_ENTRY, (i + 1) * DIR_ENTRY);
      if (e[0] === 0) break;
      if (e[0] === DELETED) {
        lfn = undefined;
        continue;
      }
      if (e[11] === ATTR.longName) {
        if (e[0]! & 0x40) lfn = { parts: [], checksum: e[13]!, slots: [] };
        if (!lfn) continue;
        let part = '';
        for (const o of [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]) {
          const u = e.readUInt16LE(o);
          if (u === 0 || u === 0xffff) break;
          part += String.fromCharCode(u);
        }
        lfn.parts.unshift(part);
        lfn.slots.push(at(i));
        continue;
      }
      const short = e.toString('latin1', 0, 11);
      const attr = e[11]!;
      const long = lfn && lfn.checksum === shortNameChecksum(short) ? lfn : undefined;
      lfn = undefined;
      if (attr & ATTR.volumeId || short === '.          ' || short === '..         ') continue;
      const base = short.slice(0, 8).trimEnd();
      const ext = short.slice(8).trimEnd();
      out.push({
        name: long ? long.parts.join('') : ext ? `${base}.${ext}` : base,
        short,
        isDir: (attr & ATTR.directory) !== 0,
        cluster: (e.readUInt16LE(20) << 16) | e.readUInt16LE(26),
        size: e.readUInt32LE(28),
        slots: [...(long?.slots ?? []), at(i)],
      });
    }
    return out;
  }

  /** The entry at a `/`-separated path (names compared without case, as FAT does); undefined when absent. */
  async lookup(path: string): Promise<FatEntry | undefined> {
    let dir = this.rootCluster;
    let found: FatEntry | undefined;
    for (const part of path.split('/').filter(Boolean)) {
      if (found && !found.isDir) return undefined;
      found = (await this.readDir(dir)).find((e) => e.name.toUpperCase() === part.toUpperCase());
      if (!found) return undefined;
      dir = found.cluster;
    }
    return found;
  }

  /** A directory's entries; [] when it does not exist. */
  async list(path: string): Promise<FatEntry[]> {
    if (!path) return this.readDir(this.rootCluster);
    const e = await this.lookup(path);
    return e?.isDir ? this.readDir(e.cluster) : [];
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const e = await this.lookup(path);
    if (!e || e.isDir) return undefined;
    return e.size === 0 ? Buffer.alloc(0) : this.readChain(e.cluster, e.size);
  }
}

/** Consecutive runs of a list of clusters. */
export function runsOf(clusters: number[]): Array<{ first: number; count: number }> {
  const runs: Array<{ first: number; count: number }> = [];
  for (const c of clusters) {
    const last = runs[runs.length - 1];
    if (last && last.first + last.count === c) last.count++;
    else runs.push({ first: c, count: 1 });
  }
  return runs;
}
