/**
 * A FAT32 file system read and edited in place, inside a disk image file: the ESP of a
 * jeos disk, for `jeos disk add` and `jeos disk status` on a stopped disk, without root
 * or mounting. It speaks the same format fat32.ts writes (and mkfs.fat's, with two FATs).
 *
 * Edits are ordered so that a process killed between any two writes leaves a file
 * system whose files are all whole: a new file's clusters are written while nothing
 * points at them, then its chain goes into both FATs, and only then does its directory
 * entry appear, in one write that never crosses a sector. A kill before that last write
 * leaves clusters marked used that no file owns ("lost clusters" to fsck.fat), which
 * waste space and nothing else; `reclaimLost` frees them again. A removal goes the other
 * way: the directory entry goes first, the chain after. FSInfo's free count is set to
 * "unknown" before the first change and written again after the last.
 *
 * Reading (the geometry, chains, directories and files) is FatReader's, in fat32-reader.ts.
 */
import type { FileHandle } from 'node:fs/promises';
import { JeosError } from '../../errors.js';
import { ATTR, dosDateTime, FAT_SECTOR, isShortName, longNameEntries, shortEntry, shortNameChecksum, shortNameOf } from './fat32.js';
import { DELETED, DIR_ENTRY, FatReader, FREE, MASK, runsOf } from './fat32-reader.js';

export type { FatEntry } from './fat32-reader.js';

const END_OF_CHAIN = 0x0fffffff;
const UNKNOWN = 0xffffffff;

export class FatVolume extends FatReader {
  private freeCountDirty = false;

  private constructor(fh: FileHandle, base: number, bytes: number, private readonly time: number) {
    super(fh, base, bytes);
  }

  /** Open the FAT32 file system at `base` (`bytes` long); E_DISK_NOT_FAT32 when it is not one. */
  static async open(fh: FileHandle, base: number, bytes: number, options: { time?: number } = {}): Promise<FatVolume> {
    const v = new FatVolume(fh, base, bytes, options.time ?? Math.floor(Date.now() / 1000));
    await v.load();
    return v;
  }

