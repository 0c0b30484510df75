/**
 * The image tree as newc cpio entries, in tree order (parents first), the way the
 * kernel's init/initramfs.c unpacks them:
 *
 * - The root comes first as `.`: the initramfs root is a tmpfs whose own mode is
 *   1777 until an entry for `.` sets the tree's (0755, root-owned).
 * - Names carry no leading `/` or `./`; times are clamped to SOURCE_DATE_EPOCH
 *   (and to 0 from below: newc has no times before 1970); owners are numeric.
 * - Inode numbers count up from 1 in archive order. All names of a hardlinked file
 *   share its inode number and nlink, and only the last name carries the data (as
 *   GNU cpio and the kernel's gen_init_cpio write it): the kernel creates the file
 *   at the first name, links each later one to it and writes the data when it
 *   comes; GNU cpio -i defers the empty names until the data arrives.
 * - Symlink targets are the entry's data; devices carry rdevmajor/rdevminor.
 * - Extended attributes cannot be stored: newc has no field for them and the
 *   kernel's unpacker would not apply them. File capabilities
 *   (`security.capability`) are therefore lost in an initramfs; the paths that had
 *   xattrs are reported so the build can say so. A disk image keeps them.
 */
import { JeosError } from '../../errors.js';
import type { FileNode, ImageTree, TreeNode } from '../../tree/index.js';
import { checkNodeMeta, keptEntries, linkedFile, metadataError as baseMetadataError } from '../tree-entries.js';
import {
  encodeNewcHeader,
  KERNEL_PATH_MAX,
  MAX_DEV_MAJOR,
  MAX_DEV_MINOR,
  NEWC_MAX_FIELD,
  PAD,
  padTo4,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFREG,
  trailer,
  type NewcEntry,
} from './newc.js';

export interface CpioItem {
  entry: NewcEntry;
  /** File contents (the tree's own Buffer, never copied) or the symlink text. */
  data?: Buffer;
}

export interface CpioOptions {
  /** SOURCE_DATE_EPOCH in seconds: no time in the archive is later. */
  sourceDateEpoch: number;
  /** Tree paths (`usr/share/doc`) to leave out; a directory left out takes everything under it. */
  exclude?: (path: string) => boolean;
}

export interface CpioPlan {
  items: CpioItem[];
  /** Tree paths whose extended attributes (e.g. file capabilities) the archive cannot carry. */
  xattrsDropped: string[];
  /** Bytes of file content and symlink text (what `onData` counts up to). */
  dataSize: number;
}

const CPIO = 'a cpio initramfs';
const metadataError = (path: string, what: string, value: number, hint: string) => baseMetadataError(path, what, value, CPIO, hint);
const checkMeta = (path: string, node: TreeNode) => checkNodeMeta(path, node, CPIO);

/**
 * Work out every entry before any byte is written, so bad metadata (an id, size or
 * time newc cannot hold, a dangling hardlink, a name the kernel would skip) fails
 * the build before slow work starts.
 */
