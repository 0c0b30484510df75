/**
 * The on-disk structures of the ext4 file systems jeos writes, as the kernel's
 * Documentation/filesystems/ext4 describes them. Only what a read-write root needs,
 * with nothing to repair or replay:
 *
 * - 4 KiB blocks, 32768 blocks per group, block 0 holding the superblock at byte 1024;
 *   32-byte group descriptors (no `64bit`), copies of the superblock and descriptors
 *   in groups 0, 1 and the powers of 3, 5 and 7 (`sparse_super`).
 * - 256-byte inodes with nanosecond-capable extra fields and room for in-inode
 *   extended attributes (file capabilities), `extents` for every data-bearing inode.
 * - Linear directories with a file type in each entry (`filetype`); no htree index,
 *   no journal (the writable copy a VM boots is thrown away when it stops), no
 *   checksums.
 */

export const BLOCK_SIZE = 4096;
export const BLOCKS_PER_GROUP = 8 * BLOCK_SIZE;
export const INODE_SIZE = 256;
export const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
/** Size of the fixed part of an inode plus the extra fields the kernel reads (`i_extra_isize`). */
export const GOOD_OLD_INODE_SIZE = 128;
export const EXTRA_ISIZE = 32;
export const DESC_SIZE = 32;
export const ROOT_INO = 2;
export const FIRST_INO = 11;
export const SUPERBLOCK_OFFSET = 1024;

export { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG } from '../file-types.js';

/** Directory entry file types (`filetype` feature). */
export const FT = { file: 1, dir: 2, char: 3, block: 4, fifo: 5, symlink: 7 } as const;

const COMPAT_EXT_ATTR = 0x0008;
const INCOMPAT_FILETYPE = 0x0002;
const INCOMPAT_EXTENTS = 0x0040;
const RO_COMPAT_SPARSE_SUPER = 0x0001;
const RO_COMPAT_LARGE_FILE = 0x0002;
const RO_COMPAT_DIR_NLINK = 0x0020;
const RO_COMPAT_EXTRA_ISIZE = 0x0040;
const EXTENTS_FL = 0x00080000;
const EXTENT_MAGIC = 0xf30a;
const XATTR_MAGIC = 0xea020000;
/** Bytes of `i_block`: a fast symlink's target or the root of the extent tree. */
export const I_BLOCK_SIZE = 60;
/** Extents that fit in the inode itself; more need a leaf block. */
export const INODE_EXTENTS = 4;
export const LEAF_EXTENTS = (BLOCK_SIZE - 12) / 12;
/** The longest run one (initialised) extent can describe. */
export const MAX_EXTENT_LEN = 32768;

/** Groups that carry a copy of the superblock and group descriptors (`sparse_super`). */
export function hasSuperblock(group: number): boolean {
  if (group <= 1) return true;
  for (const base of [3, 5, 7]) {
    let n = base;
    while (n < group) n *= base;
    if (n === group) return true;
  }
  return false;
}

export interface Geometry {
  blocks: number;
  groups: number;
  inodesPerGroup: number;
  /** Blocks of group descriptors after each superblock copy. */
  gdtBlocks: number;
  inodeTableBlocks: number;
}

/** Blocks at the start of a group before its data: superblock and descriptors (if any), two bitmaps, the inode table. */
export function groupOverhead(geo: Geometry, group: number): number {
  return (hasSuperblock(group) ? 1 + geo.gdtBlocks : 0) + 2 + geo.inodeTableBlocks;
}

export function groupStart(group: number): number {
  return group * BLOCKS_PER_GROUP;
}

export function groupBlocks(geo: Geometry, group: number): number {
  return Math.min(BLOCKS_PER_GROUP, geo.blocks - groupStart(group));
}

export interface SuperblockFields {
  geo: Geometry;
  freeBlocks: number;
  freeInodes: number;
  /** Seconds: creation, last write and last check. */
  time: number;
  uuid: Buffer;
  hashSeed: Buffer;
  label: string;
  group: number;
}

