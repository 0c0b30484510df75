/**
 * Lay the tree out as an ext4 file system before writing a byte: inode numbers in
 * tree order (the root is 2, lost+found 11, the rest from 12; all names of a
 * hardlinked file share one), every directory's entries, then the geometry and
 * where each inode's blocks go. Data is allocated front to back, in tree order, so
 * a group's used blocks are one run from its start and its bitmaps are a prefix.
 */
import { JeosError } from '../../errors.js';
import type { ImageTree, TreeNode } from '../../tree/index.js';
import { checkNodeMeta, keptEntries, linkedFile, metadataError as baseMetadataError } from '../tree-entries.js';
import {
  BLOCK_SIZE,
  BLOCKS_PER_GROUP,
  DESC_SIZE,
  encodeDevice,
  encodeDirectory,
  encodeInodeXattrs,
  FIRST_INO,
  FT,
  groupOverhead,
  groupStart,
  I_BLOCK_SIZE,
  INODE_EXTENTS,
  INODE_SIZE,
  INODES_PER_BLOCK,
  LEAF_EXTENTS,
  MAX_EXTENT_LEN,
  ROOT_INO,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
  type DirEntry,
  type Extent,
  type Geometry,
} from './format.js';

export interface PlannedInode {
  ino: number;
  /** Type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  time: number;
  links: number;
  size: number;
  /** What goes in its data blocks (file contents, directory blocks, a long symlink's target). */
  data?: Buffer;
  /** `i_block` of inodes without data blocks: a short symlink's target, a device number. */
  inline?: Buffer;
  xattrs?: Buffer;
  extents: Extent[];
  /** The block holding the extents when there are more than fit in the inode. */
  leafBlock?: number;
  isDir: boolean;
}

export interface Ext4Plan {
  geo: Geometry;
  /** Indexed by inode number; entries 1–10 are the reserved inodes (all zero). */
  inodes: Array<PlannedInode | undefined>;
  usedInodes: number;
  /** Per group: the first block after everything allocated in it. */
  allocatedEnd: number[];
  /** Tree paths whose extended attributes did not fit in the inode and were left behind. */
  xattrsDropped: string[];
  /** Bytes of file content (what progress counts up to). */
  dataSize: number;
}

export interface PlanOptions {
  sourceDateEpoch: number;
  exclude?: (path: string) => boolean;
  /** Free space to leave for the running system, in bytes. */
  freeBytes: number;
  /** Free inodes to leave. */
  freeInodes: number;
}

const MAX_LINKS = 65000;
const EXT4 = 'an ext4 image';
const metadataError = (path: string, what: string, value: number, hint: string) => baseMetadataError(path, what, value, EXT4, hint);
const checkMeta = (path: string, node: TreeNode) => checkNodeMeta(path, node, EXT4);

const TYPE_BITS = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK, char: S_IFCHR, block: S_IFBLK, fifo: S_IFIFO } as const;

