import type { ArchiveSettings } from '../archive/open.js';
import type { ConfigureReport } from '../configure/index.js';
import type { FetchEvent } from '../fetch/index.js';
import type { OutputEvent, OutputFormat, OutputResult } from '../outputs/index.js';
import type { TrimRecord } from '../trim/index.js';
import type { VmRecord } from './vm-image.js';

export const BUILD_STEPS = ['config', 'lock', 'fetch', 'unpack', 'configure', 'workload', 'trim', 'vm', 'outputs'] as const;
export type BuildStep = (typeof BUILD_STEPS)[number];

export interface BuildOptions {
  /** Directory holding jeos.yaml (the build context). */
  dir: string;
  /** Default DIR/out. */
  outDir?: string;
  /** Default: the config's outputs. */
  formats?: OutputFormat[];
  /** The jeos cache (indices, .debs, layers). */
  cacheDir: string;
  offline?: boolean;
  /** Refuse to build when jeos.lock is missing or stale instead of locking again. */
  frozen?: boolean;
  /** false: build without the file-level trim, whatever jeos.yaml says (jeos build --no-trim). */
  trim?: boolean;
  /** Extra trim.keep globs for this build (the behaviour check's bisection). */
  keep?: string[];
  /** How to reach the archive when the lock must be (re)made. */
  archive: ArchiveSettings;
  env?: NodeJS.ProcessEnv;
  onEvent?: (event: BuildEvent) => void;
}

export type BuildEvent =
  | { kind: 'step'; step: BuildStep; state: 'start' }
  | { kind: 'step'; step: BuildStep; state: 'done'; ms: number; detail: string }
  | { kind: 'lock'; state: 'fresh' | 'written'; reason?: string }
  | { kind: 'fetch'; event: FetchEvent }
  | { kind: 'output'; event: OutputEvent };

/** out/build.json: what was built, from what, and how long it took. */
export interface BuildRecord {
  buildVersion: 1;
  jeos: string;
  name: string;
  configDigest: string;
  /** SHA256 of jeos.lock's bytes. */
  lockDigest: string;
  sourceDateEpoch: number;
  architecture: string;
  packages: Array<{ name: string; version: string; architecture: string; sha256: string }>;
  tree: { entries: number; files: number; directories: number; symlinks: number; bytes: number };
  outputs: Array<{ format: OutputFormat; path: string; files: OutputResult['files']; image?: OutputResult['image']; vm?: OutputResult['vm'] }>;
  /** Maintainer scripts whose effects jeos did not reproduce, by package. */
  notReproduced: Array<{ pkg: string; script: string; commands: string[] }>;
  configure: ConfigureReport['effects'];
  /** The file-level trim of the image's tree (absent when trim is off). */
  trim?: TrimRecord;
  /** VM images: the kernel, its modules and the boot setup. */
  vm?: VmRecord;
  /** Milliseconds per step; `vm` only when a VM image was built. */
  timings: Partial<Record<BuildStep, number>> & { total: number };
}