export function encodeSuperblock(f: SuperblockFields): Buffer {
  const b = Buffer.alloc(1024);
  const { geo } = f;
  b.writeUInt32LE(geo.groups * geo.inodesPerGroup, 0);
  b.writeUInt32LE(geo.blocks, 4);
  b.writeUInt32LE(f.freeBlocks, 12);
  b.writeUInt32LE(f.freeInodes, 16);
  b.writeUInt32LE(0, 20); // first data block: 0 with 4 KiB blocks
  b.writeUInt32LE(2, 24); // log2(block size) - 10
  b.writeUInt32LE(2, 28); // cluster size = block size
  b.writeUInt32LE(BLOCKS_PER_GROUP, 32);
  b.writeUInt32LE(BLOCKS_PER_GROUP, 36);
  b.writeUInt32LE(geo.inodesPerGroup, 40);
  b.writeUInt32LE(f.time, 48); // last write
  b.writeUInt16LE(0xffff, 54); // max mount count -1: no forced checks
  b.writeUInt16LE(0xef53, 56);
  b.writeUInt16LE(1, 58); // cleanly unmounted
  b.writeUInt16LE(1, 60); // on errors: continue
  b.writeUInt32LE(f.time, 64); // last check
  b.writeUInt32LE(1, 76); // dynamic revision
  b.writeUInt32LE(FIRST_INO, 84);
  b.writeUInt16LE(INODE_SIZE, 88);
  b.writeUInt16LE(f.group, 90);
  b.writeUInt32LE(COMPAT_EXT_ATTR, 92);
  b.writeUInt32LE(INCOMPAT_FILETYPE | INCOMPAT_EXTENTS, 96);
  b.writeUInt32LE(RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_DIR_NLINK | RO_COMPAT_EXTRA_ISIZE, 100);
  f.uuid.copy(b, 104, 0, 16);
  b.write(f.label, 120, 16, 'utf8');
  f.hashSeed.copy(b, 236, 0, 16);
  b.writeUInt8(1, 252); // default hash: half_md4 (used only if an index is ever added)
  b.writeUInt32LE(f.time, 264); // created
  b.writeUInt16LE(EXTRA_ISIZE, 348);
  b.writeUInt16LE(EXTRA_ISIZE, 350);
  b.writeUInt32LE(0x1, 352); // signed directory hash, as on x86
  return b;
}

export interface GroupDesc {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
}

export function encodeGroupDesc(d: GroupDesc, into: Buffer, offset: number): void {
  into.writeUInt32LE(d.blockBitmap, offset);
  into.writeUInt32LE(d.inodeBitmap, offset + 4);
  into.writeUInt32LE(d.inodeTable, offset + 8);
  into.writeUInt16LE(d.freeBlocks, offset + 12);
  into.writeUInt16LE(d.freeInodes, offset + 14);
  into.writeUInt16LE(d.usedDirs, offset + 16);
}

/** A run of blocks holding logical blocks `logical…logical+length-1` of an inode. */
export interface Extent {
  logical: number;
  start: number;
  length: number;
}

function writeExtentHeader(into: Buffer, offset: number, entries: number, max: number, depth: number): void {
  into.writeUInt16LE(EXTENT_MAGIC, offset);
  into.writeUInt16LE(entries, offset + 2);
  into.writeUInt16LE(max, offset + 4);
  into.writeUInt16LE(depth, offset + 6);
}

function writeExtents(into: Buffer, offset: number, extents: readonly Extent[]): void {
  extents.forEach((e, i) => {
    const at = offset + 12 + i * 12;
    into.writeUInt32LE(e.logical, at);
    into.writeUInt16LE(e.length, at + 4);
    into.writeUInt16LE(Math.floor(e.start / 2 ** 32), at + 6);
    into.writeUInt32LE(e.start % 2 ** 32, at + 8);
  });
}

