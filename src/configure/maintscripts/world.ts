/**
 * What a maintainer script would see if it ran now: the unpacked image tree,
 * plus what the commands recognized so far have created or removed, plus the
 * accounts that exist. Used to decide conditions (`[ -d /var/mail ]`,
 * `getent passwd _apt`) while scripts are interpreted.
 */
import type { ImageTree, TreeNode } from '../../tree/index.js';
import { normalizePath } from '../../tree/index.js';
import { compareVersions } from '../../archive/index.js';
import { globToRegExp, type Tri } from '../shell/interpret.js';

export type PathKind = 'file' | 'dir' | 'symlink' | 'other';

const PATH_DIRS = ['usr/local/sbin', 'usr/local/bin', 'usr/sbin', 'usr/bin', 'sbin', 'bin'];

export class ScriptWorld {
  private readonly overlay = new Map<string, PathKind | 'absent'>();
  readonly users = new Set<string>();
  readonly groups = new Set<string>();
  readonly statOverrides = new Set<string>();
  readonly alternatives = new Set<string>();
  /** Files a per-instance secret step makes at first start (secrets.ts): present for later conditions, absent from the tree. */
  readonly deferred = new Set<string>();

  constructor(readonly tree: ImageTree) {}

  /** Tree form of an absolute script path; undefined for relative or climbing paths. */
  static treePath(path: string | undefined): string | undefined {
    if (path === undefined || !path.startsWith('/')) return undefined;
    try {
      return normalizePath(path);
    } catch {
      return undefined;
    }
  }

  /** What is at a path (following symlinks unless `noFollow`), or undefined when nothing is. */
  kind(path: string, noFollow = false): PathKind | undefined {
    const p = ScriptWorld.treePath(path);
    if (p === undefined) return undefined;
    const o = this.overlay.get(p);
    if (o !== undefined) return o === 'absent' ? undefined : o === 'symlink' && !noFollow ? 'file' : o;
    try {
      const node = noFollow ? this.tree.get(this.tree.resolve(p)) : this.tree.stat(p);
      if (!node) return undefined;
      if (node.kind === 'file' || node.kind === 'hardlink') return 'file';
      if (node.kind === 'dir' || node.kind === 'symlink') return node.kind;
      return 'other';
    } catch {
      return undefined;
    }
  }

  /** Record what a recognized command made (or removed) at a path. */
  set(path: string, kind: PathKind | 'absent'): void {
    const p = ScriptWorld.treePath(path);
    if (p !== undefined) this.overlay.set(p, kind);
  }

  executable(path: string): Tri {
    const kind = this.kind(path);
    if (kind === undefined) return false;
    if (kind === 'dir') return true;
    const p = ScriptWorld.treePath(path)!;
    if (this.overlay.has(p)) return undefined;
    const node = this.tree.stat(p);
    const mode = node && node.kind !== 'hardlink' ? node.mode : (node && this.tree.get(node.target)?.mode) ?? 0;
    return (mode & 0o111) !== 0;
  }

  /** `command -v NAME` / `which NAME`: whether an executable of that name is on the default PATH. */
  commandExists(name: string): Tri {
    const found = this.findCommand(name);
    return found === undefined ? undefined : found !== '';
  }

  /** What `command -v NAME` prints: the path on the default PATH, '' when there is none. */
  findCommand(name: string): string | undefined {
    if (name.includes('/')) {
      const x = this.executable(name);
      return x === undefined ? undefined : x ? name : '';
    }
    for (const dir of PATH_DIRS) {
      const found = this.executable(`/${dir}/${name}`);
      if (found === undefined) return undefined;
      if (found) return `/${dir}/${name}`;
    }
    return '';
  }

  /** The tree node a path leads to (following symlinks), when nothing recognized so far changed it. */
  node(path: string): TreeNode | undefined {
    const p = ScriptWorld.treePath(path);
    if (p === undefined || this.overlay.has(p)) return undefined;
    try {
      const n = this.tree.stat(p);
      return n?.kind === 'hardlink' ? this.tree.get(n.target) : n;
    } catch {
      return undefined;
    }
  }

