/**
 * All-or-nothing outputs. Writers write into a hidden staging directory inside outDir
 * (same file system, so renames are atomic); `commit` then replaces the previous build's
 * outputs with the new ones, as one transaction:
 *
 *   out/.jeos-lock                    the build that owns out/ (lock.ts)
 *   out/.jeos-staging-<pid>-<rand>/   what this build writes
 *   out/.jeos-old-<pid>-<rand>/       the previous build's outputs, moved aside during the commit
 *   out/.jeos-commit.json             the journal: present from before the first move to after the last (journal.ts)
 *
 * The commit moves aside every output of the previous build — the ones being replaced
 * and the ones this build did not write (a `--format tar` build leaves no older `oci/`) —
 * and moves the new ones in. Anything else in out/ is the user's and stays. A failure
 * during the commit rolls it back at once; a crash is rolled back by whoever next takes
 * the lock or reads out/ (recover.ts). Either way out/ holds one build, whole.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { JeosError } from '../errors.js';
import { LIVE_DIRS, recoverLeftovers, removeJournal, rollBack, syncDir, writeJournal, type Journal } from './journal.js';
import { lockOutputDir, type OutputLock } from './lock.js';
import { OLD_PREFIX, OUTPUT_NAMES, processIdentity, STAGING_PREFIX } from './out-dir.js';

export interface CommitHooks {
  /** Test hook: called after each output is moved into place. */
  afterMove?: (name: string) => void | Promise<void>;
}

/**
 * JEOS_TEST_CRASH_AT=commit:N kills this process (SIGKILL) right after the Nth move of a
 * commit (0: once the journal is written; one more than the moves: once it is deleted, before
 * the old outputs are), so tests reach each crash window without timing luck. Test-only; the
 * one place jeos reads it.
 */
function crashAfterMove(): (moves: number) => void {
  const m = /^commit:(\d+)$/.exec(process.env.JEOS_TEST_CRASH_AT ?? '');
  if (!m) return () => {};
  const at = Number(m[1]);
  return (moves) => {
    if (moves !== at) return;
    process.kill(process.pid, 'SIGKILL');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  };
}

const suffix = () => `${process.pid}-${randomBytes(4).toString('hex')}`;

export class OutputStaging {
  private readonly memos = new WeakMap<object, Map<string, Promise<unknown>>>();
  private done = false;

  private constructor(
    readonly outDir: string,
    readonly dir: string,
    private readonly durable: boolean,
    private readonly lock: OutputLock,
  ) {}

  /**
   * Make a fresh staging directory in outDir. Takes outDir's lock (or joins it, when this
   * process holds it already), which creates outDir and clears dead builds' leftovers.
   */
  static async open(outDir: string, options: { durable?: boolean } = {}): Promise<OutputStaging> {
    const lock = await lockOutputDir(outDir);
    const dir = join(lock.outDir, `${STAGING_PREFIX}${suffix()}`);
    LIVE_DIRS.add(dir);
    try {
      await mkdir(dir);
    } catch (e) {
      LIVE_DIRS.delete(dir);
      await lock.release();
      throw new JeosError('E_OUTPUT_DIR', `cannot prepare the output directory ${outDir}: ${(e as Error).message}`, {
        hint: 'check that the output directory is writable and on a file system that supports rename',
        cause: e,
      });
    }
    return new OutputStaging(lock.outDir, dir, options.durable ?? false, lock);
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

  /**
   * Replace the previous build's outputs in outDir with the staged ones; returns the names
   * moved in. The staging is gone afterwards, and the lock released (if this staging took it).
   */
  async commit(hooks: CommitHooks = {}): Promise<string[]> {
    if (this.done) throw new Error('output staging already committed or discarded');
    this.done = true;
    const oldDir = join(this.outDir, `${OLD_PREFIX}${suffix()}`);
    LIVE_DIRS.add(oldDir);
    try {
      return await this.moveIn(oldDir, hooks);
    } finally {
      LIVE_DIRS.delete(oldDir);
      LIVE_DIRS.delete(this.dir);
      await this.lock.release();
    }
  }

  private async moveIn(oldDir: string, hooks: CommitHooks): Promise<string[]> {
    const incoming = (await readdir(this.dir)).filter((n) => !n.startsWith('.')).sort();
    const present = new Set(await readdir(this.outDir));
    const outgoing = [...new Set([...OUTPUT_NAMES, ...incoming])].filter((n) => present.has(n)).sort();
    const journal: Journal = { version: 1, owner: processIdentity(), staging: basename(this.dir), old: basename(oldDir), incoming, outgoing };
    try {
      await mkdir(oldDir);
      if (this.durable) await syncDir(this.dir);
      if (!(await writeJournal(this.outDir, journal, this.durable))) {
        // Only a commit of this very process can be running (the lock keeps others out); a dead one is rolled back.
        await recoverLeftovers(this.outDir);
        if (!(await writeJournal(this.outDir, journal, this.durable))) {
          throw new JeosError('E_OUTPUT_BUSY', `another commit is moving outputs into ${this.outDir}`, { hint: 'commit one output staging at a time' });
        }
      }
    } catch (e) {
      // Nothing moved yet: out/ is as it was.
      await rm(oldDir, { recursive: true, force: true });
      await rm(this.dir, { recursive: true, force: true });
      if (e instanceof JeosError) throw e;
      throw new JeosError('E_OUTPUT_COMMIT', `cannot start moving the new outputs into ${this.outDir}: ${(e as Error).message}`, {
        hint: 'the previous outputs were left in place; check free space and permissions of the output directory',
        cause: e,
      });
    }
    const crash = crashAfterMove();
    crash(0);
    let moves = 0;
    try {
      for (const name of [...new Set([...outgoing, ...incoming])].sort()) {
        const final = join(this.outDir, name);
        const staged = join(this.dir, name);
        if (outgoing.includes(name)) {
          const aside = join(oldDir, name);
          if (incoming.includes(name) && (await lstat(final)).isFile() && (await lstat(staged)).isFile()) {
            // Keep a second name for the old file, then replace it in one rename (where the
            // file system has no hardlinks, move it aside instead: a moment without the file).
            await link(final, aside).catch(() => rename(final, aside));
          } else {
            await rename(final, aside);
          }
          crash(++moves);
        }
        if (incoming.includes(name)) {
          await rename(staged, final);
          crash(++moves);
          await hooks.afterMove?.(name);
        }
      }
      if (this.durable) await syncDir(this.outDir);
      await removeJournal(this.outDir, this.durable);
    } catch (e) {
      try {
        await rollBack(this.outDir, journal);
      } catch (undoError) {
        throw new JeosError('E_OUTPUT_COMMIT', `cannot move the new outputs into ${this.outDir} (${(e as Error).message}), nor put the old ones back (${(undoError as Error).message})`, {
          hint: `the previous outputs are in ${oldDir}; the next jeos build or test there tries again to put them back`,
          cause: e,
        });
      }
      throw new JeosError('E_OUTPUT_COMMIT', `cannot move the new outputs into ${this.outDir}: ${(e as Error).message}`, {
        hint: 'the previous outputs were left in place; check free space and permissions of the output directory',
        cause: e,
      });
    }
    crash(moves + 1);
    await rm(oldDir, { recursive: true, force: true });
    await rm(this.dir, { recursive: true, force: true });
    return incoming;
  }

  /** Throw the staged outputs away; outDir is left as it was. */
  async discard(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await rm(this.dir, { recursive: true, force: true });
    } finally {
      LIVE_DIRS.delete(this.dir);
      await this.lock.release();
    }
  }
}
