/**
 * An ext4 image of the tree, written as a sparse file: a root file system a VM
 * boots from a disk, with the owners, modes, times and file capabilities the tree
 * holds, made without root, loop devices or mkfs. Same tree and options, same bytes:
 * the UUID and hash seed come from the tree's own digest.
 */
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { JeosError } from '../../errors.js';
import type { ImageTree } from '../../tree/index.js';
import {
  BLOCK_SIZE,
  DESC_SIZE,
  encodeExtentTree,
  encodeGroupDesc,
  encodeInode,
  encodeSuperblock,
  groupBlocks,
  groupStart,
  hasSuperblock,
  I_BLOCK_SIZE,
  INODE_SIZE,
  SUPERBLOCK_OFFSET,
  type Geometry,
} from './format.js';
import { planExt4, type Ext4Plan, type PlannedInode } from './plan.js';

export interface Ext4Options {
  /** SOURCE_DATE_EPOCH in seconds: no time in the file system is later. */
  sourceDateEpoch: number;
  /** Tree paths to leave out; a directory left out takes everything under it. */
  exclude?: (path: string) => boolean;
  /** Free space for the running system, in bytes (default 256 MiB; the file is sparse, so it costs no disk). */
  freeBytes?: number;
  /** Free inodes (default: as many as are used, at least 4096). */
  freeInodes?: number;
  /** Volume label, at most 16 bytes (default `root`). */
  label?: string;
  durable?: boolean;
  /** Called with the number of content bytes just written. */
  onData?: (bytes: number) => void;
}

export interface Ext4Result {
  /** Hex SHA-256 of the whole image, holes read as zeros. */
  sha256: string;
  /** Bytes of the image (its apparent size). */
  size: number;
  /** Bytes of blocks in use (metadata and contents). */
  usedBytes: number;
  blocks: number;
  inodes: number;
  usedInodes: number;
  uuid: string;
  /** Tree paths whose extended attributes did not fit in their inode (the image has 96 bytes for them). */
  xattrsDropped: string[];
}

export const DEFAULT_FREE_BYTES = 256 << 20;

/** A piece of the image: bytes that start at a block. */
interface Piece {
  block: number;
  data: Buffer;
}

const ZERO_CHUNK = Buffer.alloc(1 << 20);

function inodeTables(plan: Ext4Plan, pieces: Piece[]): void {
  const { geo } = plan;
  for (let g = 0; g < geo.groups; g++) {
    const first = g * geo.inodesPerGroup + 1;
    const last = Math.min(plan.usedInodes, first + geo.inodesPerGroup - 1);
    if (last < first) continue;
    const table = Buffer.alloc((last - first + 1) * INODE_SIZE);
    for (let ino = first; ino <= last; ino++) {
      const inode = plan.inodes[ino];
      if (inode) encodeInodeOf(inode, table, (ino - first) * INODE_SIZE, pieces);
    }
    pieces.push({ block: tableBlock(geo, g), data: table });
  }
}

function encodeInodeOf(inode: PlannedInode, into: Buffer, offset: number, pieces: Piece[]): void {
  let iBlock = inode.inline ?? Buffer.alloc(I_BLOCK_SIZE);
  let blocks = 0;
  const extents = inode.data !== undefined;
  if (extents) {
    const tree = encodeExtentTree(inode.extents, inode.leafBlock);
    iBlock = tree.iBlock;
    if (tree.leaf) pieces.push({ block: inode.leafBlock!, data: tree.leaf });
    blocks = inode.extents.reduce((sum, e) => sum + e.length, 0) + (tree.leaf ? 1 : 0);
    for (const e of inode.extents) {
      const from = e.logical * BLOCK_SIZE;
      pieces.push({ block: e.start, data: inode.data!.subarray(from, from + e.length * BLOCK_SIZE) });
    }
  }
  encodeInode(
    {
      mode: inode.mode,
      uid: inode.uid,
      gid: inode.gid,
      size: inode.size,
      time: inode.time,
      links: inode.links,
      sectors: blocks * (BLOCK_SIZE / 512),
      extents,
      iBlock,
      ...(inode.xattrs ? { xattrs: inode.xattrs } : {}),
    },
    into,
    offset,
  );
}

