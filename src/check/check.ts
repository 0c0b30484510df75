/**
 * The diagnosis behind `jeos build --check`: run the health check against what was just
 * built (the container image, and the VM when it is an output). When a trimmed image fails
 * and its output names no dropped file (when it does, the test has already said which file
 * and how to keep it), build it again untrimmed and check that: if the untrimmed image
 * passes, the trim broke it, and a bisection over the dropped files (rebuilding with some of
 * them kept) names the file it needed. The same for the VM when the container image did not
 * already go through this.
 *
 * How one image is tested is passed in (the CLI passes jeos test's own runs); progress is
 * told through events. Nothing here prints.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from '../build/index.js';
import type { LoadedConfig } from '../config/load.js';
import { JeosError } from '../errors.js';
import type { TrimRecord } from '../trim/index.js';

/** Which image a step is about: the container image or the VM. */
export type CheckedImage = 'image' | 'VM';

export type CheckEvent =
  | { type: 'check-start'; what: CheckedImage }
  /** The failing image's own output names dropped paths: that is the answer, no untrimmed build is made. */
  | { type: 'named-dropped'; what: CheckedImage; paths: string[] }
  | { type: 'untrimmed-build'; what: CheckedImage }
  | { type: 'untrimmed-fails'; what: CheckedImage }
  | { type: 'untrimmed-passes'; what: CheckedImage; dropped: number }
  /** Keeping every dropped path does not make the trimmed build pass: no dropped file is the cause. */
  | { type: 'dropped-not-the-cause'; what: CheckedImage }
  /** The bisection stopped (its budget or its limit of paths) before a keep set passed: nothing is suggested. */
  | { type: 'unverified'; what: CheckedImage; paths: string[]; reason: 'budget' | 'limit' }
  /** A dropped path the workload needs: one of a keep set whose own rebuild passed. */
  | { type: 'needed'; path: string };

/** What the comparison with an untrimmed build found: whether that passes, and the dropped paths the workload needs. */
export interface UntrimmedComparison {
  ok: boolean;
  /** Paths to keep, only when a rebuild keeping exactly these passed. */
  needed: string[];
  /** Rebuilds made (the untrimmed one included). */
  builds?: number;
  /** Set when no keep set could be verified: the paths tried and why the search stopped. */
  unverified?: { paths: string[]; reason: 'budget' | 'limit' | 'dropped-not-the-cause' };
}

export interface CheckReport {
  container?: boolean;
  vm?: boolean;
  /** Set when the trimmed container image failed and was compared with an untrimmed build. */
  untrimmed?: UntrimmedComparison;
  /** Set when the trimmed VM failed and was compared with an untrimmed VM (unless the container image was). */
  untrimmedVm?: UntrimmedComparison;
}

/** One kind of image the comparison rebuilds and checks. */
export interface CheckSubject {
  what: CheckedImage;
  /** Build it into `out`, untrimmed ('all') or trimmed with these dropped paths kept. */
  build(out: string, keep: string[] | 'all'): Promise<void>;
  /** Its health check, waiting `timeout` seconds at most: the milliseconds to healthy, or undefined when it fails. */
  check(out: string, timeout: number): Promise<number | undefined>;
}

/** What one test of a built image found: whether the health check passed, and the dropped paths its output names. */
export interface TestOutcome {
  ok: boolean;
  namedDropped: string[];
}

/** How an image in an output directory is tested. */
export interface ImageTests {
  /** The container image's test, as `jeos test` runs it. */
  container(outDir: string): Promise<TestOutcome>;
  /** The VM's test, as `jeos test --vm` runs it. */
  vm(outDir: string): Promise<TestOutcome>;
  /** The container image's health check alone, waiting `timeout` seconds at most: the milliseconds to healthy, or undefined. */
  containerReady(outDir: string, timeout: number): Promise<number | undefined>;
  /** The VM booted as `jeos test --vm` boots it, waiting `timeout` seconds at most: the milliseconds to healthy, or undefined. */
  vmReady(outDir: string, timeout: number): Promise<number | undefined>;
}

