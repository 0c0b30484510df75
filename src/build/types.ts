import type { LockChanges } from '../lock/changes.js';
import type { FetchEvent } from '../fetch/index.js';
import type { OutputEvent, OutputFormat } from '../outputs/index.js';
import type { VariantName } from '../record/index.js';
import type { Settings } from '../settings/index.js';

/** The build's own steps; each variant's steps run between fetch and outputs (see variants/). */
export const BUILD_STEPS = ['config', 'lock', 'fetch', 'outputs'] as const;
export type BuildStep = (typeof BUILD_STEPS)[number];

export interface BuildOptions {
  /** Directory holding jeos.yaml (the build context). */
  dir: string;
  /** Mirrors, keyring, suites, architecture, cache, offline, clock: resolved once (resolveSettings). */
  settings: Settings;
  /** Default DIR/out. */
  outDir?: string;
  /** Default: the config's outputs. */
  formats?: OutputFormat[];
  /** Refuse to build when jeos.lock is missing or stale instead of locking again. */
  frozen?: boolean;
  /** false: build without the file-level trim, whatever jeos.yaml says (jeos build --no-trim). */
  trim?: boolean;
  /** Extra trim.keep globs for this build (the behaviour check's bisection). */
  keep?: string[];
  onEvent?: (event: BuildEvent) => void;
}

export type BuildEvent =
  | { kind: 'step'; step: string; variant?: VariantName; state: 'start' }
  | { kind: 'step'; step: string; variant?: VariantName; state: 'done'; ms: number; detail: string }
  | { kind: 'lock'; state: 'fresh' | 'written'; reason?: string; /** Against the lock it replaced, when there was one. */ changes?: LockChanges }
  | { kind: 'fetch'; event: FetchEvent }
  | { kind: 'output'; event: OutputEvent };
