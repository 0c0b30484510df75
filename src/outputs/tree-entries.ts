/** Hardlinks in the image tree, as every output writer resolves them. */
import { JeosError } from '../errors.js';
import type { FileNode, ImageTree, TreeNode } from '../tree/index.js';
import { normalizePath } from '../tree/index.js';

function danglingHardlink(path: string, target: string, why: string): JeosError {
  return new JeosError('E_OUTPUT_HARDLINK', `hardlink /${path} points to /${target}, which ${why}`, {
    hint: 'a hardlink in the image tree must name a regular file that is in the tree',
  });
}

/** The regular file the hardlink at `path` shares its content with (following chains of hardlinks). */
export function linkedFile(tree: ImageTree, path: string, target: string): [string, FileNode] {
  let at = normalizePath(target);
  for (let hops = 0; hops < 64; hops++) {
    const t = tree.get(at);
    if (!t) throw danglingHardlink(path, at, 'is not in the tree');
    if (t.kind === 'file') return [at, t];
    if (t.kind !== 'hardlink') throw danglingHardlink(path, at, `is a ${t.kind}`);
    at = normalizePath(t.target);
  }
  throw danglingHardlink(path, at, 'is part of a hardlink loop');
}

function underExcluded(path: string, excludedDirs: Set<string>): boolean {
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    if (excludedDirs.has(path.slice(0, slash))) return true;
  }
  return false;
}

/** The tree's entries in tree order, less those `exclude` names (a directory left out takes everything under it). */
export function keptEntries(tree: ImageTree, exclude?: (path: string) => boolean): Array<[string, TreeNode]> {
  const excludedDirs = new Set<string>();
  const kept: Array<[string, TreeNode]> = [];
  for (const [path, node] of tree.entries()) {
    if (path !== '' && (underExcluded(path, excludedDirs) || exclude?.(path))) {
      if (node.kind === 'dir') excludedDirs.add(path);
      continue;
    }
    kept.push([path, node]);
  }
  return kept;
}
