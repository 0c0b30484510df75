/**
 * Reading this machine's files (or another root file system's, with --root):
 * symlinks are resolved inside the root, as a chroot would see them.
 */
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';

const MAX_LINKS = 40;

export class HostFs {
  constructor(readonly root: string) {}

  /** The real path in the machine's file system of an absolute path inside the root. */
  outside(path: string): string {
    return this.root === '/' ? path : join(this.root, path);
  }

  /** The path a symlinked path leads to, inside the root (absolute), or undefined when a component is missing. */
  async realpath(path: string): Promise<string | undefined> {
    const pending = path.split('/').filter(Boolean);
    const done: string[] = [];
    let hops = 0;
    while (pending.length) {
      const part = pending.shift()!;
      if (part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const here = `/${[...done, part].join('/')}`;
      const st = await lstat(this.outside(here)).catch(() => undefined);
      if (!st) return undefined;
      if (st.isSymbolicLink()) {
        if (++hops > MAX_LINKS) return undefined;
        const target = await readlink(this.outside(here));
        if (target.startsWith('/')) done.length = 0;
        pending.unshift(...target.split('/').filter(Boolean));
        continue;
      }
      done.push(part);
    }
    return `/${done.join('/')}`;
  }

  /** Whether the path (followed) is a regular file with an execute bit. */
  async isExecutable(path: string): Promise<boolean> {
    const real = await this.realpath(path);
    if (!real) return false;
    const st = await stat(this.outside(real)).catch(() => undefined);
    return !!st && st.isFile() && (st.mode & 0o111) !== 0;
  }

  async exists(path: string): Promise<boolean> {
    const real = await this.realpath(path);
    return !!real && !!(await stat(this.outside(real)).catch(() => undefined));
  }

  async read(path: string): Promise<Buffer> {
    return readFile(this.outside((await this.realpath(path)) ?? path));
  }

  async mode(path: string): Promise<number> {
    return (await stat(this.outside((await this.realpath(path)) ?? path))).mode & 0o7777;
  }

  /** The first PATH directory holding an executable of this name. */
  async which(name: string, dirs: string[]): Promise<string | undefined> {
    for (const dir of dirs) {
      if (!dir.startsWith('/')) continue;
      const candidate = posix.join(dir, name);
      if (await this.isExecutable(candidate)) return candidate;
    }
    return undefined;
  }
}

/** `/bin/x` and `/usr/bin/x` are one file on a merged-/usr system: the /usr form names both. */
export function canonicalUsr(path: string): string {
  return path.replace(/^\/(bin|sbin|lib|lib32|lib64|libx32)(\/|$)/, '/usr/$1$2');
}
