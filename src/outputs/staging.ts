/**
 * All-or-nothing outputs. Writers write into a hidden staging directory inside
 * outDir (same file system, so renames are atomic); `commit` then moves every staged
 * output into place. A failure before commit leaves outDir as it was; a failure
 * during commit puts back what was there.
 *
 *   out/.jeos-staging-<pid>-<rand>/   what this build writes
 *   out/.jeos-old-<pid>-<rand>/       previous outputs, kept until the commit is complete
 *
 * A regular file is replaced with one rename (the old one is hardlinked aside first, in
 * case the commit must be undone); a directory cannot be replaced atomically, so the old
 * one is renamed aside, the new one renamed in, and the old one deleted. If the process
 * dies in between, the next build's `open` finds the dead pid's leftovers, puts any
 * output that is missing back from the old directory, and removes the rest.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../errors.js';

const STAGING_PREFIX = '.jeos-staging-';
const OLD_PREFIX = '.jeos-old-';

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Remove what builds that died left behind in outDir, restoring outputs a commit had moved aside. */
async function recoverStale(outDir: string): Promise<void> {
  for (const name of await readdir(outDir)) {
    const isStaging = name.startsWith(STAGING_PREFIX);
    const isOld = name.startsWith(OLD_PREFIX);
    if (!isStaging && !isOld) continue;
    const pid = Number(name.slice((isStaging ? STAGING_PREFIX : OLD_PREFIX).length).split('-')[0]);
    if (!Number.isInteger(pid) || processAlive(pid)) continue;
    const dir = join(outDir, name);
    if (isOld) {
      for (const output of await readdir(dir)) {
        if (!(await exists(join(outDir, output)))) await rename(join(dir, output), join(outDir, output));
      }
    }
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CommitHooks {
  /** Test hook: called after each output is moved into place. */
  afterMove?: (name: string) => void | Promise<void>;
}

export class OutputStaging {
  private readonly memos = new WeakMap<object, Map<string, Promise<unknown>>>();
  private done = false;

  private constructor(
    readonly outDir: string,
    readonly dir: string,
    private readonly durable: boolean,
  ) {}

  /** Make a fresh staging directory in outDir (creating outDir), after clearing dead builds' leftovers. */
  static async open(outDir: string, options: { durable?: boolean } = {}): Promise<OutputStaging> {
    try {
      await mkdir(outDir, { recursive: true });
      await recoverStale(outDir);
      const dir = join(outDir, `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
      await mkdir(dir);
      return new OutputStaging(outDir, dir, options.durable ?? false);
    } catch (e) {
      throw new JeosError('E_OUTPUT_DIR', `cannot prepare the output directory ${outDir}: ${(e as Error).message}`, {
        hint: 'check that the output directory is writable and on a file system that supports rename',
        cause: e,
      });
    }
  }

  /**
   * Staged path of a top-level output (`rootfs.tar`, `oci`). Names starting with `.` are
   * scratch space: they are never moved into outDir.
   */
  path(name: string): string {
    if (name === '' || name.includes('/') || name === '.' || name === '..') throw new Error(`bad output name ${JSON.stringify(name)}`);
    return join(this.dir, name);
  }

  /** Work shared by writers in one run (the layer digest, the compressed layer), keyed by the tree it came from. */
  memo<T>(owner: object, key: string, make: () => Promise<T>): Promise<T> {
    let map = this.memos.get(owner);
    if (!map) this.memos.set(owner, (map = new Map()));
    let value = map.get(key) as Promise<T> | undefined;
    if (!value) {
      value = make();
      map.set(key, value);
      // A failed computation is not remembered, so a later writer may try again.
      value.catch(() => map!.delete(key));
    }
    return value;
  }

  /** What `memo` would return, without computing it. */
  recall<T>(owner: object, key: string): Promise<T> | undefined {
    return this.memos.get(owner)?.get(key) as Promise<T> | undefined;
  }

  /** Move every staged output into outDir; returns their names. The staging is gone afterwards. */
  async commit(hooks: CommitHooks = {}): Promise<string[]> {
    if (this.done) throw new Error('output staging already committed or discarded');
    this.done = true;
    const names = (await readdir(this.dir)).filter((n) => !n.startsWith('.')).sort();
    const oldDir = join(this.outDir, `${OLD_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(oldDir);
    const moved: Array<{ name: string; hadOld: boolean }> = [];
    try {
      if (this.durable) await syncDir(this.dir);
      for (const name of names) {
        const final = join(this.outDir, name);
        const staged = join(this.dir, name);
        const old = await lstat(final).catch(() => undefined);
        const stagedIsFile = (await lstat(staged)).isFile();
        if (old?.isFile() && stagedIsFile) {
          // Keep a second name for the old file, then replace it in one rename (where the
          // file system has no hardlinks, move it aside instead: a moment without the file).
          await link(final, join(oldDir, name)).catch(() => rename(final, join(oldDir, name)));
        } else if (old) {
          await rename(final, join(oldDir, name));
        }
        moved.push({ name, hadOld: old !== undefined });
        await rename(staged, final);
        await hooks.afterMove?.(name);
      }
      if (this.durable) await syncDir(this.outDir);
    } catch (e) {
      try {
        await this.undo(moved, oldDir);
      } catch (undoError) {
        throw new JeosError('E_OUTPUT_COMMIT', `cannot move the new outputs into ${this.outDir} (${(e as Error).message}), nor put the old ones back (${(undoError as Error).message})`, {
          hint: `the previous outputs are in ${oldDir}; move them back by hand, or build again`,
          cause: e,
        });
      }
      throw new JeosError('E_OUTPUT_COMMIT', `cannot move the new outputs into ${this.outDir}: ${(e as Error).message}`, {
        hint: 'the previous outputs were left in place; check free space and permissions of the output directory',
        cause: e,
      });
    }
    await rm(oldDir, { recursive: true, force: true });
    await rm(this.dir, { recursive: true, force: true });
    return names;
  }

  private async undo(moved: Array<{ name: string; hadOld: boolean }>, oldDir: string): Promise<void> {
    for (const { name, hadOld } of moved.reverse()) {
      const final = join(this.outDir, name);
      const staged = join(this.dir, name);
      if (await exists(staged)) {
        // Moved aside but the new one never arrived: only the old needs to come back.
      } else if (await exists(final)) {
        await rename(final, staged).catch(() => rm(final, { recursive: true, force: true }));
      }
      if (hadOld) await rename(join(oldDir, name), final);
    }
    await rm(oldDir, { recursive: true, force: true });
    await this.discardFiles();
  }

  private async discardFiles(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Throw the staged outputs away; outDir is left as it was. */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.discardFiles();
  }
}
