/**
 * What a VM's initramfs leaves out of the packages' files: documentation and
 * translations. In a VM every file of the initramfs stays in RAM for the life of the
 * machine, so these cost memory and boot time and are never read. Debian's own
 * minimal images drop the same paths with dpkg's `path-exclude`; as there, each
 * package's copyright file stays, and the dpkg database still lists what the
 * packages ship. Trimming to the files the workload can reach is a later stage.
 */
import type { ImageTree } from '../tree/index.js';

export const VM_EXCLUDED_DIRS: readonly string[] = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian'];

export interface ExcludeResult {
  files: number;
  bytes: number;
}

function kept(path: string): boolean {
  // usr/share/doc/<package>/copyright, and the directories leading to it.
  return /^usr\/share\/doc\/[^/]+(\/copyright)?$/.test(path) || path === 'usr/share/doc';
}

/** Remove documentation and translations from a VM's tree; returns what went. */
export function excludeDocumentation(tree: ImageTree): ExcludeResult {
  let files = 0;
  let bytes = 0;
  for (const [path, node] of tree.entries().reverse()) {
    if (!VM_EXCLUDED_DIRS.some((dir) => path === dir || path.startsWith(`${dir}/`)) || kept(path)) continue;
    if (node.kind === 'dir' && tree.list(path).length > 0) continue;
    if (node.kind === 'file') bytes += node.data.length;
    if (node.kind !== 'dir') files++;
    tree.remove(path);
  }
  return { files, bytes };
}
