/**
 * What the SBOM is made from, and the format-neutral model both documents are written from.
 * The inputs are the image record (the lock's packages, the manifests, the trim's figures)
 * plus a way to read a file of each tree: SPDX 2.3 wants a SHA-1 of every file, which the
 * manifest does not keep, and the licences come from the copyright files in the tree.
 */
import type { ManifestEntry, VariantName, VariantRecord } from '../../record/index.js';

export const SPDX_FILE = 'sbom.spdx.json';
export const CYCLONEDX_FILE = 'sbom.cdx.json';

/** A package of the lock (jeos.lock's `packages`, `vmPackages` or `kernel`). */
export interface SbomLockedPackage {
  name: string;
  version: string;
  architecture: string;
  /** The .deb's path below the mirror root: its base name is the package's file name. */
  filename: string;
  /** SHA-256 of the .deb. */
  sha256: string;
  /** The lock's reasons: `(request)`, `vm`, `vm.kernel…`, or `PKG: relation` for each package whose relation it satisfies. */
  neededBy: string[];
}

/** One tree of the build (the container image's, the VM's). */
export interface SbomTree {
  name: VariantName;
  /** manifest.json's entries for this tree. */
  entries: readonly ManifestEntry[];
  /** The content of a regular file of the tree by absolute path, symlinks followed; undefined if there is none. */
  read(path: string): Buffer | undefined;
  /** The trim's figures for this tree (per-package losses); undefined when the tree was not trimmed. */
  trim: Pick<NonNullable<VariantRecord['trim']>, 'packages'> | undefined;
  /**
   * The VM's kernel: a package of the lock that is not in dpkg's database (its modules name it
   * in the manifest), and how many of its files (modules) the build left out.
   */
  kernel?: { package: string; droppedFiles: number };
}

export interface SbomInputs {
  /** jeos.yaml's `name`. */
  name: string;
  /** The jeos version that made the build. */
  tool: string;
  /** SOURCE_DATE_EPOCH of the build: the documents' creation time. */
  epoch: number;
  /** The lock's Debian architecture. */
  architecture: string;
  /** SHA-256 of jeos.lock: the image's version in the documents. */
  lockDigest: string;
  /** The codename (or suite) of the lock's first suite: `trixie`. */
  codename: string;
  packages: readonly SbomLockedPackage[];
  trees: readonly SbomTree[];
}

/** A licence as the package's copyright file declares it. */
export interface DeclaredLicence {
  /** An SPDX licence expression, or NOASSERTION. */
  expression: string;
  /** Where it was read, or why it could not be. */
  note: string;
}

/** One Debian package of the image, once, whichever trees hold it. */
export interface SbomPackage {
  /** Unique and stable: `name:arch@version`. */
  key: string;
  name: string;
  version: string;
  architecture: string;
  purl: string;
  /** Base name of the .deb, and its SHA-256 (undefined for a package in a tree but not in the lock). */
  debFile?: string;
  debSha256?: string;
  /**
   * The Debian source package, from the dpkg status `Source:` field (absent: the same name and
   * version); undefined for the kernel, which is not in dpkg's database.
   */
  source?: { name: string; version: string; purl: string };
  licence: DeclaredLicence;
  /** The VM's kernel (a component of the VM, not in dpkg's database). */
  kernel: boolean;
  /** Per tree that holds it: whole, or trimmed with how many of its files were dropped. */
  trees: Array<{ tree: VariantName; trimmed: boolean; keptFiles?: number; droppedFiles?: number }>;
  /** Keys of the packages it depends on (the lock's relations). */
  dependsOn: string[];
}

/** A regular file of a tree. */
export interface SbomFile {
  tree: VariantName;
  /** Absolute path in the image. */
  path: string;
  size: number;
  sha256: string;
  sha1: string;
  /** The key of the package it came from, if any. */
  package?: string;
  source: ManifestEntry['source'];
}

/** A licence named in a copyright file that has no SPDX identifier, with the text the file gives for it. */
export interface LicenceRef {
  id: string;
  name: string;
  text: string;
}

export interface SbomModel {
  name: string;
  tool: string;
  /** ISO 8601, seconds, UTC. */
  created: string;
  lockDigest: string;
  trees: VariantName[];
  /** Sorted by key. */
  packages: SbomPackage[];
  /** Sorted by tree, then path. */
  files: SbomFile[];
  licenceRefs: LicenceRef[];
}
