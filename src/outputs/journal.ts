/**
 * The commit journal: out/.jeos-commit.json names, before the first output moves, the
 * staging directory, the directory old outputs move aside into, and which names go in and
 * which go out. It is deleted after the last move; that deletion is the commit. A journal
 * whose process is gone marks an interrupted commit, and recovery rolls it back: what
 * came in goes back to staging, what went out comes back, so out/ holds the previous
 * build, whole. Every step of the roll-back can be repeated, so a crash during recovery
 * is recovered by the next one.
 */
import { link, open, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import {
  foreignEntry, identityAlive, isOutputName, isProcessIdentity, journalPath, LOCK, lstatOrUndefined, OLD_PREFIX, ownedAs,
  pidAlive, readOwnFile, STAGING_PREFIX, type ProcessIdentity,
} from './out-dir.js';

export interface Journal {
  version: 1;
  owner: ProcessIdentity;
  /** Names inside outDir: `.jeos-staging-<pid>-<hex>`, `.jeos-old-<pid>-<hex>`. */
  staging: string;
  old: string;
  /** Staged outputs moved into outDir. */
  incoming: string[];
  /** Outputs in outDir before the commit, moved aside (then deleted): replaced ones and stale ones. */
  outgoing: string[];
}

/**
 * This process's staging and old directories in use. Recovery clears every other one,
 * including one named with this pid: a container may run jeos as the same pid each time.
 */
export const LIVE_DIRS = new Set<string>();

/** The pid in a staging or old directory's name (or a lock draft's), or undefined when the name is not one. */
export function leftoverPid(name: string): number | undefined {
  const m = /^\.jeos-(?:staging|old|lock)-(\d+)-[0-9a-f]+$/.exec(name);
  const pid = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function parseJournal(path: string, text: string): Journal {
  let j: Partial<Journal> | undefined;
  try {
    j = JSON.parse(text) as Partial<Journal>;
  } catch {
    j = undefined;
  }
  const ok =
    j?.version === 1 &&
    isProcessIdentity(j.owner) &&
    typeof j.staging === 'string' && j.staging.startsWith(STAGING_PREFIX) && leftoverPid(j.staging) === j.owner.pid &&
    typeof j.old === 'string' && j.old.startsWith(OLD_PREFIX) && leftoverPid(j.old) === j.owner.pid &&
    Array.isArray(j.incoming) && j.incoming.every(isOutputName) &&
    Array.isArray(j.outgoing) && j.outgoing.every(isOutputName);
  if (!ok) {
    throw new JeosError('E_OUTPUT_FOREIGN', `${path} is not a commit journal jeos wrote`, {
      hint: `if no jeos build is running, remove ${path} and build again`,
    });
  }
  return j as Journal;
}

export async function readJournal(outDir: string): Promise<Journal | undefined> {
  const path = journalPath(outDir);
  const file = await readOwnFile(path, 'commit journal');
  return file && parseJournal(path, file.text);
}

export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write the journal whole or not at all: into the staging directory first, then linked
 * to its name (a link never replaces, nor follows, what is already there).
 * Returns false when a journal already exists.
 */
export async function writeJournal(outDir: string, journal: Journal, durable: boolean): Promise<boolean> {
  const draft = join(outDir, journal.staging, '.jeos-commit.json');
  await writeFile(draft, JSON.stringify(journal) + '\n', { flag: 'wx', mode: 0o644, flush: durable });
  try {
    await link(draft, journalPath(outDir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(draft);
  }
  if (durable) await syncDir(outDir);
  return true;
}

/** The commit point: once the journal is gone, the new outputs are the build in out/. */
export async function removeJournal(outDir: string, durable: boolean): Promise<void> {
  await unlink(journalPath(outDir));
  if (durable) await syncDir(outDir);
}

/** A staging or old directory the journal names: jeos's own directory, or missing. Anything else is refused. */
async function ownDirOrMissing(path: string): Promise<boolean> {
  const st = await lstatOrUndefined(path);
  if (!st) return false;
  if (!ownedAs(st, 'dir')) throw foreignEntry(path, st, 'directory');
  return true;
}

/** Put out/ back as it was before the journal's commit began, then remove the journal and both directories. */
export async function rollBack(outDir: string, journal: Journal): Promise<void> {
  const staging = join(outDir, journal.staging);
  const old = join(outDir, journal.old);
  const hasStaging = await ownDirOrMissing(staging);
  const hasOld = await ownDirOrMissing(old);
  if (!hasStaging && journal.incoming.length) {
    // Staging goes only after the journal: without it nobody can tell what came in.
    throw new JeosError('E_OUTPUT_RECOVER', `an interrupted commit in ${outDir} cannot be undone: its staging directory ${journal.staging} is gone`, {
      hint: `remove ${journalPath(outDir)} and build again`,
    });
  }
  // What came in goes back (its staged copy is absent only once it was moved in).
  for (const name of [...journal.incoming].reverse()) {
    if (await lstatOrUndefined(join(staging, name))) continue;
    if (await lstatOrUndefined(join(outDir, name))) await rename(join(outDir, name), join(staging, name));
  }
  // What went out comes back (a file that was only hardlinked aside is still in place: the rename is then a no-op).
  if (hasOld) {
    for (const name of journal.outgoing) {
      if (await lstatOrUndefined(join(old, name))) await rename(join(old, name), join(outDir, name));
    }
  }
  await syncDir(outDir);
  await removeJournal(outDir, true);
  if (hasOld) await rm(old, { recursive: true, force: true });
  if (hasStaging) await rm(staging, { recursive: true, force: true });
}

/**
 * Clear what dead builds left in outDir; the caller holds the lock. An interrupted commit
 * is rolled back; a staging or old directory no journal names is deleted (an old one
 * outlives its journal only after its commit completed, so nothing in it may come back).
 * Entries with jeos's names that jeos
 * did not make (symlinks, files, another user's) are left alone.
 */
export async function recoverLeftovers(outDir: string): Promise<void> {
  const journal = await readJournal(outDir);
  if (journal) {
    if (identityAlive(journal.owner) && (journal.owner.pid !== process.pid || LIVE_DIRS.has(join(outDir, journal.staging)))) {
      throw new JeosError('E_OUTPUT_BUSY', `pid ${journal.owner.pid} is committing outputs into ${outDir} right now`, {
        hint: 'wait for that build to finish, then try again',
      });
    }
    await rollBack(outDir, journal);
  }
  for (const name of await readdir(outDir)) {
    const pid = leftoverPid(name);
    if (pid === undefined) continue;
    const path = join(outDir, name);
    if (pid === process.pid ? LIVE_DIRS.has(path) : pidAlive(pid)) continue;
    const st = await lstatOrUndefined(path);
    if (st && ownedAs(st, name.startsWith(LOCK) ? 'file' : 'dir')) await rm(path, { recursive: true, force: true });
  }
}