  private async write(offset: number, data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  /** Everything written so far reaches the disk before anything written after. */
  async sync(): Promise<void> {
    await this.fh.sync();
  }

  /** Before the first change: FSInfo's free count becomes "unknown", which is always true. */
  private async beginChange(): Promise<void> {
    if (this.freeCountDirty) return;
    await this.writeFsInfo(UNKNOWN, UNKNOWN);
    this.freeCountDirty = true;
  }

  private async writeFsInfo(free: number, next: number): Promise<void> {
    for (const sector of [this.fsInfoSector, this.fsInfoSector + 6]) {
      const at = this.base + sector * FAT_SECTOR;
      const info = await this.read(at, FAT_SECTOR);
      if (info.readUInt32LE(0) !== 0x41615252) continue;
      info.writeUInt32LE(free >>> 0, 488);
      info.writeUInt32LE(next >>> 0, 492);
      await this.write(at, info);
    }
  }

  /** After the last change: FSInfo's free count is the true one again. */
  async finish(): Promise<void> {
    if (!this.freeCountDirty) return;
    let next = 2;
    while (next < this.fat.length && this.fat[next] !== FREE) next++;
    await this.writeFsInfo(this.freeClusters(), next < this.fat.length ? next : UNKNOWN);
    this.freeCountDirty = false;
  }

  /** `count` free clusters, the first contiguous run that fits when there is one. Not marked used yet. */
  private freeRun(count: number): number[] {
    let start = 0;
    let len = 0;
    for (let c = 2; c < this.fat.length; c++) {
      if (this.fat[c] === FREE) {
        if (len === 0) start = c;
        if (++len === count) return Array.from({ length: count }, (_, i) => start + i);
      } else len = 0;
    }
    const any: number[] = [];
    for (let c = 2; c < this.fat.length && any.length < count; c++) if (this.fat[c] === FREE) any.push(c);
    if (any.length < count) {
      throw new JeosError('E_DISK_ESP_FULL', `the EFI system partition has ${this.freeClusters() * this.bytesPerCluster} bytes free; ${count * this.bytesPerCluster} are needed`, {
        hint: 'keep fewer versions on the disk (jeos disk add --keep), or build the disk larger (disk.size)',
      });
    }
    return any;
  }

  /** Write FAT entries (cluster → value) to FAT 1, then FAT 2, sector by sector. */
  private async setFat(changes: Map<number, number>): Promise<void> {
    for (const [c, v] of changes) this.fat[c] = v;
    const sectors = [...new Set([...changes.keys()].map((c) => Math.floor((c * 4) / FAT_SECTOR)))].sort((a, b) => a - b);
    for (const copy of [0, 1]) {
      for (const s of sectors) {
        const at = this.base + (this.fatStart + copy * this.fatSectors + s) * FAT_SECTOR;
        const buf = await this.read(at, FAT_SECTOR);
        for (let i = 0; i < FAT_SECTOR / 4; i++) {
          const c = s * (FAT_SECTOR / 4) + i;
          if (!changes.has(c)) continue;
          buf.writeUInt32LE(((buf.readUInt32LE(i * 4) & ~MASK) | (changes.get(c)! & MASK)) >>> 0, i * 4);
        }
        await this.write(at, buf);
      }
    }
  }

  private chainLinks(clusters: number[]): Map<number, number> {
    const m = new Map<number, number>();
    clusters.forEach((c, i) => m.set(c, i + 1 < clusters.length ? clusters[i + 1]! : END_OF_CHAIN));
    return m;
  }

  /** Data into new clusters, then their chain into the FATs. Returns the first cluster (0 for no data). */
  private async store(data: Buffer): Promise<number> {
    if (data.length === 0) return 0;
    const clusters = this.freeRun(Math.ceil(data.length / this.bytesPerCluster));
    let done = 0;
    for (const run of runsOf(clusters)) {
      const bytes = run.count * this.bytesPerCluster;
      const part = Buffer.alloc(bytes);
      data.copy(part, 0, done, Math.min(data.length, done + bytes));
      await this.write(this.offsetOf(run.first), part);
      done += bytes;
    }
    await this.setFat(this.chainLinks(clusters));
    return clusters[0]!;
  }

  private async dirCluster(path: string): Promise<number> {
    if (!path) return this.rootCluster;
    const e = await this.lookup(path);
    if (!e?.isDir) throw new JeosError('E_DISK_ESP_PATH', `the ESP has no directory ${path}`);
    return e.cluster;
  }

  /**
   * Add a name to a directory: its long-name entries and 8.3 entry, written in one write to
   * consecutive free slots of one sector (a directory grows by a zeroed cluster when it has none).
   */
  private async link(dirPath: string, name: string, attr: number, cluster: number, size: number): Promise<void> {
    const dir = await this.dirCluster(dirPath);
    const existing = await this.readDir(dir);
    if (existing.some((e) => e.name.toUpperCase() === name.toUpperCase())) {
      throw new JeosError('E_DISK_ESP_EXISTS', `${dirPath ? `${dirPath}/` : ''}${name} is already on the ESP`);
    }
    const taken = new Set(existing.map((e) => e.short));
    const short = shortNameOf(name, taken);
    const stamp = dosDateTime(this.time);
    const slots = [...(isShortName(name) ? [] : longNameEntries(name, shortNameChecksum(short))), shortEntry(short, attr, cluster, size, stamp)];
    const bytes = Buffer.concat(slots);
    const perSector = FAT_SECTOR / DIR_ENTRY;
    if (slots.length > perSector) throw new JeosError('E_DISK_ESP_NAME', `${name} is too long a name for the ESP`);
    const offset = await this.freeSlots(dir, slots.length, perSector);
    await this.write(offset, bytes);
  }

  /** The image offset of `count` free slots within one sector of the directory, growing it when needed. */
  private async freeSlots(dir: number, count: number, perSector: number): Promise<number> {
    const clusters = this.chain(dir);
    const data = await this.readChain(dir);
    const total = data.length / DIR_ENTRY;
    // A slot is free when deleted (0xE5) or at or after the end marker (0x00); slots after the end stay zero.
    let end = total;
    for (let i = 0; i < total; i++) if (data[i * DIR_ENTRY] === 0) { end = i; break; }
    const free = (i: number) => i >= end || data[i * DIR_ENTRY] === DELETED;
    const slotAt = (i: number) => this.offsetOf(clusters[Math.floor((i * DIR_ENTRY) / this.bytesPerCluster)]!) + ((i * DIR_ENTRY) % this.bytesPerCluster);
    for (let s = 0; s < total; s += perSector) {
      for (let i = s; i + count <= s + perSector && i + count <= total; i++) {
        let ok = true;
        for (let k = i; k < i + count; k++) if (!free(k)) ok = false;
        if (!ok) continue;
        // Slots of zeros before the new entry would end the directory before it: they become deleted slots first.
        if (i > end) await this.markDeleted(slotAt, end, i);
        return slotAt(i);
      }
    }
    // No room: a new zeroed cluster at the end of the directory's chain.
    await this.beginChange();
    if (end < total) await this.markDeleted(slotAt, end, total);
    const [grown] = this.freeRun(1);
    await this.write(this.offsetOf(grown!), Buffer.alloc(this.bytesPerCluster));
    await this.setFat(new Map([[grown!, END_OF_CHAIN], [clusters[clusters.length - 1]!, grown!]]));
    return this.offsetOf(grown!);
  }

  private async markDeleted(slotAt: (i: number) => number, from: number, to: number): Promise<void> {
    await this.beginChange();
    for (let i = from; i < to; i++) await this.write(slotAt(i), Buffer.from([DELETED]));
  }

  /** A new file: its data, its chain, then its directory entry. */
  async createFile(dirPath: string, name: string, data: Buffer, hooks: { beforeLink?: () => Promise<void> | void } = {}): Promise<void> {
    await this.beginChange();
    const first = await this.store(data);
    await hooks.beforeLink?.();
    await this.link(dirPath, name, ATTR.archive, first, data.length);
  }

  /** A new directory: its cluster (with `.` and `..`), its chain, then its entry in the parent. */
  async mkdir(dirPath: string, name: string): Promise<void> {
    await this.beginChange();
    const parent = await this.dirCluster(dirPath);
    const stamp = dosDateTime(this.time);
    const [c] = this.freeRun(1);
    const block = Buffer.alloc(this.bytesPerCluster);
    shortEntry('.          ', ATTR.directory, c!, 0, stamp).copy(block, 0);
    shortEntry('..         ', ATTR.directory, parent === this.rootCluster ? 0 : parent, 0, stamp).copy(block, DIR_ENTRY);
    await this.write(this.offsetOf(c!), block);
    await this.setFat(new Map([[c!, END_OF_CHAIN]]));
    await this.link(dirPath, name, ATTR.directory, c!, 0);
  }

  /** Remove a file, or a directory with everything in it: the entry first, then its clusters. */
  async remove(path: string): Promise<void> {
    const e = await this.lookup(path);
    if (!e) return;
    await this.beginChange();
    if (e.isDir) for (const child of await this.readDir(e.cluster)) await this.remove(`${path}/${child.name}`);
    // All of an entry's slots in one write when they are consecutive (they are, within a cluster).
    const first = e.slots[0]!;
    if (e.slots.every((s, i) => s === first + i * DIR_ENTRY)) {
      const buf = await this.read(first, e.slots.length * DIR_ENTRY);
      for (let i = 0; i < e.slots.length; i++) buf[i * DIR_ENTRY] = DELETED;
      await this.write(first, buf);
    } else {
      for (const s of [...e.slots].reverse()) await this.write(s, Buffer.from([DELETED]));
    }
    if (e.cluster >= 2) await this.setFat(new Map(this.chain(e.cluster).map((c) => [c, FREE])));
  }

  /**
   * Clusters marked used that no file or directory owns (what an interrupted edit leaves)
   * are freed, and FAT 2 is made equal to FAT 1. Returns the number of clusters freed.
   */
  async reclaimLost(): Promise<number> {
    const owned = new Set<number>();
    const walk = async (dir: number) => {
      for (const c of this.chain(dir)) owned.add(c);
      for (const e of await this.readDir(dir)) {
        if (e.cluster < 2) continue;
        if (e.isDir) await walk(e.cluster);
        else for (const c of this.chain(e.cluster)) owned.add(c);
      }
    };
    await walk(this.rootCluster);
    const lost = new Map<number, number>();
    for (let c = 2; c < this.fat.length; c++) if (this.fat[c] !== FREE && !owned.has(c)) lost.set(c, FREE);
    const fat2 = await this.read(this.base + (this.fatStart + this.fatSectors) * FAT_SECTOR, this.fat.length * 4);
    let differ = false;
    for (let c = 2; c < this.fat.length && !differ; c++) if ((fat2.readUInt32LE(c * 4) & MASK) !== this.fat[c]) differ = true;
    if (lost.size || differ) {
      await this.beginChange();
      if (differ) {
        const fat1 = await this.read(this.base + this.fatStart * FAT_SECTOR, this.fatSectors * FAT_SECTOR);
        await this.write(this.base + (this.fatStart + this.fatSectors) * FAT_SECTOR, fat1);
      }
      if (lost.size) await this.setFat(lost);
    }
    return lost.size;
  }
}
