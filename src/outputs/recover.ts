/**
 * What a command that reads out/ (jeos test, jeos run) calls first, so it never reads a
 * mix of two builds: a commit a dead build left half-done is rolled back (the previous
 * build comes back whole), and a commit in progress is waited for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import { JeosError } from '../errors.js';
import { readJournal } from './journal.js';
import { lockOutputDir } from './lock.js';
import { checkOutDir, identityAlive } from './out-dir.js';

/**
 * Make out/ safe to read: refuses a symlinked out/ (E_OUTPUT_DIR_SYMLINK) and control
 * files jeos did not make (E_OUTPUT_FOREIGN); rolls back a dead build's interrupted
 * commit; waits up to `waitMs` for a running commit (then E_OUTPUT_BUSY). A missing
 * out/ is left to the caller to report.
 */
export async function recoverOutputDir(outDir: string, options: { waitMs?: number } = {}): Promise<void> {
  const dir = resolve(outDir);
  if (!(await checkOutDir(dir, { create: false }))) return;
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  for (;;) {
    const journal = await readJournal(dir);
    if (!journal) return;
    if (!identityAlive(journal.owner) || journal.owner.pid === process.pid) {
      // Whoever takes the lock first rolls the dead commit back; a build holding it already has.
      const lock = await lockOutputDir(dir).catch((e: unknown) => {
        if (e instanceof JeosError && (e.code === 'E_OUTPUT_LOCKED' || e.code === 'E_OUTPUT_BUSY')) return undefined;
        throw e;
      });
      await lock?.release();
      if (lock && !(await readJournal(dir))) return;
    }
    if (Date.now() >= deadline) {
      throw new JeosError('E_OUTPUT_BUSY', `pid ${journal.owner.pid} is still moving its outputs into ${dir}`, {
        hint: `wait for that build to finish and try again; if no jeos build is running, build again to replace ${dir}`,
      });
    }
    await sleep(100);
  }
}
