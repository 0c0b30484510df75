/**
 * The unpack stage: every package's data.tar goes into the image tree, as dpkg
 * --unpack would put it on a merged-/usr trixie system, without running anything.
 */
import { availableParallelism } from 'node:os';
import { parseRelations, type Atom } from '../archive/index.js';
import { JeosError } from '../errors.js';
import type { ImageTree } from '../tree/index.js';
import { readDebMembers } from './ar.js';
import { controlField, dataLimitOf, parseConffiles, parseControlArchive, parseDataArchive, type DebContents } from './deb.js';
import { checkDecompressors } from './decompress.js';
import type { DecompressJob } from './decompress-all.js';
import { CONTROL_LIMIT } from './limits.js';
import { decompressCached } from './member-cache.js';
import { placeEntry } from './place.js';
import type { Owner, PackageState } from './state.js';
import type { Diversion, UnpackedPackage, UnpackStats } from './types.js';

export interface DebInput {
  /** Names the package in error messages: a file name or `name_version_arch`. */
  label: string;
  bytes: Buffer;
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
  /** The jeos cache: decompressed members are kept under `members/` so rebuilds skip xz. Default: no caching. */
  cacheDir?: string;
  /** How many decompressor processes run at once (default: the CPU count). */
  processes?: number;
  /** The most a package's data.tar may expand to, in MiB (jeos.yaml's unpack.maxPackageMiB; default 512). */
  maxPackageMiB?: number;
  /** Keep device nodes and FIFOs a package ships (jeos.yaml's unpack.allowDevices); by default they are refused. */
  allowDevices?: boolean;
  onEvent?: (event: UnpackEvent) => void;
}

export type UnpackEvent =
  | { type: 'decompressed'; packages: number }
  | { type: 'unpacked'; package: string; done: number; total: number };

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

/**
 * Unpack packages into the tree, in package-name order whatever the input order:
 * split every .deb and check the decompressors are there (fast), decompress and read
 * every control archive, then every data archive, each within the limit its control
 * file sets (several processes at once), parse them, and only then touch the tree:
 * the merged-/usr links first, then each package's entries. A broken package
 * therefore fails the stage before the tree is changed.
 */
export async function unpackPackages(tree: ImageTree, debs: DebInput[], options: UnpackOptions): Promise<UnpackResult> {
  const members = debs.map((deb) => readDebMembers(deb.bytes, deb.label));
  await checkDecompressors(members.flatMap((m) => [m.control.compression, m.data.compression]));

  const processes = options.processes ?? availableParallelism();
  const controlJobs = members.map((m, i): DecompressJob => ({
    data: m.control.data,
    compression: m.control.compression,
    ref: { label: debs[i]!.label, member: m.control.name },
    limit: CONTROL_LIMIT,
  }));
  const controlTars = await decompressCached(controlJobs, processes, options.cacheDir);
  const heads = members.map((m, i) => parseControlArchive(m, controlTars[i]!, debs[i]!.label));
  const dataJobs = members.map((m, i): DecompressJob => ({
    data: m.data.data,
    compression: m.data.compression,
    ref: { label: debs[i]!.label, member: m.data.name },
    limit: dataLimitOf(heads[i]!, { maxPackageMiB: options.maxPackageMiB }),
  }));
  const dataTars = await decompressCached(dataJobs, processes, options.cacheDir);
  options.onEvent?.({ type: 'decompressed', packages: debs.length });
  const contents = members.map((m, i) => parseDataArchive(heads[i]!, m, dataTars[i]!));

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
    for (const entry of pkg.deb.entries) placeEntry(tree, pkg, entry, owners, diversions, stats, { allowDevices: options.allowDevices ?? false });
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

