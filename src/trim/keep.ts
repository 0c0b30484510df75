/**
 * Keeping one path of the image, for the trim stage's reach (reach.ts): the
 * path and every symlink on the way, a command found the way execvp() finds
 * it, a library the way ld.so finds it, a path that a configuration file or a
 * program names, or a directory whole. What a kept file then leads to (its
 * analysis, the rules it sets off) is the subclass's: Reach's mark().
 */
import type { InheritedRpath } from '../elf/index.js';
import type { ImageTree } from '../tree/index.js';
import { isSharedDir, NAMED_DIR_LIMIT } from './named.js';
import type { TrimRule } from './rules.js';
import type { KeepReason, MissingFile } from './types.js';

const MAX_HOPS = 40;

export interface ReachOptions {
  triplet: string;
  /** ld.so.cache's soname → paths (every hwcaps variant). */
  cache: Map<string, string[]>;
  /** PATH directories, tree form. */
  path: string[];
  rules: readonly TrimRule[];
  /** Paths only trim.keep may bring back. */
  dropped: (path: string) => boolean;
}

export abstract class PathKeeper {
  readonly kept = new Map<string, KeepReason>();
  readonly missing: MissingFile[] = [];
  /** The tree's paths in byte order, for the files under a directory (made when first needed: the tree does not change while reaching). */
  private sorted?: string[];
  /** Directories kept whole already (keepTree). */
  private readonly wholeDirs = new Set<string>();
  private readonly defaultDirs: string[];

  constructor(
    protected readonly tree: ImageTree,
    protected readonly options: ReachOptions,
  ) {
    const t = options.triplet;
    this.defaultDirs = [`lib/${t}`, `usr/lib/${t}`, 'lib', 'usr/lib'];
  }

  /**
   * Keep a path: every symlink on the way, and the node it leads to (the last
   * component followed too unless `follow` is false). Returns the path kept at the
   * end, or undefined when it leads nowhere in the image. `inherited`: the DT_RPATH
   * directories the object that loads this one passes on (its libraries may be there).
   */
  keep(path: string, reason: KeepReason, follow = true, inherited: InheritedRpath = []): string | undefined {
    const pending = path.split('/').filter((p) => p !== '' && p !== '.');
    const done: string[] = [];
    let hops = 0;
    // The reason the next path to be named in full gets: the caller's, then "the target of" each link in turn.
    let last = reason;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        if (done.length === 0) return undefined;
        done.pop();
        continue;
      }
      const here = done.length ? `${done.join('/')}/${part}` : part;
      const node = this.tree.get(here);
      if (node?.kind === 'symlink' && (pending.length > 0 || follow)) {
        if (++hops > MAX_HOPS) return undefined;
        if (pending.length === 0) {
          this.mark(here, last, reason.why);
          last = { why: 'target', from: here };
        } else this.mark(here, { why: 'link', from: path }, 'link');
        const target = node.target.split('/').filter((p) => p !== '');
        if (node.target.startsWith('/')) done.length = 0;
        pending.unshift(...target);
        continue;
      }
      if (!node && pending.length > 0) return undefined;
      done.push(part);
    }
    const real = done.join('/');
    const node = this.tree.get(real);
    if (!node) return undefined;
    this.mark(real, last, reason.why, inherited);
    if (node.kind === 'hardlink') this.mark(node.target, { why: 'hardlink', from: real }, reason.why, inherited);
    return real;
  }

  /** Find a command the way execvp() does: a path as it is, a bare name on PATH. */
  findCommand(word: string): string | undefined {
    if (word.includes('/')) return this.isFile(word) ? word.replace(/^\/+/, '') : undefined;
    for (const dir of this.options.path) {
      const candidate = dir ? `${dir}/${word}` : word;
      if (this.isFile(candidate)) return candidate;
    }
    return undefined;
  }

  /** Keep a command and report it missing when it is not in the image. */
  keepCommand(word: string, reason: KeepReason): string | undefined {
    const found = this.findCommand(word);
    if (found) return this.keep(found, reason);
    this.missing.push({ what: word, neededBy: reason.from ?? `(${reason.why})`, why: 'command' });
    return undefined;
  }

  /**
   * Keep a path a configuration file or a program names (`from`), when it is in the image: a file (and the
   * links on the way), or a directory with everything in it when it is not a shared one (isSharedDir) and
   * `whole` allows. Returns whether anything was kept.
   */
  keepNamed(path: string, from: string, whole: boolean): boolean {
    if (this.options.dropped(path)) return false;
    let real: string;
    try {
      real = this.tree.resolve(path, { followLast: true });
    } catch {
      return false;
    }
    const node = this.tree.get(real);
    if (!node) return false;
    const reason: KeepReason = { why: 'named', from, detail: `/${path}` };
    if (node.kind !== 'dir') return this.keep(path, reason) !== undefined;
    if (!whole || isSharedDir(real)) return false;
    this.keep(path, reason);
    return this.keepTree(real, reason) > 0;
  }

  /**
   * Keep everything under a directory, following the directory links in it (a language pack reached
   * through a link to another directory), at most NAMED_DIR_LIMIT files. Returns the number of paths kept.
   */
  keepTree(dir: string, reason: KeepReason, depth = 0): number {
    if (this.wholeDirs.has(dir) || depth > 8) return 0;
    this.wholeDirs.add(dir);
    const paths = this.under(dir);
    if (paths.length > NAMED_DIR_LIMIT) return 0;
    let kept = 0;
    for (const path of paths) {
      const node = this.tree.get(path)!;
      if (node.kind === 'dir' || this.options.dropped(path)) continue;
      if (this.keep(path, reason, node.kind === 'symlink') !== undefined) kept++;
      if (node.kind === 'symlink') {
        try {
          const target = this.tree.resolve(path, { followLast: true });
          if (this.tree.get(target)?.kind === 'dir' && !isSharedDir(target)) kept += this.keepTree(target, { ...reason, from: path }, depth + 1);
        } catch {
          // a loop or a link out of the tree: nothing to keep
        }
      }
    }
    return kept;
  }

  /** Every path below a directory (not the directory itself). */
  private under(dir: string): string[] {
    this.sorted ??= this.tree.entries().map(([p]) => p);
    const prefix = `${dir}/`;
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < this.sorted.length && this.sorted[i]!.startsWith(prefix); i++) out.push(this.sorted[i]!);
    return out;
  }

  private isFile(path: string): boolean {
    try {
      const node = this.tree.stat(path);
      return node !== undefined && node.kind !== 'dir';
    } catch {
      return false;
    }
  }

  /** Where ld.so finds a library: in `dirs` (librarySearch: RPATHs, RUNPATH), ld.so.cache, then the default directories. */
  findLibrary(soname: string, dirs: readonly string[]): string[] {
    if (soname.includes('/')) return this.isFile(soname) ? [soname.replace(/^\/+/, '')] : [];
    for (const dir of dirs) if (this.isFile(`${dir}/${soname}`)) return [`${dir}/${soname}`];
    const cached = (this.options.cache.get(soname) ?? []).filter((p) => this.isFile(p));
    if (cached.length) return cached;
    for (const dir of this.defaultDirs) if (this.isFile(`${dir}/${soname}`)) return [`${dir}/${soname}`];
    return [];
  }

  /**
   * Record a kept path and queue what it leads to. `origin`: the reason the chain that led here started with;
   * `inherited`: the DT_RPATH directories passed on to it.
   */
  protected abstract mark(path: string, reason: KeepReason, origin?: KeepReason['why'], inherited?: InheritedRpath): void;
}
