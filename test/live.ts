// The live tier against the real Debian archive tells "the mirror is broken" from "jeos is broken".
// A mirror is sometimes inconsistent (mid-sync): it serves an index whose bytes are not the ones its
// signed Release lists, or has lost one it lists. jeos refuses such files (the hermetic tier proves
// it, test/live.test.ts among others); a live test that meets one skips with the reason instead of
// failing. Every other failure still fails.
import { test as nodeTest, type TestContext, type TestOptions } from 'node:test';
import { MIRROR_INCONSISTENT } from '../src/archive/release-file.js';
import { JeosError } from '../src/errors.js';
import { cli, runProgram, type RunResult } from './cli/harness.js';

/** Why `e` means the mirror contradicts its own signed Release; undefined when it means anything else. */
export function mirrorInconsistency(e: unknown): string | undefined {
  if (!(e instanceof JeosError) || !MIRROR_INCONSISTENT.has(e.code)) return undefined;
  return `the mirror is inconsistent, not jeos: ${e.code}: ${e.message}${e.details.length ? ` (${e.details.join('; ')})` : ''}`;
}

/** What the skipped test reports to (a node:test TestContext, or anything that records a skip). */
export type Skipper = Pick<TestContext, 'skip'>;

/** Why a test of this file was skipped for the mirror, for the tests after it that need what it made. */
let skipped: string | undefined;

/**
 * A live test's body: run it, and when it throws an error that says the mirror is inconsistent,
 * skip the test with the reason (printed by the test runner); rethrow anything else.
 */
export function live<T extends Skipper>(body: (t: T) => Promise<void> | void): (t: T) => Promise<void> {
  return async (t) => {
    try {
      await body(t);
    } catch (e) {
      const reason = mirrorInconsistency(e);
      if (reason === undefined) throw e;
      skipped = reason;
      t.skip(reason);
    }
  };
}

type Body = (t: TestContext) => Promise<void> | void;

/** node:test's test() with its body run through live(): what every live test file declares its tests with. */
export function test(name: string, body: Body): Promise<void>;
export function test(name: string, options: TestOptions, body: Body): Promise<void>;
export function test(name: string, a: TestOptions | Body, b?: Body): Promise<void> {
  return typeof a === 'function' ? nodeTest(name, live(a)) : nodeTest(name, a, live(b!));
}
export const it = test;

/**
 * For a test that uses what an earlier test of its file made (a build, a lock, the cache): when an
 * earlier test was skipped for the mirror, skip this one too, saying why, and return true.
 */
export function skippedEarlier(t: Skipper): boolean {
  if (skipped === undefined) return false;
  t.skip(`an earlier test was skipped: ${skipped}`);
  return true;
}

/**
 * The error a failed CLI run printed, when it printed one: the JSON error object on stdout
 * (--json), else the `error[CODE]: message` line and its `hint:` on stderr.
 */
export function cliError(r: RunResult): JeosError | undefined {
  if (r.code === 0) return undefined;
  try {
    const out = JSON.parse(r.stdout) as { ok?: boolean; error?: { code?: string; message?: string; hint?: string; details?: string[] } };
    if (out.ok === false && typeof out.error?.code === 'string') {
      return new JeosError(out.error.code, out.error.message ?? '', { hint: out.error.hint, details: out.error.details });
    }
  } catch {
    // not JSON: the plain-text form below
  }
  const m = /^error\[(E_[A-Z0-9_]+)\]: (.*)$/m.exec(r.stderr);
  if (!m) return undefined;
  const after = r.stderr.slice(m.index + m[0].length + 1).split('\n');
  const details = after.filter((line, i) => line.startsWith('  ') && after.slice(0, i).every((l) => l.startsWith('  '))).map((l) => l.trim());
  const hint = after.find((l) => l.startsWith('hint: '))?.slice('hint: '.length);
  return new JeosError(m[1]!, m[2]!, { hint, details });
}

/**
 * Run the built CLI against the live archive with a given cache. A run that failed because the
 * mirror is inconsistent throws that error (for live() to turn into a skip); any other result,
 * failures included, is returned for the test to check.
 */
export async function runJeosLive(cacheDir: string, ...args: string[]): Promise<RunResult> {
  return checkedRun(args, { env: { ...process.env, JEOS_CACHE_DIR: cacheDir, NO_COLOR: '1' } });
}

/** runJeosLive with the run's working directory and environment given. */
export async function checkedRun(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<RunResult> {
  const r = await runProgram([process.execPath, cli, ...args], options);
  const error = cliError(r);
  if (error && mirrorInconsistency(error) !== undefined) {
    throw new JeosError(error.code, `jeos ${args.join(' ')}: ${error.message}`, { hint: error.hint, details: error.details });
  }
  return r;
}
