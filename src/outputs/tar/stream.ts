/**
 * The image tree as tar items, for the tar chunk stream of src/util/tar (which writes
 * the file contents from the tree's own Buffers, never copied).
 */
import type { FileNode, ImageTree, TreeNode } from '../../tree/index.js';
import type { TarItem } from '../../util/tar/chunks.js';
import { checkNodeMeta, linkedFile } from '../tree-entries.js';

/** Sum of file content bytes in the tree (what `onData` counts up to). */
export function treeDataSize(tree: ImageTree): number {
  let total = 0;
  for (const [, node] of tree.entries()) if (node.kind === 'file') total += node.data.length;
  return total;
}

const checkMeta = (path: string, node: TreeNode) => checkNodeMeta(path, node, 'no file system');

/**
 * Tar items for the tree, in tree order (parents first, byte order). The root itself
 * is not an entry, and paths carry no `./` prefix, as in the layers Docker and Go's
 * archive/tar write. Times are clamped to SOURCE_DATE_EPOCH.
 *
 * Hardlinks: the first name of a file in tree order carries the data, whether the tree
 * holds it as the file or as a hardlink to it; every later name is a type '1' entry
 * pointing at that first name, so a reader always meets the target first. The data
 * entry has the file's metadata and xattrs (they belong to the inode).
 */
export function* treeTarItems(tree: ImageTree, sourceDateEpoch: number): Generator<TarItem> {
  const entries = tree.entries();
  const linkTargets = new Map<string, [string, FileNode]>();
  const firstName = new Map<string, string>();
  for (const [path, node] of entries) {
    if (node.kind === 'file') {
      if (!firstName.has(path)) firstName.set(path, path);
    } else if (node.kind === 'hardlink') {
      const target = linkedFile(tree, path, node.target);
      linkTargets.set(path, target);
      if (!firstName.has(target[0])) firstName.set(target[0], path);
    }
  }
  const clamp = (mtime: number) => Math.min(Math.floor(mtime), sourceDateEpoch);
  for (const [path, node] of entries) {
    if (path === '') continue;
    checkMeta(path, node);
    const meta = { path, mode: node.mode, uid: node.uid, gid: node.gid, mtime: clamp(node.mtime), size: 0 };
    switch (node.kind) {
      case 'dir':
        yield { entry: { ...meta, type: 'dir', xattrs: node.xattrs } };
        break;
      case 'symlink':
        yield { entry: { ...meta, type: 'symlink', linkname: node.target, xattrs: node.xattrs } };
        break;
      case 'char':
      case 'block':
        yield { entry: { ...meta, type: node.kind, devmajor: node.major, devminor: node.minor, xattrs: node.xattrs } };
        break;
      case 'fifo':
        yield { entry: { ...meta, type: 'fifo', xattrs: node.xattrs } };
        break;
      case 'file':
      case 'hardlink': {
        const [filePath, file] = node.kind === 'file' ? [path, node] : linkTargets.get(path)!;
        const first = firstName.get(filePath)!;
        const inode = { path, mode: file.mode, uid: file.uid, gid: file.gid, mtime: clamp(file.mtime) };
        if (first === path) yield { entry: { ...inode, type: 'file', size: file.data.length, xattrs: file.xattrs }, data: file.data };
        else yield { entry: { ...inode, type: 'hardlink', size: 0, linkname: first } };
        break;
      }
    }
  }
}
