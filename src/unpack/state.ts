/** What the unpack keeps about each package and each path while it places entries (internal to the stage). */
import type { Atom } from '../archive/index.js';
import type { DebContents } from './deb.js';
import type { UnpackedPackage } from './types.js';

export interface PackageState {
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

export interface Owner {
  pkg: PackageState;
  listed: string;
}