/**
 * The extent tree of an inode: up to four extents in `i_block`, otherwise one index
 * entry there pointing at a leaf block (returned, to be written at `leafBlock`).
 */
export function encodeExtentTree(extents: readonly Extent[], leafBlock?: number): { iBlock: Buffer; leaf?: Buffer } {
  const iBlock = Buffer.alloc(I_BLOCK_SIZE);
  if (extents.length <= INODE_EXTENTS) {
    writeExtentHeader(iBlock, 0, extents.length, INODE_EXTENTS, 0);
    writeExtents(iBlock, 0, extents);
    return { iBlock };
  }
  if (leafBlock === undefined || extents.length > LEAF_EXTENTS) throw new Error(`an extent tree of ${extents.length} extents needs one leaf block`);
  writeExtentHeader(iBlock, 0, 1, INODE_EXTENTS, 1);
  iBlock.writeUInt32LE(0, 12); // the index covers logical block 0 onwards
  iBlock.writeUInt32LE(leafBlock % 2 ** 32, 16);
  iBlock.writeUInt16LE(Math.floor(leafBlock / 2 ** 32), 20);
  const leaf = Buffer.alloc(BLOCK_SIZE);
  writeExtentHeader(leaf, 0, extents.length, LEAF_EXTENTS, 0);
  writeExtents(leaf, 0, extents);
  return { iBlock, leaf };
}

/** `user.` 1, `system.posix_acl_access` 2, `system.posix_acl_default` 3, `trusted.` 4, `security.` 6, `system.` 7. */
function xattrIndex(name: string): [number, string] | undefined {
  if (name === 'system.posix_acl_access') return [2, ''];
  if (name === 'system.posix_acl_default') return [3, ''];
  for (const [prefix, index] of [['user.', 1], ['trusted.', 4], ['security.', 6], ['system.', 7]] as const) {
    if (name.startsWith(prefix)) return [index, name.slice(prefix.length)];
  }
  return undefined;
}

