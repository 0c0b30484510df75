/**
 * The unpack stage: every package's data.tar goes into the image tree, as dpkg
 * --unpack would put it on a merged-/usr trixie system, without running anything.
 */
import { availableParallelism } from 'node:os';
import { parseRelations, satisfiesRelation, type Atom } from '../archive/index.js';
import { JeosError } from '../errors.js';
import { ImageTree, normalizePath } from '../tree/index.js';
import type { NodeMeta, TreeNode } from '../tree/index.js';
import { readDebMembers } from './ar.js';
import { controlField, parseConffiles, parseDeb, type DebContents } from './deb.js';
import { checkDecompressors } from './decompress.js';
import { decompressAll, type DecompressJob } from './decompress-all.js';
import type { TarEntry } from './tar.js';
import type { UnpackedPackage } from './types.js';

export interface DebInput {
  /** Names the package in error messages: a file name or `name_version_arch`. */
  label: string;
  bytes: Buffer;
}

/** A dpkg-divert diversion: packages other than `package` that ship the path have it written at `to`. */
export interface Diversion {
  /** Absolute path the diverted file is written to. */
  to: string;
  /** The package that owns the diversion and keeps the original path; undefined for a local diversion (diverts every package). */
  package?: string;
}

export interface UnpackOptions {
  /** The image's dpkg architecture; `amd64` gets the `lib64 -> usr/lib64` link. */
  architecture: string;
  /**
   * Diversions by the path they divert (`/usr/bin/x`). Diversions are made by maintainer
   * scripts running dpkg-divert, which jeos cannot know without running them, so this is
   * empty unless the caller knows better.
   */
  diversions?: ReadonlyMap<string, Diversion>;
  /** How many decompressor processes run at once (default: the CPU count). */
  processes?: number;
  onEvent?: (event: UnpackEvent) => void;
}

export type UnpackEvent =
  | { type: 'decompressed'; packages: number }
  | { type: 'unpacked'; package: string; done: number; total: number };

export interface UnpackStats {
  packages: number;
  /** data.tar entries seen, directories included. */
  entries: number;
  /** Regular files written. */
  files: number;
  /** Bytes of regular file content written. */
  bytes: number;
}

export interface UnpackResult {
  /** Sorted by package name (then architecture): the order they were unpacked in. */
  packages: UnpackedPackage[];
  stats: UnpackStats;
}

/** The merged-/usr aliases trixie expects, made before any package is unpacked. */
export function mergedUsrLinks(architecture: string): Array<[string, string]> {
  const links: Array<[string, string]> = [
    ['bin', 'usr/bin'],
    ['lib', 'usr/lib'],
    ['sbin', 'usr/sbin'],
  ];
  if (architecture === 'amd64') links.push(['lib64', 'usr/lib64']);
  return links;
}

export function makeMergedUsr(tree: ImageTree, architecture: string): void {
  for (const [link, target] of mergedUsrLinks(architecture)) {
    tree.mkdirp(target);
    if (!tree.get(link)) tree.symlink(link, target);
  }
}

interface PackageState {
  /** `name`, or `name:arch` for Multi-Arch: same. Stored on every node as `pkg`. */
  id: string;
  name: string;
  version: string;
  architecture: string;
  multiArch: UnpackedPackage['multiArch'];
  replaces: Atom[];
  deb: DebContents;
  paths: string[];
  /** Listed paths another package took over (dpkg drops them from this package's list). */
  lost: Set<string>;
  /** Entry path → tree path of the regular files this package wrote, for its hardlinks. */
  files: Map<string, string>;
}

interface Owner {
  pkg: PackageState;
  listed: string;
}

/**
 * Unpack packages into the tree, in package-name order whatever the input order:
 * split every .deb and check the decompressors are there (fast), decompress all
 * members (several processes at once), parse them, and only then touch the tree:
 * the merged-/usr links first, then each package's entries. A broken package
 * therefore fails the stage before the tree is changed.
 */