/** Inodes and directory entries for the kept part of the tree. */
function planInodes(tree: ImageTree, options: PlanOptions): Pick<Ext4Plan, 'inodes' | 'xattrsDropped' | 'dataSize'> {
  const epoch = options.sourceDateEpoch;
  const clamp = (mtime: number) => Math.max(0, Math.min(Math.floor(mtime), epoch, 2 ** 31 - 1));
  const kept = keptEntries(tree, options.exclude);
  const inodes: Array<PlannedInode | undefined> = [];
  const inoOf = new Map<string, number>();
  const children = new Map<string, DirEntry[]>();
  const xattrsDropped: string[] = [];
  let dataSize = 0;
  let next = FIRST_INO + 1;
  const hasLostFound = tree.get('lost+found')?.kind === 'dir';

  const newInode = (ino: number, path: string, node: TreeNode, fields: Partial<PlannedInode>): PlannedInode => {
    let xattrs: Buffer | undefined;
    if (node.xattrs && node.xattrs.size > 0) {
      xattrs = encodeInodeXattrs(node.xattrs);
      if (!xattrs) xattrsDropped.push(path);
    }
    const inode: PlannedInode = {
      ino,
      mode: TYPE_BITS[node.kind === 'hardlink' ? 'file' : node.kind] | node.mode,
      uid: node.uid,
      gid: node.gid,
      time: clamp(node.mtime),
      links: 1,
      size: 0,
      extents: [],
      isDir: node.kind === 'dir',
      ...(xattrs ? { xattrs } : {}),
      ...fields,
    };
    inodes[ino] = inode;
    return inode;
  };

  for (const [path, node] of kept) {
    checkMeta(path, node);
    let ino: number;
    let type: number;
    if (node.kind === 'file' || node.kind === 'hardlink') {
      const [filePath, file] = node.kind === 'file' ? [path, node] : linkedFile(tree, path, node.target);
      checkMeta(filePath, file);
      type = FT.file;
      const known = inoOf.get(filePath);
      if (known !== undefined) {
        ino = known;
        inodes[ino]!.links += 1;
        if (inodes[ino]!.links > MAX_LINKS) throw metadataError(filePath, 'hardlink count', inodes[ino]!.links, `ext4 allows ${MAX_LINKS} names per file`);
      } else {
        ino = next++;
        inoOf.set(filePath, ino);
        newInode(ino, filePath, file, { size: file.data.length, data: file.data });
        dataSize += file.data.length;
      }
      inoOf.set(path, ino);
    } else {
      ino = path === '' ? ROOT_INO : path === 'lost+found' && hasLostFound ? FIRST_INO : next++;
      inoOf.set(path, ino);
      type = FT[node.kind];
      if (node.kind === 'dir') {
        newInode(ino, path, node, { links: 2 });
        children.set(path, []);
      } else if (node.kind === 'symlink') {
        const target = Buffer.from(node.target, 'utf8');
        if (target.length === 0 || target.length >= BLOCK_SIZE) {
          throw metadataError(path, 'a symlink target of', target.length, `ext4 symlink targets are 1 to ${BLOCK_SIZE - 1} bytes`);
        }
        if (target.length < I_BLOCK_SIZE) {
          const inline = Buffer.alloc(I_BLOCK_SIZE);
          target.copy(inline);
          newInode(ino, path, node, { size: target.length, inline });
        } else newInode(ino, path, node, { size: target.length, data: target });
      } else if (node.kind === 'char' || node.kind === 'block') {
        newInode(ino, path, node, { inline: encodeDevice(node.major, node.minor) });
      } else newInode(ino, path, node, {});
    }
    if (path === '') continue;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    const siblings = children.get(parent);
    if (!siblings) continue; // under a directory left out
    const name = Buffer.from(path.slice(slash + 1), 'utf8');
    if (name.length > 255) throw metadataError(path, 'a name of', name.length, 'ext4 names are at most 255 bytes');
    siblings.push({ name, ino, type });
  }

  if (!inodes[ROOT_INO]) throw new JeosError('E_OUTPUT_METADATA', 'the image tree has no root directory', { hint: 'the tree always starts with its root; this is a bug in the stage that built it' });
  if (!hasLostFound) {
    // e2fsck puts what it recovers here; mke2fs makes it, so do we.
    const root = inodes[ROOT_INO]!;
    inodes[FIRST_INO] = { ino: FIRST_INO, mode: S_IFDIR | 0o700, uid: 0, gid: 0, time: root.time, links: 2, size: 0, extents: [], isDir: true };
    children.set('lost+found', []);
    inoOf.set('lost+found', FIRST_INO);
    children.get('')!.push({ name: Buffer.from('lost+found'), ino: FIRST_INO, type: FT.dir });
  }

  for (const [dir, entries] of children) {
    const ino = inoOf.get(dir)!;
    const slash = dir.lastIndexOf('/');
    const parentIno = dir === '' ? ROOT_INO : inoOf.get(slash < 0 ? '' : dir.slice(0, slash))!;
    const subdirs = entries.filter((e) => e.type === FT.dir).length;
    const inode = inodes[ino]!;
    // dir_nlink: a directory with too many subdirectories counts 1 link.
    inode.links = 2 + subdirs > MAX_LINKS ? 1 : 2 + subdirs;
    inode.data = encodeDirectory([
      { name: Buffer.from('.'), ino, type: FT.dir },
      { name: Buffer.from('..'), ino: parentIno, type: FT.dir },
      ...entries.sort((a, b) => Buffer.compare(a.name, b.name)),
    ]);
    inode.size = inode.data.length;
  }
  return { inodes, xattrsDropped, dataSize };
}

