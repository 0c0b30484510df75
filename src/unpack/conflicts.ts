/**
 * When two packages ship the same non-directory path: dpkg's rules, decided so that
 * the outcome does not depend on which package is unpacked first.
 */
import { JeosError } from '../errors.js';
import type { ImageTree, TreeNode } from '../tree/index.js';
import { satisfiesRelation } from '../archive/index.js';
import { parentOf } from '../util/path.js';
import type { Owner, PackageState } from './state.js';

/**
 * Two packages ship the same non-directory path. Allowed as Debian allows it: one package
 * Replaces the other (in either unpack order, so the result does not depend on it), or both
 * are Multi-Arch: same and the contents are identical. The returned outcome says what to do
 * with the new node: replace the old one, keep the old one, or share it.
 */
export function settle(
  tree: ImageTree,
  pkg: PackageState,
  listed: string,
  real: string,
  existing: TreeNode,
  node: TreeNode,
  owners: Map<string, Owner>,
): 'replace' | 'keep' | 'share' {
  const owner = owners.get(real);
  if (!owner) {
    // Something jeos made (the merged-/usr links): a package may ship the same thing and adopt it.
    if (sameContent(existing, node) || sameDestination(tree, real, existing, node)) return 'replace';
    throw new JeosError('E_UNPACK_FILE_CONFLICT', `${pkg.deb.label}: entry ${shown(listed, real)} conflicts with the ${existing.kind} jeos made there for the merged-/usr layout`, {
      hint: 'a trixie image has /bin, /sbin, /lib (and /lib64 on amd64) as links into /usr; a package that needs otherwise cannot be used',
    });
  }
  if (owner.pkg === pkg) return 'replace';
  if (doesReplace(pkg, owner.pkg)) {
    owner.pkg.lost.add(owner.listed);
    return 'replace';
  }
  if (doesReplace(owner.pkg, pkg)) {
    pkg.lost.add(listed);
    return 'keep';
  }
  if (pkg.multiArch === 'same' && owner.pkg.multiArch === 'same' && sameContent(existing, node)) return 'share';
  throw new JeosError(
    'E_UNPACK_FILE_CONFLICT',
    `${pkg.id} (${pkg.deb.label}) and ${owner.pkg.id} (${owner.pkg.deb.label}) both ship ${shown(listed, real)}`,
    {
      hint: 'dpkg refuses this too: two packages may share a file only when one Replaces the other, or both are Multi-Arch: same with identical contents; drop one of them, or pass a diversion if a maintainer script diverts the file',
    },
  );
}

/** The path as shipped, and where it really lands when a symlink redirects it: `/bin/x (/usr/bin/x)`. */
function shown(listed: string, real: string): string {
  return listed === `/${real}` ? listed : `${listed} (/${real})`;
}

function doesReplace(by: PackageState, of: PackageState): boolean {
  return by.replaces.some(
    (atom) => atom.name === of.name && (atom.op === undefined || satisfiesRelation(of.version, atom.op, atom.version!)),
  );
}

/** Two symlinks at `real` that lead to the same place (`usr/bin` and `/usr/bin`). */
function sameDestination(tree: ImageTree, real: string, a: TreeNode, b: TreeNode): boolean {
  if (a.kind !== 'symlink' || b.kind !== 'symlink') return false;
  const from = (target: string): string => (target.startsWith('/') ? target : `${parentOf(real)}/${target}`);
  return tree.resolve(from(a.target), { followLast: true }) === tree.resolve(from(b.target), { followLast: true });
}

function sameContent(a: TreeNode, b: TreeNode): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'file':
      return a.data.equals((b as typeof a).data);
    case 'symlink':
    case 'hardlink':
      return a.target === (b as typeof a).target;
    case 'char':
    case 'block':
      return a.major === (b as typeof a).major && a.minor === (b as typeof a).minor;
    default:
      return true;
  }
}