export async function unpackPackages(tree: ImageTree, debs: DebInput[], options: UnpackOptions): Promise<UnpackResult> {
  const members = debs.map((deb) => readDebMembers(deb.bytes, deb.label));
  await checkDecompressors(members.flatMap((m) => [m.control.compression, m.data.compression]));

  const jobs = members.flatMap((m, i): DecompressJob[] => [
    { data: m.control.data, compression: m.control.compression, ref: { label: debs[i]!.label, member: m.control.name } },
    { data: m.data.data, compression: m.data.compression, ref: { label: debs[i]!.label, member: m.data.name } },
  ]);
  const tars = await decompressAll(jobs, options.processes ?? availableParallelism());
  options.onEvent?.({ type: 'decompressed', packages: debs.length });
  const contents = members.map((m, i) => parseDeb(m, tars[2 * i]!, tars[2 * i + 1]!, debs[i]!.label));

  const packages = contents.map(packageState).sort(byNameArch);
  const seen = new Map<string, PackageState>();
  for (const pkg of packages) {
    const twin = seen.get(pkg.id);
    if (twin) {
      throw new JeosError('E_UNPACK_DUPLICATE_PACKAGE', `package ${pkg.id} is given twice (${twin.deb.label} and ${pkg.deb.label})`, {
        hint: 'pass each package once; only Multi-Arch: same packages may appear once per architecture',
      });
    }
    seen.set(pkg.id, pkg);
  }

  makeMergedUsr(tree, options.architecture);
  const stats: UnpackStats = { packages: packages.length, entries: 0, files: 0, bytes: 0 };
  const owners = new Map<string, Owner>();
  const diversions = options.diversions ?? new Map<string, Diversion>();
  packages.forEach((pkg, i) => {
    for (const entry of pkg.deb.entries) placeEntry(tree, pkg, entry, owners, diversions, stats);
    options.onEvent?.({ type: 'unpacked', package: pkg.id, done: i + 1, total: packages.length });
  });

  return {
    packages: packages.map((pkg) => ({
      name: pkg.name,
      version: pkg.version,
      architecture: pkg.architecture,
      multiArch: pkg.multiArch,
      control: pkg.deb.control,
      controlFiles: pkg.deb.controlFiles,
      paths: pkg.lost.size ? pkg.paths.filter((p) => !pkg.lost.has(p)) : pkg.paths,
      conffiles: parseConffiles(pkg.deb.controlFiles.get('conffiles')?.toString('utf8')),
    })),
    stats,
  };
}

function packageState(deb: DebContents): PackageState {
  const name = controlField(deb.control, 'Package')!;
  const architecture = controlField(deb.control, 'Architecture')!;
  const ma = controlField(deb.control, 'Multi-Arch');
  const multiArch = ma === 'same' || ma === 'foreign' || ma === 'allowed' ? ma : 'no';
  let replaces: Atom[];
  try {
    replaces = parseRelations(controlField(deb.control, 'Replaces')).flat();
  } catch (e) {
    throw new JeosError('E_DEB_BAD_CONTROL', `${deb.label}: the Replaces field cannot be parsed`, {
      hint: 'the package is malformed; check it with dpkg-deb --info',
      cause: e,
    });
  }
  return {
    id: multiArch === 'same' ? `${name}:${architecture}` : name,
    name,
    version: controlField(deb.control, 'Version')!,
    architecture,
    multiArch,
    replaces,
    deb,
    paths: [],
    lost: new Set(),
    files: new Map(),
  };
}