const bitmapBlock = (geo: Geometry, g: number) => groupStart(g) + (hasSuperblock(g) ? 1 + geo.gdtBlocks : 0);
const tableBlock = (geo: Geometry, g: number) => bitmapBlock(geo, g) + 2;

/** A bitmap block with its first `used` bits set and everything from `size` on (past the group's end) set too. */
function bitmap(used: number, size: number): Buffer {
  const b = Buffer.alloc(BLOCK_SIZE);
  const setRange = (from: number, to: number) => {
    for (let bit = from; bit < to; bit++) b[bit >> 3]! |= 1 << (bit & 7);
  };
  setRange(0, used);
  setRange(size, BLOCK_SIZE * 8);
  return b;
}

function metadata(plan: Ext4Plan, options: { time: number; uuid: Buffer; hashSeed: Buffer; label: string }, pieces: Piece[]): { freeBlocks: number; freeInodes: number } {
  const { geo } = plan;
  const gdt = Buffer.alloc(geo.gdtBlocks * BLOCK_SIZE);
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let g = 0; g < geo.groups; g++) {
    const size = groupBlocks(geo, g);
    const usedBlocks = plan.allocatedEnd[g]! - groupStart(g);
    const firstIno = g * geo.inodesPerGroup + 1;
    const usedInodes = Math.max(0, Math.min(geo.inodesPerGroup, plan.usedInodes - firstIno + 1));
    let dirs = 0;
    for (let i = 0; i < usedInodes; i++) if (plan.inodes[firstIno + i]?.isDir) dirs++;
    encodeGroupDesc(
      {
        blockBitmap: bitmapBlock(geo, g),
        inodeBitmap: bitmapBlock(geo, g) + 1,
        inodeTable: tableBlock(geo, g),
        freeBlocks: size - usedBlocks,
        freeInodes: geo.inodesPerGroup - usedInodes,
        usedDirs: dirs,
      },
      gdt,
      g * DESC_SIZE,
    );
    freeBlocks += size - usedBlocks;
    freeInodes += geo.inodesPerGroup - usedInodes;
    pieces.push({ block: bitmapBlock(geo, g), data: bitmap(usedBlocks, size) });
    pieces.push({ block: bitmapBlock(geo, g) + 1, data: bitmap(usedInodes, geo.inodesPerGroup) });
  }
  for (let g = 0; g < geo.groups; g++) {
    if (!hasSuperblock(g)) continue;
    const sb = encodeSuperblock({ geo, freeBlocks, freeInodes, ...options, group: g });
    // Group 0's superblock sits 1024 bytes into block 0; a copy starts its group's first block.
    const head = Buffer.alloc(BLOCK_SIZE);
    sb.copy(head, g === 0 ? SUPERBLOCK_OFFSET : 0);
    pieces.push({ block: groupStart(g), data: head }, { block: groupStart(g) + 1, data: gdt });
  }
  return { freeBlocks, freeInodes };
}

/** A digest of everything the image is made of, for a UUID and hash seed that change only when the tree does. */
function treeDigest(plan: Ext4Plan, label: string): Buffer {
  const hash = createHash('sha256').update(`jeos ext4\0${label}\0${plan.geo.blocks}\0`);
  for (const inode of plan.inodes) {
    if (!inode) continue;
    hash.update(`${inode.ino} ${inode.mode} ${inode.uid} ${inode.gid} ${inode.time} ${inode.links} ${inode.size}\0`);
    if (inode.data) hash.update(inode.data);
    if (inode.inline) hash.update(inode.inline);
    if (inode.xattrs) hash.update(inode.xattrs);
  }
  return hash.digest();
}

