/**
 * What every effect module is given, and the little helpers they share.
 */
import type { ImageTree, NodeMeta } from '../../tree/index.js';
import { normalizePath } from '../../tree/index.js';
import type { UnpackedPackage } from '../../unpack/types.js';
import type { ActionRecord } from '../actions.js';
import type { ConfigureOptions, EffectReport } from '../types.js';

/** Names to ids, as the users effect settled them. */
export interface Accounts {
  uid(name: string): number | undefined;
  gid(name: string): number | undefined;
  /** A user's primary group id. */
  primaryGid(user: string): number | undefined;
}

export interface EffectContext {
  tree: ImageTree;
  /** Packages sorted by name and architecture. */
  packages: UnpackedPackage[];
  options: ConfigureOptions;
  /** Every action the script scan produced, in script order. */
  actions: ActionRecord[];
  /** Set by the users effect for the effects after it. */
  accounts?: Accounts;
}

/** Collects the image paths an effect touched, for its report. */
export class Changes {
  private readonly paths = new Set<string>();

  add(path: string): void {
    this.paths.add(`/${normalizePath(path)}`);
  }

  get size(): number {
    return this.paths.size;
  }

  list(): string[] {
    return [...this.paths].sort();
  }

  report(effect: string, summary: string): EffectReport {
    return { effect, changed: this.list(), summary };
  }
}

/** Metadata for something jeos makes: owned by root unless told otherwise, at SOURCE_DATE_EPOCH. */
export function madeMeta(options: ConfigureOptions, mode: number, uid = 0, gid = 0): NodeMeta {
  return { mode, uid, gid, mtime: options.sourceDateEpoch };
}

/** Create missing parent directories of a tree path (root-owned 0755), returning the created paths. */
export function ensureParents(tree: ImageTree, path: string, options: ConfigureOptions, changes?: Changes): void {
  const parts = normalizePath(path).split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const real = tree.resolve(dir, { followLast: true });
    if (!tree.get(real)) {
      tree.mkdirp(real, madeMeta(options, 0o755));
      changes?.add(real);
    }
  }
}

/** `/x/y` → its form in a report. */
export function shown(path: string): string {
  return `/${normalizePath(path)}`;
}

/** Byte order of strings, as C's strcmp on their UTF-8 (what sort(1) does in the C locale). */
export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
