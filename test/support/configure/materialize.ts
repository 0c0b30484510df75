/**
 * Test support: write an image tree to a real directory, so that real tools
 * (ldconfig -r, dpkg --root, openssl) can look at what the configure stage made.
 * Owners are applied only when running as root; device nodes and FIFOs are skipped.
 */
import { chmod, link, lchown, lutimes, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageTree } from '../../../src/tree/index.js';

export async function materialize(tree: ImageTree, dir: string): Promise<void> {
  const root = process.getuid?.() === 0;
  const dirs: Array<[string, number, number]> = [];
  const hardlinks: Array<[string, string]> = [];
  for (const [path, node] of tree.entries()) {
    const dest = path === '' ? dir : join(dir, path);
    switch (node.kind) {
      case 'dir':
        await mkdir(dest, { recursive: true });
        dirs.push([dest, node.mode, node.mtime]);
        break;
      case 'file':
        await writeFile(dest, node.data);
        await chmod(dest, node.mode);
        break;
      case 'symlink':
        await symlink(node.target, dest);
        break;
      case 'hardlink':
        hardlinks.push([join(dir, node.target), dest]); // after every file exists
        continue;
      default:
        continue;
    }
    if (root) await lchown(dest, node.uid, node.gid);
    if (node.kind !== 'dir') await lutimes(dest, node.mtime, node.mtime);
  }
  for (const [target, dest] of hardlinks) await link(target, dest);
  // Directory modes last, so that a read-only directory does not stop its children being written.
  for (const [dest, mode, mtime] of dirs.reverse()) {
    await chmod(dest, mode);
    await lutimes(dest, mtime, mtime);
  }
}