function asUuid(bytes: Buffer): Buffer {
  const uuid = Buffer.from(bytes.subarray(0, 16));
  uuid[6] = (uuid[6]! & 0x0f) | 0x40; // version 4 layout, as mke2fs's random UUIDs have
  uuid[8] = (uuid[8]! & 0x3f) | 0x80;
  return uuid;
}

const formatUuid = (u: Buffer) => {
  const h = u.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/**
 * Write the tree as an ext4 image to `path` (which must not exist yet; on failure
 * nothing is left there).
 */
export async function writeExt4Image(tree: ImageTree, path: string, options: Ext4Options): Promise<Ext4Result> {
  const epoch = options.sourceDateEpoch;
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** 31) {
    throw new JeosError('E_OUTPUT_EPOCH', `SOURCE_DATE_EPOCH ${epoch} is not a time this ext4 image can carry`, {
      hint: 'ext4 times without the extra epoch bits run from 1970 to 2038',
    });
  }
  const label = options.label ?? 'root';
  if (Buffer.byteLength(label) > 16) throw new JeosError('E_OUTPUT_EXT4_LABEL', `the volume label ${JSON.stringify(label)} is longer than 16 bytes`, { hint: 'ext4 labels are at most 16 bytes' });
  const usedGuess = tree.size;
  const plan = planExt4(tree, {
    sourceDateEpoch: epoch,
    ...(options.exclude ? { exclude: options.exclude } : {}),
    freeBytes: options.freeBytes ?? DEFAULT_FREE_BYTES,
    freeInodes: options.freeInodes ?? Math.max(4096, usedGuess),
  });
  const digest = treeDigest(plan, label);
  const uuid = asUuid(digest);
  const pieces: Piece[] = [];
  inodeTables(plan, pieces);
  const { freeBlocks, freeInodes } = metadata(plan, { time: epoch, uuid, hashSeed: asUuid(digest.subarray(16)), label }, pieces);
  pieces.sort((a, b) => a.block - b.block);

  const size = plan.geo.blocks * BLOCK_SIZE;
  const hash = createHash('sha256');
  const fh = await open(path, 'wx', 0o644);
  let done = false;
  try {
    let at = 0;
    const hashZeros = (to: number) => {
      while (at < to) {
        const n = Math.min(ZERO_CHUNK.length, to - at);
        hash.update(ZERO_CHUNK.subarray(0, n));
        at += n;
      }
    };
    for (const piece of pieces) {
      const offset = piece.block * BLOCK_SIZE;
      if (offset < at) throw new Error(`ext4 writer: block ${piece.block} written twice`);
      hashZeros(offset);
      const padded = Math.ceil(piece.data.length / BLOCK_SIZE) * BLOCK_SIZE;
      // A write may come up short (a full disk); writing the rest surfaces the errno (ENOSPC), which
      // the outputs stage reports as E_OUTPUT_IO.
      for (let done = 0; done < piece.data.length; ) {
        const { bytesWritten } = await fh.write(piece.data, done, piece.data.length - done, offset + done);
        if (bytesWritten === 0) throw Object.assign(new Error(`write made no progress at byte ${offset + done}`), { code: 'EIO', syscall: 'write' });
        done += bytesWritten;
      }
      hash.update(piece.data);
      at = offset + piece.data.length;
      // The rest of a partly filled block is left as a hole: it reads as zeros.
      hashZeros(offset + padded);
      options.onData?.(piece.data.length);
    }
    hashZeros(size);
    await fh.truncate(size);
    if (options.durable) await fh.sync();
    done = true;
  } finally {
    await fh.close();
    if (!done) await rm(path, { force: true });
  }
  const blocksUsed = plan.geo.blocks - freeBlocks;
  return {
    sha256: hash.digest('hex'),
    size,
    usedBytes: blocksUsed * BLOCK_SIZE,
    blocks: plan.geo.blocks,
    inodes: plan.geo.groups * plan.geo.inodesPerGroup,
    usedInodes: plan.geo.groups * plan.geo.inodesPerGroup - freeInodes,
    uuid: formatUuid(uuid),
    xattrsDropped: plan.xattrsDropped,
  };
}

