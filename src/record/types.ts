/**
 * The image record: what a build wrote into out/, and the input of everything after
 * the build (tests, checks, lifecycle, reports). Documented in docs/record.md; bump
 * RECORD_VERSION (or MANIFEST_VERSION) when a field changes meaning or goes away.
 *
 *   out/build.json     BuildRecord: inputs, packages, each variant's figures, every output file's SHA-256
 *   out/manifest.json  ImageManifest: every path of each variant's tree (type, mode, owner, size, SHA-256, package, why)
 *   out/trim.json      TrimExplanations: why each kept path is there, what each package lost (jeos why)
 */
import type { ConfigureReport } from '../configure/index.js';
import type { OutputFormat, OutputResult } from '../outputs/index.js';
import type { KeepReason, TrimExplanation, TrimRecord } from '../trim/index.js';
import type { BusyboxSystemReport, VmSystemReport } from '../vm/index.js';

export const RECORD_VERSION = 2;
export const MANIFEST_VERSION = 1;
export const RECORD_FILE = 'build.json';
export const MANIFEST_FILE = 'manifest.json';
export const TRIM_FILE = 'trim.json';

/** The trees a build makes: the container image's, and the VM's (the image plus kernel, init and boot setup). */
export type VariantName = 'image' | 'vm';

export interface TreeStats {
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

/** One maintainer-script step jeos did not reproduce. */
export interface NotReproduced {
  pkg: string;
  script: string;
  commands: string[];
}

/** A file of the tree with the setuid or setgid bit. */
export interface SetuidFile {
  /** Absolute path in the image. */
  path: string;
  /** Permission bits in octal, as in manifest.json: `4755`. */
  mode: string;
  /** The package that shipped it (`name` or `name:arch`); absent for a workload file. */
  package?: string;
}

/** What one variant's steps made of its tree. */
export interface VariantRecord {
  /** The packages unpacked into this tree beyond the image's (the VM's systemd, …); empty for the image. */
  addedPackages: string[];
  tree: TreeStats;
  configure: ConfigureReport['effects'];
  notReproduced: NotReproduced[];
  /** The setuid and setgid files (and hard links) in the finished tree, by path: what runs with another user's rights. */
  setuid: SetuidFile[];
  /** The file-level trim (absent when trim is off). */
  trim?: TrimRecord;
  /** Milliseconds per step of this variant, in the order they ran. */
  timings: Record<string, number>;
}

/** The VM variant adds the kernel, its modules and the boot setup. */
export interface VmRecord extends VariantRecord {
  kernel: { package: string; version: string; release: string };
  modules: { kept: string[]; builtin: string[]; droppedFiles: number; droppedBytes: number; keptBytes: number };
  cmdline: string;
  system: VmSystemReport | BusyboxSystemReport;
  /** Untrimmed VMs: documentation and translations left out of the initramfs (copyright files stay). */
  excluded?: { paths: string[]; files: number; bytes: number };
}

export interface OutputRecord {
  format: OutputFormat;
  /** The variant whose tree this output holds. */
  variant: VariantName;
  /** The top-level name in out/. */
  path: string;
  /** Every file written, with its size and SHA-256. */
  files: OutputResult['files'];
  image?: OutputResult['image'];
  vm?: OutputResult['vm'];
  disk?: OutputResult['disk'];
}

/** out/build.json. */
export interface BuildRecord {
  recordVersion: typeof RECORD_VERSION;
  jeos: string;
  name: string;
  /** The image's version: `version:` of jeos.yaml, else `0~<sourceDateEpoch>` (compared as Debian versions are). */
  version: string;
  configDigest: string;
  /** SHA-256 of jeos.lock's bytes. */
  lockDigest: string;
  sourceDateEpoch: number;
  architecture: string;
  packages: Array<{ name: string; version: string; architecture: string; sha256: string }>;
  /** The container image's tree (always built: the other variants start from the same packages). */
  image: VariantRecord;
  /** The VM's tree, when vm is among the outputs. */
  vm?: VmRecord;
  outputs: OutputRecord[];
  /** The other files of out/ that describe the build (manifest.json, trim.json), with their digests. */
  records: OutputResult['files'];
  /** Milliseconds: config, lock, fetch, each variant (its steps in `<variant>.timings`), outputs, total. */
  timings: Record<string, number> & { total: number };
}

/** Where a path of the tree came from. */
export type PathSource = 'package' | 'jeos' | 'workload';

/** One path of a tree, as manifest.json lists it. */
export interface ManifestEntry {
  /** Absolute path in the image: `/usr/sbin/nginx`, `/` for the root. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  /** Permission bits in octal, setuid/setgid/sticky included: `0755`, `4755`. */
  mode: string;
  uid: number;
  gid: number;
  /** Names from the image's own /etc/passwd and /etc/group, when it has them. */
  owner?: string;
  group?: string;
  /** Bytes of content (files; a hard link has its target's). */
  size?: number;
  sha256?: string;
  /** A symlink's text, or the path a hard link shares content with. */
  target?: string;
  /** `major:minor` of a device node. */
  device?: string;
  source: PathSource;
  /** The package and exact version the path came from (source: package). */
  package?: string;
  version?: string;
  /**
   * Why it is in the image: the trim's step that kept it; `parent` for a directory that
   * holds kept paths; `untrimmed` when trim was off; `unrecorded` if the trim gave no reason.
   */
  why: KeepReason['why'] | 'parent' | 'untrimmed' | 'unrecorded';
  /** The path or rule that led to it (KeepReason's `from`, or `detail`). */
  via?: string;
}

/** out/manifest.json. */
export interface ImageManifest {
  manifestVersion: typeof MANIFEST_VERSION;
  /** Sorted by path. */
  trees: { image: ManifestEntry[]; vm?: ManifestEntry[] };
}

/** out/trim.json, one explanation per trimmed variant. */
export type TrimExplanations = Partial<Record<VariantName, TrimExplanation>>;