export interface CheckOptions {
  loaded: LoadedConfig;
  /** Where the build put its outputs. */
  outDir: string;
  /** What the build made: its formats, its trims, and the paths each trim dropped. */
  built: { formats: string[]; trim?: TrimRecord; vmTrim?: TrimRecord; dropped: (tree: 'image' | 'vm') => Promise<string[]> };
  /** The build's own options, for the rebuilds. */
  buildOptions: BuildOptions;
  tests: ImageTests;
  onEvent?: (event: CheckEvent) => void;
}

/** Glob-escape a literal path for trim.keep. */
const literal = (path: string): string => path.replace(/[*?[]/g, (c) => `[${c}]`);

export async function checkBuild(options: CheckOptions): Promise<CheckReport> {
  const { loaded, outDir, built, buildOptions, tests } = options;
  const onEvent = options.onEvent ?? (() => {});
  const healthcheck = loaded.config.workload.healthcheck;
  if (!healthcheck) {
    throw new JeosError('E_CHECK_NO_HEALTHCHECK', `${loaded.path} has no workload.healthcheck, so --check has nothing to run`, {
      hint: 'add a healthcheck (http, tcp or command) under workload: in jeos.yaml',
    });
  }
  const rebuild = (format: 'oci' | 'vm') => async (out: string, keep: string[] | 'all') => {
    await build({ ...buildOptions, outDir: out, formats: [format], onEvent: undefined, ...(keep === 'all' ? { trim: false } : { keep: keep.map(literal) }) });
  };
  const report: CheckReport = {};
  if (built.formats.includes('oci')) {
    onEvent({ type: 'check-start', what: 'image' });
    const tested = await tests.container(outDir);
    report.container = tested.ok;
    if (!tested.ok && built.trim && tested.namedDropped.length) onEvent({ type: 'named-dropped', what: 'image', paths: tested.namedDropped });
    else if (!tested.ok && built.trim) {
      const container: CheckSubject = { what: 'image', build: rebuild('oci'), check: (out, timeout) => tests.containerReady(out, timeout) };
      report.untrimmed = await compareUntrimmed(container, await built.dropped('image'), healthcheck.timeout, onEvent);
    }
  }
  if (built.formats.includes('vm') && !healthcheck.command) {
    onEvent({ type: 'check-start', what: 'VM' });
    const tested = await tests.vm(outDir);
    report.vm = tested.ok;
    if (!tested.ok && built.vmTrim && tested.namedDropped.length) onEvent({ type: 'named-dropped', what: 'VM', paths: tested.namedDropped });
    else if (!tested.ok && built.vmTrim && !report.untrimmed) {
      const vm: CheckSubject = { what: 'VM', build: rebuild('vm'), check: (out, timeout) => tests.vmReady(out, timeout) };
      report.untrimmedVm = await compareUntrimmed(vm, await built.dropped('vm'), healthcheck.timeout, onEvent);
    }
  }
  if (report.container === undefined && report.vm === undefined) {
    throw new JeosError('E_CHECK_NOTHING', 'no image to check: --check runs the oci output in a container and the vm output in QEMU', {
      hint: 'add oci or vm to outputs: in jeos.yaml (a command health check runs only in a container)',
    });
  }
  return report;
}

/**
 * How long the comparison may take: at most `builds` rebuilds (each with a health check) and `ms`
 * milliseconds in all, whichever comes first; the check in progress when time runs out finishes.
 * docs/trim.md gives the defaults.
 */
export interface CheckBudget {
  builds: number;
  ms: number;
  /** The clock (milliseconds), passed in for tests. */
  now?: () => number;
}

export const DEFAULT_BUDGET: CheckBudget = { builds: 30, ms: 10 * 60_000 };

/** Thrown inside the comparison when its budget is spent. */
class BudgetSpent extends Error {}

/**
 * Build the subject untrimmed and check it; when that passes, check the trimmed build with every
 * dropped path kept (when even that fails, no dropped file is the cause and nothing is bisected),
 * then bisect the dropped paths for the ones the trimmed build needs. Only a keep set whose own
 * rebuild passed is returned in `needed`; one the budget or the limit stopped before it passed is
 * `unverified`, never a suggestion. `timeout`: the health check's, in seconds.
 */
export async function compareUntrimmed(
  subject: CheckSubject,
  dropped: string[],
  timeout: number,
  onEvent: (event: CheckEvent) => void = () => {},
  budget: CheckBudget = DEFAULT_BUDGET,
): Promise<UntrimmedComparison> {
  const scratch = await mkdtemp(join(tmpdir(), 'jeos-check-'));
  const now = budget.now ?? Date.now;
  const start = now();
  let builds = 0;
  try {
    const out = join(scratch, 'out');
    const passes = async (keep: string[] | 'all'): Promise<boolean> => {
      if (builds >= budget.builds || now() - start >= budget.ms) throw new BudgetSpent();
      builds++;
      await subject.build(out, keep);
      const ready = await subject.check(out, timeout);
      // The untrimmed build's time to healthy bounds the bisection's waits (a failing build would wait the whole timeout).
      if (keep === 'all' && ready !== undefined) timeout = Math.min(timeout, Math.max(10, Math.ceil((3 * ready) / 1000)));
      return ready !== undefined;
    };
    onEvent({ type: 'untrimmed-build', what: subject.what });
    if (!(await passes('all'))) {
      onEvent({ type: 'untrimmed-fails', what: subject.what });
      return { ok: false, needed: [], builds };
    }
    onEvent({ type: 'untrimmed-passes', what: subject.what, dropped: dropped.length });
    let tried: string[] = [];
    try {
      // The bisection's starting point, tested rather than assumed: the trimmed build with every dropped path kept.
      if (!(await passes(dropped))) {
        onEvent({ type: 'dropped-not-the-cause', what: subject.what });
        return { ok: true, needed: [], builds, unverified: { paths: [], reason: 'dropped-not-the-cause' } };
      }
      const found = await bisect(dropped, passes, (path) => (tried = [...tried, path]));
      if (found.verified) {
        for (const path of found.needed) onEvent({ type: 'needed', path });
        return { ok: true, needed: found.needed, builds };
      }
      onEvent({ type: 'unverified', what: subject.what, paths: found.needed, reason: 'limit' });
      return { ok: true, needed: [], builds, unverified: { paths: found.needed, reason: 'limit' } };
    } catch (e) {
      if (!(e instanceof BudgetSpent)) throw e;
      onEvent({ type: 'unverified', what: subject.what, paths: tried, reason: 'budget' });
      return { ok: true, needed: [], builds, unverified: { paths: tried, reason: 'budget' } };
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The dropped paths that must be kept for the check to pass. The caller has seen the check pass with
 * every candidate kept; the shortest prefix of the candidates that still passes ends with one needed
 * path; repeat with it kept, on the prefix before it. The set found is re-tested on its own after each
 * path, and is `verified` only when that rebuild passed: a workload that needs more than `limit` paths,
 * or a check that does not pass the same way twice, leaves an unverified set.
 */
export async function bisect(
  candidates: string[],
  passes: (keep: string[]) => Promise<boolean>,
  onCandidate: (path: string) => void = () => {},
  limit = 4,
): Promise<{ needed: string[]; verified: boolean }> {
  const needed: string[] = [];
  let pool = candidates;
  for (;;) {
    if (needed.length > 0 && (await passes(needed))) return { needed, verified: true };
    if (needed.length >= limit || pool.length === 0) return { needed, verified: false };
    let lo = 0; // passes(needed + pool[0..lo)) is false
    let hi = pool.length; // passes(needed + pool[0..hi)) is true
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (await passes([...needed, ...pool.slice(0, mid)])) hi = mid;
      else lo = mid;
    }
    const found = pool[hi - 1]!;
    onCandidate(found);
    needed.push(found);
    pool = pool.slice(0, hi - 1);
  }
}
