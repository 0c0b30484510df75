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

/** The largest owner id: (uid_t)-1 means "no change" to chown, so it is never an owner. */
export const MAX_ID = 2 ** 32 - 2;

/** A tree entry's metadata that `container` ("a cpio initramfs", "an ext4 image") cannot store. */
export function metadataError(path: string, what: string, value: number, container: string, hint: string): JeosError {
  return new JeosError('E_OUTPUT_METADATA', `/${path} has ${what} ${value}, which ${container} cannot store`, { hint });
}

/** Refuse owners, modes and times no output can store (the stage that made the entry set them wrong). */
export function checkNodeMeta(path: string, node: TreeNode, container: string): void {
  const owners = `owners are whole numbers from 0 to ${MAX_ID}; the stage that made this entry set invalid metadata`;
  if (!Number.isInteger(node.uid) || node.uid < 0 || node.uid > MAX_ID) throw metadataError(path, 'uid', node.uid, container, owners);
  if (!Number.isInteger(node.gid) || node.gid < 0 || node.gid > MAX_ID) throw metadataError(path, 'gid', node.gid, container, owners);
  if (!Number.isInteger(node.mode) || node.mode < 0 || node.mode > 0o7777) throw metadataError(path, 'mode', node.mode, container, 'modes are 0 to 0o7777');
  if (!Number.isFinite(node.mtime)) throw metadataError(path, 'mtime', node.mtime, container, 'times are whole seconds since 1970');
}
