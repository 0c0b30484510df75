/**
 * jeos.lock: the exact package set an image is built from. Documented in docs/lock.md.
 * Bump LOCK_VERSION when the layout changes.
 */
export const LOCK_VERSION = 1;
export const LOCK_FILE = 'jeos.lock';

export interface LockedPackage {
  name: string;
  version: string;
  architecture: string;
  suite: string;
  /** Path of the .deb relative to the mirror root (the index's Filename). */
  filename: string;
  /** Size of the .deb in bytes. */
  size: number;
  sha256: string;
  /** Installed-Size in KiB, as in the Packages index. */
  installedSize: number;
  /** Why it is in the set: `(request)`, or `package: relation` for each chosen package whose relation it satisfies. */
  neededBy: string[];
}

/** The signed Release a lock was made from: enough to tell when the archive has moved on. */
export interface LockedSuite {
  suite: string;
  codename: string | null;
  /** Release Date and Valid-Until, ISO 8601. */
  date: string | null;
  validUntil: string | null;
}

export interface Lock {
  lockVersion: number;
  /** SHA256 of the normalized jeos.yaml the lock was made for. */
  configDigest: string;
  architecture: string;
  request: { packages: string[]; recommends: boolean; profile: 'none' | 'minbase' };
  suites: LockedSuite[];
  /** Sum of installedSize, KiB. */
  totalInstalledSize: number;
  /** Sorted by name. */
  packages: LockedPackage[];
  /**
   * VM images (only when `vm` is among the outputs): the packages the VM adds to the
   * image's (systemd, libkmod and what they need that the image lacks), sorted by name.
   */
  vmPackages?: LockedPackage[];
  /** The kernel a VM image boots (only when `vm` is among the outputs); not installed in the image as a package. */
  kernel?: LockedPackage;
}
