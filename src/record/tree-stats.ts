import type { ImageTree } from '../tree/index.js';
import type { TreeStats } from './types.js';

/** Counts of a tree's entries and the bytes its regular files hold. */
export function treeStats(tree: ImageTree): TreeStats {
  let files = 0;
  let directories = 0;
  let symlinks = 0;
  let bytes = 0;
  for (const [, node] of tree.entries()) {
    if (node.kind === 'file') {
      files++;
      bytes += node.data.length;
    } else if (node.kind === 'dir') directories++;
    else if (node.kind === 'symlink') symlinks++;
  }
  return { entries: tree.size, files, directories, symlinks, bytes };
}
