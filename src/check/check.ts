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
  /** The bisection found a dropped path the workload needs. */
  | { type: 'needed'; path: string };

/** What the comparison with an untrimmed build found: whether that passes, and the dropped paths the workload needs. */
export interface UntrimmedComparison {
  ok: boolean;
  needed: string[];
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
 * Build the subject untrimmed and check it; when that passes, bisect the dropped paths for the ones
 * the trimmed build needs. `timeout`: the health check's, in seconds.
 */
export async function compareUntrimmed(
  subject: CheckSubject,
  dropped: string[],
  timeout: number,
  onEvent: (event: CheckEvent) => void = () => {},
): Promise<UntrimmedComparison> {
  const scratch = await mkdtemp(join(tmpdir(), 'jeos-check-'));
  try {
    const out = join(scratch, 'out');
    const passes = async (keep: string[] | 'all'): Promise<boolean> => {
      await subject.build(out, keep);
      const ready = await subject.check(out, timeout);
      // The untrimmed build's time to healthy bounds the bisection's waits (a failing build would wait the whole timeout).
      if (keep === 'all' && ready !== undefined) timeout = Math.min(timeout, Math.max(10, Math.ceil((3 * ready) / 1000)));
      return ready !== undefined;
    };
    onEvent({ type: 'untrimmed-build', what: subject.what });
    if (!(await passes('all'))) {
      onEvent({ type: 'untrimmed-fails', what: subject.what });
      return { ok: false, needed: [] };
    }
    onEvent({ type: 'untrimmed-passes', what: subject.what, dropped: dropped.length });
    const needed = await bisect(dropped, passes, onEvent);
    return { ok: true, needed };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The dropped paths that must be kept for the check to pass: the shortest prefix of
 * the candidates that passes ends with one needed path; repeat with it kept, on the
 * prefix before it, until the kept set passes (at most `limit` paths).
 */
export async function bisect(
  candidates: string[],
  passes: (keep: string[]) => Promise<boolean>,
  onEvent: (event: CheckEvent) => void = () => {},
  limit = 4,
): Promise<string[]> {
  const needed: string[] = [];
  let pool = candidates;
  while (needed.length < limit && !(await passes(needed))) {
    let lo = 0; // passes(needed + pool[0..lo)) is false
    let hi = pool.length; // passes(needed + pool[0..hi)) is true (all dropped paths kept ≈ untrimmed)
    if (hi === 0) break;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (await passes([...needed, ...pool.slice(0, mid)])) hi = mid;
      else lo = mid;
    }
    const found = pool[hi - 1]!;
    onEvent({ type: 'needed', path: found });
    needed.push(found);
    pool = pool.slice(0, hi - 1);
  }
  return needed;
}
