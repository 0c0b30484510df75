import { JeosError } from '../errors.js';
import { parentOf } from '../util/path.js';
import type { DirNode, FileNode, NodeMeta, SymlinkNode, TreeNode } from './types.js';

const MAX_SYMLINK_HOPS = 40;

/** Default metadata for entries jeos makes itself: root-owned, time zero (writers clamp times anyway). */
export function defaultMeta(mode: number): NodeMeta {
  return { mode, uid: 0, gid: 0, mtime: 0 };
}

/**
 * Normalize a path to tree form (`usr/bin/x`): leading `/` and `./`, `.` components
 * and repeated or trailing slashes are dropped. A `..` component is refused: nothing
 * in an image path may climb.
 */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new JeosError('E_TREE_UNSAFE_PATH', `path ${JSON.stringify(path)} contains "..", which could leave the image root`, {
        hint: 'image paths must stay inside the image',
      });
    }
    parts.push(part);
  }
  return parts.join('/');
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/**
 * The image's file system, in memory. The kernel's rules for walking paths apply
 * (symlinks in the middle of a path are followed, absolute links start at the
 * image root), except that a link that climbs above the root is an error rather
 * than being clamped: an entry that would land outside the image is refused.
 */
export class ImageTree {
  private readonly nodes = new Map<string, TreeNode>();

  constructor() {
    this.nodes.set('', { kind: 'dir', ...defaultMeta(0o755) });
  }

  get size(): number {
    return this.nodes.size;
  }

  /**
   * An independent copy: changing either tree leaves the other as it was. File
   * contents are shared (they are never modified in place), so a copy is cheap.
   */
  clone(): ImageTree {
    const copy = new ImageTree();
    for (const [path, node] of this.nodes) {
      copy.nodes.set(path, node.xattrs ? { ...node, xattrs: new Map(node.xattrs) } : { ...node });
    }
    return copy;
  }

  /** The node stored at exactly this path (symlinks are not followed). */
  get(path: string): TreeNode | undefined {
    return this.nodes.get(normalizePath(path));
  }

  has(path: string): boolean {
    return this.nodes.has(normalizePath(path));
  }

  /**
   * Where a path leads inside the image: symlinks in every component but the last
   * are followed (and the last too with `followLast`). The result need not exist.
   */
  resolve(path: string, options: { followLast?: boolean } = {}): string {
    let hops = 0;
    const pending = normalizePath(path).split('/').filter(Boolean);
    const done: string[] = [];
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        if (done.length === 0) {
          throw new JeosError('E_TREE_ESCAPE', `path ${JSON.stringify(path)} leads outside the image root through a symlink`, {
            hint: 'a symlink in the image climbs above the root with ".."',
          });
        }
        done.pop();
        continue;
      }
      if (part === '.') continue;
      const here = done.length ? `${done.join('/')}/${part}` : part;
      const node = this.nodes.get(here);
      const isLast = pending.length === 0;
      if (node?.kind === 'symlink' && (!isLast || options.followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new JeosError('E_TREE_SYMLINK_LOOP', `too many symlinks while resolving ${JSON.stringify(path)}`, {
            hint: 'the image contains a symlink loop',
          });
        }
        const target = node.target.split('/').filter((p) => p !== '');
        if (node.target.startsWith('/')) done.length = 0;
        pending.unshift(...target);
        continue;
      }
      done.push(part);
    }
    return done.join('/');
  }

  /** The node a path leads to, following symlinks all the way. */
  stat(path: string): TreeNode | undefined {
    return this.nodes.get(this.resolve(path, { followLast: true }));
  }

  /** Contents of a regular file (following symlinks and hardlinks), or undefined. */
  readFile(path: string): Buffer | undefined {
    let node = this.stat(path);
    if (node?.kind === 'hardlink') node = this.nodes.get(node.target);
    return node?.kind === 'file' ? node.data : undefined;
  }

  /** Create a directory and any missing parents; existing directories are left as they are. Returns the real path. */
  mkdirp(path: string, meta: NodeMeta = defaultMeta(0o755)): string {
    const real = this.resolve(path, { followLast: true });
    if (real === '') return real;
    const existing = this.nodes.get(real);
    if (existing) {
      if (existing.kind !== 'dir') {
        throw new JeosError('E_TREE_NOT_A_DIRECTORY', `cannot make directory /${real}: a ${existing.kind} is already there`, {
          hint: 'two packages or a package and workload.files disagree on this path: check workload.files paths, or the packages that ship it (jeos search /PATH)',
        });
      }
      return real;
    }
    this.mkdirp(parentOf(real), defaultMeta(0o755));
    this.nodes.set(real, { kind: 'dir', ...meta });
    return real;
  }

  /**
   * Place a node at a path, following symlinks in its parent components and creating
   * missing parent directories. An existing directory given a directory keeps its
   * children and takes the new metadata; anything else is replaced (the caller decides
   * whether replacing is allowed). Returns the real path the node was stored at.
   */
  put(path: string, node: TreeNode): string {
    const normal = normalizePath(path);
    if (normal === '') {
      if (node.kind !== 'dir') throw new JeosError('E_TREE_ROOT', 'the image root must be a directory', { hint: 'a package or workload.files entry tried to replace / itself: check workload.files paths' });
      this.nodes.set('', node);
      return '';
    }
    const dir = this.mkdirp(parentOf(normal));
    const real = join(dir, baseOf(normal));
    const existing = this.nodes.get(real);
    if (existing?.kind === 'dir' && node.kind !== 'dir') this.remove(real);
    this.nodes.set(real, node);
    return real;
  }

  writeFile(path: string, data: Buffer | string, meta: NodeMeta = defaultMeta(0o644)): string {
    const file: FileNode = { kind: 'file', data: typeof data === 'string' ? Buffer.from(data) : data, ...meta };
    return this.put(path, file);
  }

  symlink(path: string, target: string, meta: NodeMeta = defaultMeta(0o777)): string {
    const link: SymlinkNode = { kind: 'symlink', target, ...meta };
    return this.put(path, link);
  }

  /** Remove a node; a directory goes with everything under it. */
  remove(path: string): void {
    const normal = normalizePath(path);
    const node = this.nodes.get(normal);
    if (!node) return;
    this.nodes.delete(normal);
    if (node.kind === 'dir') {
      const prefix = `${normal}/`;
      for (const key of [...this.nodes.keys()]) if (key.startsWith(prefix)) this.nodes.delete(key);
    }
  }

  /** Every entry, parents before children, in byte order of path: the order every writer uses. */
  entries(): Array<[string, TreeNode]> {
    return [...this.nodes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Names directly inside a directory, sorted. */
  list(dir: string): string[] {
    const real = this.resolve(dir, { followLast: true });
    const prefix = real === '' ? '' : `${real}/`;
    const names: string[] = [];
    for (const key of this.nodes.keys()) {
      if (key !== '' && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) names.push(key.slice(prefix.length));
    }
    return names.sort();
  }

  isDir(path: string): boolean {
    return (this.stat(path) as DirNode | undefined)?.kind === 'dir';
  }
}
