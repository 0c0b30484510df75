/**
 * /tmp for images whose packages do not make it. Debian's base-files ships it (mode
 * 1777, root), but a closure built from the application outward rarely includes
 * base-files, and programs that make temporary files or sockets there (mkstemp(),
 * tmpfile(), a shell's here-documents) then fail. A container runtime does not make it
 * either. Both the container image and the VM get it (the trim keeps /tmp: see
 * KEPT_AREAS in src/trim/rules.ts).
 */
import type { ImageTree } from '../tree/index.js';

export const TMP = 'tmp';
const STICKY_WORLD_WRITABLE = 0o1777;

/**
 * Make /tmp (1777, root) unless a package ships it. A /tmp jeos made on its way (the
 * parent directory of a workload file put there, 0755) gets the same mode. Returns true
 * when it made or changed /tmp.
 */
export function ensureTmp(tree: ImageTree, mtime: number): boolean {
  const node = tree.get(TMP);
  // A package's /tmp, or a link a package made (/tmp → /var/tmp), stays as shipped.
  if (node && (node.pkg !== undefined || node.kind !== 'dir')) return false;
  if (node && node.mode === STICKY_WORLD_WRITABLE && node.uid === 0 && node.gid === 0) return false;
  tree.put(TMP, { kind: 'dir', mode: STICKY_WORLD_WRITABLE, uid: 0, gid: 0, mtime });
  return true;
}