/** The kernel's ext4_xattr_hash_entry: names and values folded into 32 bits. */
function xattrHash(name: Buffer, value: Buffer): number {
  let hash = 0;
  for (const c of name) hash = ((hash << 5) ^ (hash >>> 27) ^ ((c << 24) >> 24)) >>> 0;
  const padded = Buffer.alloc(Math.ceil(value.length / 4) * 4);
  value.copy(padded);
  for (let i = 0; i < padded.length; i += 4) hash = ((hash << 16) ^ (hash >>> 16) ^ padded.readUInt32LE(i)) >>> 0;
  return hash;
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** Bytes available to extended attributes inside an inode, after the 4-byte magic. */
export const IN_INODE_XATTR_SPACE = INODE_SIZE - GOOD_OLD_INODE_SIZE - EXTRA_ISIZE - 4;

/**
 * Extended attributes stored in the inode's spare bytes: a magic number, the entries
 * (sorted, as the kernel writes them) ending with four zero bytes, the values packed
 * from the end. Returns undefined when they do not fit or a name has no ext4 prefix.
 */
export function encodeInodeXattrs(xattrs: ReadonlyMap<string, Buffer>): Buffer | undefined {
  const region = Buffer.alloc(IN_INODE_XATTR_SPACE + 4);
  region.writeUInt32LE(XATTR_MAGIC, 0);
  const body = region.subarray(4);
  let entryAt = 0;
  let valueEnd = body.length;
  const entries = [...xattrs].map(([name, value]) => ({ name, value, index: xattrIndex(name) }));
  entries.sort((a, b) => (a.index?.[0] ?? 0) - (b.index?.[0] ?? 0) || (a.index?.[1] ?? '').localeCompare(b.index?.[1] ?? ''));
  for (const { value, index } of entries) {
    if (!index) return undefined;
    const suffix = Buffer.from(index[1], 'utf8');
    const entrySize = pad4(16 + suffix.length);
    valueEnd -= pad4(value.length);
    if (suffix.length > 255 || entryAt + entrySize + 4 > valueEnd) return undefined;
    body.writeUInt8(suffix.length, entryAt);
    body.writeUInt8(index[0], entryAt + 1);
    body.writeUInt16LE(value.length ? valueEnd : 0, entryAt + 2);
    body.writeUInt32LE(0, entryAt + 4);
    body.writeUInt32LE(value.length, entryAt + 8);
    body.writeUInt32LE(xattrHash(suffix, value), entryAt + 12);
    suffix.copy(body, entryAt + 16);
    value.copy(body, valueEnd);
    entryAt += entrySize;
  }
  return region;
}

export interface InodeFields {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  time: number;
  links: number;
  /** 512-byte sectors allocated, leaf blocks included. */
  sectors: number;
  extents: boolean;
  iBlock: Buffer;
  xattrs?: Buffer;
}

export function encodeInode(f: InodeFields, into: Buffer, offset: number): void {
  into.writeUInt16LE(f.mode, offset);
  into.writeUInt16LE(f.uid & 0xffff, offset + 2);
  into.writeUInt32LE(f.size % 2 ** 32, offset + 4);
  into.writeUInt32LE(f.time, offset + 8); // atime
  into.writeUInt32LE(f.time, offset + 12); // ctime
  into.writeUInt32LE(f.time, offset + 16); // mtime
  into.writeUInt16LE(f.gid & 0xffff, offset + 24);
  into.writeUInt16LE(f.links, offset + 26);
  into.writeUInt32LE(f.sectors % 2 ** 32, offset + 28);
  into.writeUInt32LE(f.extents ? EXTENTS_FL : 0, offset + 32);
  f.iBlock.copy(into, offset + 40);
  into.writeUInt32LE(Math.floor(f.size / 2 ** 32), offset + 108);
  into.writeUInt16LE(Math.floor(f.sectors / 2 ** 32), offset + 116);
  into.writeUInt16LE(f.uid >>> 16, offset + 120);
  into.writeUInt16LE(f.gid >>> 16, offset + 122);
  into.writeUInt16LE(EXTRA_ISIZE, offset + 128);
  into.writeUInt32LE(f.time, offset + 144); // crtime
  f.xattrs?.copy(into, offset + GOOD_OLD_INODE_SIZE + EXTRA_ISIZE);
}

export interface DirEntry {
  name: Buffer;
  ino: number;
  type: number;
}

const direntSize = (nameLength: number) => pad4(8 + nameLength);

/** A directory's entries packed into whole blocks; no entry crosses a block, the last of each block fills it. */
export function encodeDirectory(entries: readonly DirEntry[]): Buffer {
  const blocks: Buffer[] = [];
  let block = Buffer.alloc(BLOCK_SIZE);
  let at = 0;
  let last = -1;
  const close = () => {
    if (last >= 0) block.writeUInt16LE(BLOCK_SIZE - last, last + 4);
    blocks.push(block);
  };
  for (const e of entries) {
    const size = direntSize(e.name.length);
    if (at + size > BLOCK_SIZE) {
      close();
      block = Buffer.alloc(BLOCK_SIZE);
      at = 0;
      last = -1;
    }
    block.writeUInt32LE(e.ino, at);
    block.writeUInt16LE(size, at + 4);
    block.writeUInt8(e.name.length, at + 6);
    block.writeUInt8(e.type, at + 7);
    e.name.copy(block, at + 8);
    last = at;
    at += size;
  }
  close();
  return Buffer.concat(blocks);
}

/** Device numbers in `i_block`: the old 16-bit form when it fits, else the new one in the second word. */
export function encodeDevice(major: number, minor: number): Buffer {
  const iBlock = Buffer.alloc(I_BLOCK_SIZE);
  if (major < 256 && minor < 256) iBlock.writeUInt32LE((major << 8) | minor, 0);
  else iBlock.writeUInt32LE(((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, 4);
  return iBlock;
}