export function planCpio(tree: ImageTree, options: CpioOptions): CpioPlan {
  const epoch = options.sourceDateEpoch;
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > NEWC_MAX_FIELD) {
    throw new JeosError('E_OUTPUT_EPOCH', `SOURCE_DATE_EPOCH ${epoch} is not a time a cpio newc header can carry`, {
      hint: 'newc times are 32-bit: whole seconds from 1970 to early 2106',
    });
  }
  const clamp = (mtime: number) => Math.max(0, Math.min(Math.floor(mtime), epoch));

  const kept = keptEntries(tree, options.exclude);

  // Hardlink groups: every kept name of one regular file, in tree order.
  const fileOf = new Map<string, [string, FileNode]>();
  const names = new Map<string, string[]>();
  for (const [path, node] of kept) {
    if (node.kind !== 'file' && node.kind !== 'hardlink') continue;
    const file: [string, FileNode] = node.kind === 'file' ? [path, node] : linkedFile(tree, path, node.target);
    fileOf.set(path, file);
    const group = names.get(file[0]);
    if (group) group.push(path);
    else names.set(file[0], [path]);
  }

  const items: CpioItem[] = [];
  const xattrsDropped: string[] = [];
  const inodes = new Map<string, number>();
  let nextIno = 1;
  let dataSize = 0;
  for (const [path, node] of kept) {
    checkMeta(path, node);
    const name = path === '' ? '.' : path;
    const base = { name, uid: node.uid, gid: node.gid, mtime: clamp(node.mtime), nlink: 1, filesize: 0 };
    const hasXattrs = (n: TreeNode) => n.xattrs !== undefined && n.xattrs.size > 0;
    if (node.kind !== 'file' && node.kind !== 'hardlink' && hasXattrs(node)) xattrsDropped.push(path);
    switch (node.kind) {
      case 'dir':
        // nlink is not read by the kernel; 2 as gen_init_cpio writes it.
        items.push({ entry: { ...base, ino: nextIno++, mode: S_IFDIR | node.mode, nlink: 2 } });
        break;
      case 'symlink': {
        const data = Buffer.from(node.target, 'utf8');
        if (data.length > KERNEL_PATH_MAX) {
          throw new JeosError('E_OUTPUT_CPIO_NAME', `symlink /${path} has a target of ${data.length} bytes, longer than the kernel unpacks (${KERNEL_PATH_MAX})`, {
            hint: 'the kernel skips initramfs symlinks with longer targets',
          });
        }
        items.push({ entry: { ...base, ino: nextIno++, mode: S_IFLNK | node.mode, filesize: data.length }, data });
        dataSize += data.length;
        break;
      }
      case 'char':
      case 'block':
        if (!Number.isInteger(node.major) || node.major < 0 || node.major > MAX_DEV_MAJOR) {
          throw metadataError(path, 'device major', node.major, `the kernel's device numbers have majors up to ${MAX_DEV_MAJOR}`);
        }
        if (!Number.isInteger(node.minor) || node.minor < 0 || node.minor > MAX_DEV_MINOR) {
          throw metadataError(path, 'device minor', node.minor, `the kernel's device numbers have minors up to ${MAX_DEV_MINOR}`);
        }
        items.push({
          entry: { ...base, ino: nextIno++, mode: (node.kind === 'char' ? S_IFCHR : S_IFBLK) | node.mode, rdevmajor: node.major, rdevminor: node.minor },
        });
        break;
      case 'fifo':
        items.push({ entry: { ...base, ino: nextIno++, mode: S_IFIFO | node.mode } });
        break;
      case 'file':
      case 'hardlink': {
        // The inode's metadata (mode, owner, time) is the file's, whichever name this is.
        const [filePath, file] = fileOf.get(path)!;
        if (node.kind === 'hardlink') checkMeta(filePath, file);
        const group = names.get(filePath)!;
        let ino = inodes.get(filePath);
        if (ino === undefined) inodes.set(filePath, (ino = nextIno++));
        const carriesData = group[group.length - 1] === path;
        if (carriesData && file.data.length > NEWC_MAX_FIELD) {
          throw metadataError(path, 'size', file.data.length, 'newc files are at most 4 GiB');
        }
        const entry = {
          ...base,
          ino,
          mode: S_IFREG | file.mode,
          uid: file.uid,
          gid: file.gid,
          mtime: clamp(file.mtime),
          nlink: group.length,
          filesize: carriesData ? file.data.length : 0,
        };
        if (carriesData) dataSize += file.data.length;
        if (carriesData && hasXattrs(file)) xattrsDropped.push(filePath);
        items.push(carriesData ? { entry, data: file.data } : { entry });
        break;
      }
    }
  }
  return { items, xattrsDropped, dataSize };
}

/** Header, data and padding for each item, then the trailer. */
export function* cpioChunks(items: Iterable<CpioItem>, options: { onData?: (bytes: number) => void } = {}): Generator<Buffer> {
  for (const { entry, data } of items) {
    yield encodeNewcHeader(entry);
    if (data && data.length > 0) {
      yield data;
      const pad = padTo4(data.length);
      if (pad > 0) yield PAD.subarray(0, pad);
      options.onData?.(data.length);
    }
  }
  yield trailer();
}