  /** Pathname expansion of an absolute pattern over the tree (dot files only by an explicit dot), sorted; undefined for a relative one. */
  glob(pattern: string): string[] | undefined {
    if (!pattern.startsWith('/')) return undefined;
    let current = [''];
    for (const part of pattern.split('/').filter(Boolean)) {
      const next: string[] = [];
      const magic = /(^|[^\\])[*?[]/.test(part);
      const re = magic ? globToRegExp(part) : undefined;
      if (magic && re === undefined) return undefined;
      for (const base of current) {
        if (!magic) {
          next.push(`${base}/${part.replace(/\\(.)/g, '$1')}`);
          continue;
        }
        if (this.kind(base || '/') !== 'dir') continue;
        const m = new RegExp(`^${re}$`, 's');
        for (const name of this.tree.list(this.tree.resolve(base.slice(1), { followLast: true }))) {
          if ((name.startsWith('.') && !part.startsWith('.')) || !m.test(name)) continue;
          next.push(`${base}/${name}`);
        }
      }
      current = next;
    }
    return current.filter((p) => this.kind(p, true) !== undefined).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /** `test` / `[`: three-valued evaluation of the expression. */
  test(args: Array<string | undefined>): Tri {
    if (args.length === 0) return false;
    const orAt = args.lastIndexOf('-o');
    if (orAt > 0) return or(this.test(args.slice(0, orAt)), this.test(args.slice(orAt + 1)));
    const andAt = args.lastIndexOf('-a');
    if (andAt > 0 && args.length > 3) return and(this.test(args.slice(0, andAt)), this.test(args.slice(andAt + 1)));
    if (args[0] === '!' && args.length > 1 && !(args.length === 3 && isBinaryOp(args[1]))) return not(this.test(args.slice(1)));
    if (args[0] === '(' && args[args.length - 1] === ')') return this.test(args.slice(1, -1));
    if (args.length === 1) return args[0] === undefined ? undefined : args[0] !== '';
    if (args.length === 2) {
      const [op, v] = args;
      if (op === '-n' || op === '-z') return v === undefined ? undefined : (v !== '') === (op === '-n');
      if (v === undefined || op === undefined) return undefined;
      if (v === '' && /^-[efdLhxsrwpSbc]$/.test(op)) return false;
      switch (op) {
        case '-e':
        case '-r':
        case '-w':
          return this.pathTest(v, (k) => k !== undefined);
        case '-f':
          return this.pathTest(v, (k) => k === 'file');
        case '-d':
          return this.pathTest(v, (k) => k === 'dir');
        case '-L':
        case '-h':
          return this.pathTest(v, (k) => k === 'symlink', true);
        case '-x':
          return v.startsWith('/') ? this.executable(v) : undefined;
        case '-s':
          return this.nonEmpty(v);
        case '-p':
        case '-S':
        case '-b':
        case '-c':
          return this.pathTest(v, (k) => k === 'other');
        default:
          return undefined;
      }
    }
    if (args.length === 3) {
      const [a, op, b] = args;
      if (a === undefined || b === undefined || op === undefined) return undefined;
      switch (op) {
        case '=':
        case '==':
          return a === b;
        case '!=':
          return a !== b;
        case '-eq':
        case '-ne':
        case '-lt':
        case '-le':
        case '-gt':
        case '-ge': {
          const x = Number(a);
          const y = Number(b);
          if (!Number.isInteger(x) || !Number.isInteger(y)) return undefined;
          return { '-eq': x === y, '-ne': x !== y, '-lt': x < y, '-le': x <= y, '-gt': x > y, '-ge': x >= y }[op];
        }
        default:
          return undefined;
      }
    }
    return undefined;
  }

  private pathTest(path: string, pred: (k: PathKind | undefined) => boolean, noFollow = false): Tri {
    if (!path.startsWith('/')) return undefined;
    return pred(this.kind(path, noFollow));
  }

  private nonEmpty(path: string): Tri {
    const k = this.kind(path);
    if (k === undefined) return false;
    if (k !== 'file') return true;
    const p = ScriptWorld.treePath(path)!;
    if (this.overlay.has(p)) return undefined;
    return (this.tree.readFile(p)?.length ?? 0) > 0;
  }
}

function isBinaryOp(op: string | undefined): boolean {
  return op !== undefined && ['=', '==', '!=', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-nt', '-ot', '-ef'].includes(op);
}

export function not(v: Tri): Tri {
  return v === undefined ? undefined : !v;
}

function or(a: Tri, b: Tri): Tri {
  return a === true || b === true ? true : a === false && b === false ? false : undefined;
}

function and(a: Tri, b: Tri): Tri {
  return a === false || b === false ? false : a === true && b === true ? true : undefined;
}

/**
 * `dpkg --compare-versions A OP B`. An empty version (a first install's "$2") is
 * earlier than every version, except for the `-nl` operators, where it is later.
 */
export function compareVersionsOp(a: string, op: string, b: string): Tri {
  const nl = op.endsWith('-nl');
  const base = nl ? op.slice(0, -3) : op;
  let cmp: number;
  if (a === '' || b === '') {
    if (a === b) cmp = 0;
    else cmp = (a === '') === !nl ? -1 : 1;
  } else {
    try {
      cmp = compareVersions(a, b);
    } catch {
      return undefined;
    }
  }
  switch (base) {
    case 'lt':
    case '<<':
      return cmp < 0;
    case 'le':
    case '<=':
    case '<':
      return cmp <= 0;
    case 'eq':
    case '=':
      return cmp === 0;
    case 'ne':
      return cmp !== 0;
    case 'ge':
    case '>=':
    case '>':
      return cmp >= 0;
    case 'gt':
    case '>>':
      return cmp > 0;
    default:
      return undefined;
  }
}
