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
 */
import type { FileHandle } from 'node:fs/promises';
import { JeosError } from '../../errors.js';
import { ATTR, dosDateTime, FAT_SECTOR, isShortName, longNameEntries, shortEntry, shortNameChecksum, shortNameOf } from './fat32.js';

const DIR_ENTRY = 32;
const FREE = 0;
const EOC_MIN = 0x0ffffff8;
const END_OF_CHAIN = 0x0fffffff;
const MASK = 0x0fffffff;
const DELETED = 0xe5;
const UNKNOWN = 0xffffffff;

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

export class FatVolume {
  /** FAT 1 as it is on the disk (the editor keeps it and FAT 2 equal). */
  private fat!: Uint32Array;
  private bytesPerCluster = 0;
  private sectorsPerCluster = 0;
  private fatStart = 0;
  private fatSectors = 0;
  private dataStart = 0;
  private clusterCount = 0;
  private rootCluster = 2;
  private fsInfoSector = 1;
  private freeCountDirty = false;

  private constructor(
    private readonly fh: FileHandle,
    /** Byte offset of the file system in the image file. */
    readonly base: number,
    readonly bytes: number,
    private readonly time: number,
  ) {}

  /** Open the FAT32 file system at `base` (`bytes` long); E_DISK_NOT_FAT32 when it is not one. */
  static async open(fh: FileHandle, base: number, bytes: number, options: { time?: number } = {}): Promise<FatVolume> {
    const v = new FatVolume(fh, base, bytes, options.time ?? Math.floor(Date.now() / 1000));
    await v.load();
    return v;
  }

  private async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, offset);
    if (bytesRead !== length) throw corrupt(`${length} bytes at ${offset} are beyond the end of the image`);
    return buf;
  }

  private async write(offset: number, data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  private async load(): Promise<void> {
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

  /** Everything written so far reaches the disk before anything written after. */
  async sync(): Promise<void> {
    await this.fh.sync();
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

  private offsetOf(cluster: number): number {
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

  private async readChain(first: number, size?: number): Promise<Buffer> {
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

  // --- Editing ---

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

/** Consecutive runs of a list of clusters. */
function runsOf(clusters: number[]): Array<{ first: number; count: number }> {
  const runs: Array<{ first: number; count: number }> = [];
  for (const c of clusters) {
    const last = runs[runs.length - 1];
    if (last && last.first + last.count === c) last.count++;
    else runs.push({ first: c, count: 1 });
  }
  return runs;
}