function byNameArch(a: PackageState, b: PackageState): number {
  return cmp(a.name, b.name) || cmp(a.architecture, b.architecture) || cmp(a.deb.label, b.deb.label);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function placeEntry(
  tree: ImageTree,
  pkg: PackageState,
  entry: TarEntry,
  owners: Map<string, Owner>,
  diversions: ReadonlyMap<string, Diversion>,
  stats: UnpackStats,
): void {
  stats.entries++;
  const where = `${pkg.deb.label}: entry ${JSON.stringify(entry.path)}`;
  if (entry.path.startsWith('/')) {
    throw new JeosError('E_DEB_UNSAFE_ENTRY', `${where} has an absolute path`, {
      hint: 'a .deb must hold relative paths (./usr/...); this package is broken or hostile',
    });
  }
  try {
    const rel = normalizePath(entry.path);
    const listed = rel === '' ? '/.' : `/${rel}`;
    pkg.paths.push(listed);
    if (rel === '') return; // the image root is jeos's

    const diversion = entry.type === 'dir' ? undefined : diversions.get(listed);
    const target = diversion && diversion.package !== pkg.name ? normalizePath(diversion.to) : rel;
    const slash = target.lastIndexOf('/');
    const dir = tree.resolve(parentOf(target), { followLast: true });
    const real = dir === '' ? target.slice(slash + 1) : `${dir}/${target.slice(slash + 1)}`;
    const existing = tree.get(real);
    const meta: NodeMeta = { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime, pkg: pkg.id };
    if (entry.xattrs) meta.xattrs = entry.xattrs;

    if (entry.type === 'dir') {
      // A directory where a symlink to a directory already is (bin -> usr/bin): keep the link, as dpkg does.
      if (existing?.kind === 'symlink' && tree.stat(real)?.kind === 'dir') return;
      if (existing && existing.kind !== 'dir') {
        const outcome = settle(tree, pkg, listed, real, existing, { kind: 'dir', ...meta }, owners);
        if (outcome !== 'replace') return;
        owners.delete(real);
      }
      tree.put(real, { kind: 'dir', ...meta });
      return;
    }

    const node = nodeOf(tree, pkg, entry, meta, where);
    if (existing) {
      if (existing.kind === 'dir') {
        const owner = existing.pkg ?? 'jeos';
        throw new JeosError('E_UNPACK_FILE_CONFLICT', `${where}: ${pkg.id} ships a ${node.kind} at /${real}, where ${owner} has a directory`, {
          hint: 'the two packages cannot be installed together; remove one of them from the image',
        });
      }
      const outcome = settle(tree, pkg, listed, real, existing, node, owners);
      if (outcome !== 'replace') {
        // The file on "disk" is the other package's; this package's hard links to the name still work, as with dpkg.
        if (node.kind === 'file' && existing.kind === 'file') pkg.files.set(rel, real);
        return;
      }
    }
    tree.put(real, node);
    owners.set(real, { pkg, listed });
    if (node.kind === 'file') {
      pkg.files.set(rel, real);
      stats.files++;
      stats.bytes += node.data.length;
    }
  } catch (e) {
    throw asEntryError(e, where);
  }
}

function nodeOf(tree: ImageTree, pkg: PackageState, entry: TarEntry, meta: NodeMeta, where: string): TreeNode {
  switch (entry.type) {
    case 'file':
      return { kind: 'file', data: entry.data, ...meta };
    case 'symlink':
      return { kind: 'symlink', target: entry.linkname, ...meta };
    case 'char':
    case 'block':
      return { kind: entry.type, major: entry.devmajor, minor: entry.devminor, ...meta };
    case 'fifo':
      return { kind: 'fifo', ...meta };
    case 'hardlink': {
      const target = pkg.files.get(normalizePath(entry.linkname));
      const file = target === undefined ? undefined : tree.get(target);
      if (target === undefined || file?.kind !== 'file') {
        throw new JeosError('E_DEB_BAD_HARDLINK', `${where} is a hard link to ${JSON.stringify(entry.linkname)}, which is not a regular file earlier in the same package`, {
          hint: 'the package is malformed; a hard link must name a file shipped before it in the same data.tar',
        });
      }
      // A hard link shares its inode, so it has the file's metadata.
      const { kind: _kind, data: _data, ...fileMeta } = file;
      return { kind: 'hardlink', target, ...fileMeta, pkg: pkg.id };
    }
    case 'dir':
      throw new Error('unreachable: directories are placed by placeEntry');
  }
}

/**
 * Two packages ship the same non-directory path. Allowed as Debian allows it: one package
 * Replaces the other (in either unpack order, so the result does not depend on it), or both
 * are Multi-Arch: same and the contents are identical. The returned outcome says what to do
 * with the new node: replace the old one, keep the old one, or share it.
 */
function settle(
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
    if (sameContent(tree, existing, node) || sameDestination(tree, real, existing, node)) return 'replace';
    throw new JeosError('E_UNPACK_FILE_CONFLICT', `${pkg.deb.label}: entry ${listed} (/${real}) conflicts with the ${existing.kind} jeos made there for the merged-/usr layout`, {
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
  if (pkg.multiArch === 'same' && owner.pkg.multiArch === 'same' && sameContent(tree, existing, node)) return 'share';
  throw new JeosError(
    'E_UNPACK_FILE_CONFLICT',
    `${pkg.id} (${pkg.deb.label}) and ${owner.pkg.id} (${owner.pkg.deb.label}) both ship ${listed}${listed === `/${real}` ? '' : ` (/${real})`}`,
    {
      hint: 'dpkg refuses this too: two packages may share a file only when one Replaces the other, or both are Multi-Arch: same with identical contents; drop one of them, or pass a diversion if a maintainer script diverts the file',
    },
  );
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

function sameContent(tree: ImageTree, a: TreeNode, b: TreeNode): boolean {
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

const TREE_ERRORS: Record<string, { code: string; what: string; hint: string }> = {
  E_TREE_UNSAFE_PATH: {
    code: 'E_DEB_UNSAFE_ENTRY',
    what: 'contains a ".." component',
    hint: 'a .deb must not climb out of the directory it is unpacked in; this package is broken or hostile',
  },
  E_TREE_ESCAPE: {
    code: 'E_DEB_SYMLINK_ESCAPE',
    what: 'would be written outside the image root, through a symlink',
    hint: 'a symlink in the image climbs above the root; this package (or an earlier one) is broken or hostile',
  },
  E_TREE_SYMLINK_LOOP: {
    code: 'E_DEB_SYMLINK_LOOP',
    what: 'lies under a symlink loop',
    hint: 'symlinks in the image point at each other; check the packages that ship them',
  },
  E_TREE_NOT_A_DIRECTORY: {
    code: 'E_UNPACK_NOT_A_DIRECTORY',
    what: 'lies under something that is not a directory',
    hint: 'another package ships a file where this package expects a directory; the two cannot be installed together',
  },
};

function asEntryError(e: unknown, where: string): unknown {
  if (!(e instanceof JeosError)) return e;
  const mapped = TREE_ERRORS[e.code];
  if (!mapped) return e;
  return new JeosError(mapped.code, `${where} ${mapped.what} (${e.message})`, { hint: mapped.hint, cause: e });
}
