/**
 * One build at a time per output directory. out/.jeos-lock names the process that owns
 * out/; a second build is refused (E_OUTPUT_LOCKED) instead of interleaving its files with
 * the first's. A lock whose process is gone (killed, machine rebooted, pid reused) is taken
 * over, and whoever takes the lock first clears what dead builds left (see journal.ts).
 *
 * The lock is re-entrant within a process: a build takes it early, and the output staging
 * inside that build joins it instead of refusing its own build.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { JeosError } from '../errors.js';
import { recoverLeftovers } from './journal.js';
import { checkOutDir, identityAlive, isProcessIdentity, LOCK, lockPath, processIdentity, readOwnFile, type ProcessIdentity } from './out-dir.js';

export interface OutputLock {
  readonly outDir: string;
  /** Give the lock up (once every holder in this process has). Calling it twice does nothing. */
  release(): Promise<void>;
}

interface LockRecord extends ProcessIdentity {
  since: string;
  token: string;
}

interface Held {
  token: string;
  count: number;
  ready: Promise<void>;
}

/** Locks this process holds, by lock file: the pid in a lock file alone cannot tell this process from an earlier one. */
const HELD = new Map<string, Held>();

function parseLock(path: string, text: string): LockRecord {
  let v: Partial<LockRecord> | undefined;
  try {
    v = JSON.parse(text) as Partial<LockRecord>;
  } catch {
    v = undefined;
  }
  if (!isProcessIdentity(v) || typeof (v as Partial<LockRecord>).since !== 'string' || typeof (v as Partial<LockRecord>).token !== 'string') {
    throw new JeosError('E_OUTPUT_FOREIGN', `${path} is not a build lock jeos wrote`, {
      hint: `if no jeos build is running, remove ${path} and build again`,
    });
  }
  return v as LockRecord;
}

function lockedError(outDir: string, path: string, owner: LockRecord): JeosError {
  return new JeosError('E_OUTPUT_LOCKED', `${outDir} is in use by another jeos build (pid ${owner.pid} on ${owner.host}, since ${owner.since})`, {
    hint: `wait for that build to finish, or write elsewhere with --out; if no jeos build is running there (its pid was reused), remove ${path}`,
  });
}

/** Make the lock file ours: linked from a complete draft, so nobody reads half a lock; a dead owner's lock is moved aside first. */
async function acquire(outDir: string, token: string): Promise<void> {
  const path = lockPath(outDir);
  const record: LockRecord = { ...processIdentity(), since: new Date().toISOString(), token };
  const draft = join(outDir, `${LOCK}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(draft, JSON.stringify(record) + '\n', { flag: 'wx', mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(draft, path);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const file = await readOwnFile(path, 'build lock');
      if (!file) continue;
      const owner = parseLock(path, file.text);
      // Our own pid but not in HELD: an earlier process that had this pid (containers reuse them).
      if (owner.pid !== process.pid && identityAlive(owner)) throw lockedError(outDir, path, owner);
      const aside = join(outDir, `${LOCK}-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await rename(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      // Between reading the dead lock and moving it, another build may have taken it over: give that one back.
      if ((await lstat(aside)).ino !== file.ino) await link(aside, path).catch(() => {});
      await unlink(aside);
    }
    const file = await readOwnFile(path, 'build lock');
    if (file) throw lockedError(outDir, path, parseLock(path, file.text));
    throw new JeosError('E_OUTPUT_LOCKED', `${outDir}: could not take the build lock ${path}`, { hint: 'another jeos build is starting there; try again' });
  } finally {
    await unlink(draft).catch(() => {});
  }
}

/**
 * Take the lock of an output directory (made when missing; a symlink is refused), then
 * roll back any commit a dead build left half-done. Hold it for the whole build: release
 * it when the build ends, succeeded or not.
 */
export async function lockOutputDir(outDir: string): Promise<OutputLock> {
  const dir = resolve(outDir);
  const key = lockPath(dir);
  const held = HELD.get(key);
  if (held) {
    try {
      await held.ready;
    } catch {
      return lockOutputDir(outDir);
    }
    if (HELD.get(key) !== held) return lockOutputDir(outDir);
    held.count++;
    return handle(dir, key, held);
  }
  const token = randomBytes(8).toString('hex');
  const entry: Held = { token, count: 1, ready: start() };
  HELD.set(key, entry);
  entry.ready.catch(() => HELD.get(key) === entry && HELD.delete(key));
  await entry.ready;
  return handle(dir, key, entry);

  async function start(): Promise<void> {
    await checkOutDir(dir, { create: true });
    try {
      await acquire(dir, token);
    } catch (e) {
      throw asDirError(dir, e);
    }
    try {
      await recoverLeftovers(dir);
    } catch (e) {
      await dropLockFile(key, token);
      throw asDirError(dir, e);
    }
  }
}

function asDirError(outDir: string, e: unknown): unknown {
  if (e instanceof JeosError) return e;
  return new JeosError('E_OUTPUT_DIR', `cannot prepare the output directory ${outDir}: ${(e as Error).message}`, {
    hint: 'check that the output directory is writable and on a file system that supports rename',
    cause: e,
  });
}

function handle(outDir: string, key: string, held: Held): OutputLock {
  let released = false;
  return {
    outDir,
    async release() {
      if (released) return;
      released = true;
      if (--held.count > 0) return;
      HELD.delete(key);
      await dropLockFile(key, held.token);
    },
  };
}

async function dropLockFile(path: string, token: string): Promise<void> {
  try {
    const file = await readOwnFile(path, 'build lock');
    if (file && parseLock(path, file.text).token === token) await unlink(path);
  } catch {
    // Not ours any more (removed or replaced by hand): nothing to give up.
  }
}