const blocksOf = (bytes: number) => Math.ceil(bytes / BLOCK_SIZE);

/** Groups, inodes per group and table sizes for `dataBlocks` of data plus the free space asked for. */
function planGeometry(dataBlocks: number, inodeCount: number, options: PlanOptions): Geometry {
  const freeBlocks = blocksOf(options.freeBytes);
  let groups = 1;
  for (;;) {
    const inodesPerGroup = Math.max(INODES_PER_BLOCK, Math.ceil((inodeCount + options.freeInodes) / groups / INODES_PER_BLOCK) * INODES_PER_BLOCK);
    if (inodesPerGroup > BLOCKS_PER_GROUP) {
      groups = Math.ceil((inodeCount + options.freeInodes) / BLOCKS_PER_GROUP);
      continue;
    }
    const geo: Geometry = {
      blocks: 0,
      groups,
      inodesPerGroup,
      gdtBlocks: blocksOf(groups * DESC_SIZE),
      inodeTableBlocks: (inodesPerGroup * INODE_SIZE) / BLOCK_SIZE,
    };
    let overhead = 0;
    for (let g = 0; g < groups; g++) overhead += groupOverhead(geo, g);
    // Every extent may end at a group boundary: a leaf block per group is the most that costs.
    let blocks = dataBlocks + groups + freeBlocks + overhead;
    const needed = Math.ceil(blocks / BLOCKS_PER_GROUP);
    if (needed > groups) {
      groups = needed;
      continue;
    }
    // A last group too small to hold its own metadata and some data is not worth having.
    const last = blocks - groupStart(groups - 1);
    blocks += Math.max(0, groupOverhead(geo, groups - 1) + 64 - last);
    return { ...geo, blocks: Math.min(blocks, groups * BLOCKS_PER_GROUP) };
  }
}

/** Place every inode's blocks: front to back, in inode order, one extent per run within a group. */
function allocate(plan: Pick<Ext4Plan, 'inodes'>, geo: Geometry): number[] {
  const allocatedEnd = Array.from({ length: geo.groups }, (_, g) => groupStart(g) + groupOverhead(geo, g));
  let group = 0;
  const take = (count: number): Array<{ start: number; length: number }> => {
    const runs: Array<{ start: number; length: number }> = [];
    while (count > 0) {
      if (group >= geo.groups) throw new Error('ext4 plan: the file system is smaller than its contents');
      const end = Math.min(geo.blocks, groupStart(group + 1));
      const length = Math.min(count, end - allocatedEnd[group]!, MAX_EXTENT_LEN);
      if (length <= 0) {
        group++;
        continue;
      }
      runs.push({ start: allocatedEnd[group]!, length });
      allocatedEnd[group]! += length;
      count -= length;
    }
    return runs;
  };
  for (const inode of plan.inodes) {
    if (!inode?.data) continue;
    let logical = 0;
    inode.extents = take(blocksOf(inode.data.length)).map((run) => {
      const extent = { logical, ...run };
      logical += run.length;
      return extent;
    });
    if (inode.extents.length > INODE_EXTENTS) {
      if (inode.extents.length > LEAF_EXTENTS) throw new Error(`ext4 plan: inode ${inode.ino} needs ${inode.extents.length} extents`);
      inode.leafBlock = take(1)[0]!.start;
    }
  }
  return allocatedEnd;
}

export function planExt4(tree: ImageTree, options: PlanOptions): Ext4Plan {
  const { inodes, xattrsDropped, dataSize } = planInodes(tree, options);
  let dataBlocks = 0;
  for (const inode of inodes) if (inode?.data) dataBlocks += blocksOf(inode.data.length);
  const usedInodes = inodes.length - 1;
  const geo = planGeometry(dataBlocks, usedInodes, options);
  const allocatedEnd = allocate({ inodes }, geo);
  return { geo, inodes, usedInodes, allocatedEnd, xattrsDropped, dataSize };
}
