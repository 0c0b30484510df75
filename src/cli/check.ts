/**
 * jeos build --check: run the health check against what was just built (the
 * container image, and the VM when it is an output). When a trimmed image fails
 * and its output names no dropped file (when it does, jeos test has already said
 * which file and how to keep it), build it again untrimmed and check that:
 * if the untrimmed image passes, the trim broke it, and a bisection over the
 * dropped files (rebuilding with some of them kept) names the file it needed.
 * The same for the VM (booted as jeos test --vm boots it) when the container
 * image did not already go through this.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testContainer } from '../boot/container.js';
import { build, type BuildOptions } from '../build/index.js';
import type { LoadedConfig } from '../config/load.js';
import { JeosError } from '../errors.js';
import type { TrimRecord } from '../trim/index.js';
import { containerPorts, testContainerCommand, testVmCommand, type TestFlags } from './commands/test.js';

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
  /** "image" or "VM", for the progress lines. */
  what: string;
  /** Build it into `out`, untrimmed ('all') or trimmed with these dropped paths kept. */
  build(out: string, keep: string[] | 'all'): Promise<void>;
  /** Its health check, waiting `timeout` seconds at most: the milliseconds to healthy, or undefined when it fails. */
  check(out: string, timeout: number): Promise<number | undefined>;
}

const namedDropped = (what: string, paths: string[]) =>
  `check: the ${what}'s output names ${paths.length === 1 ? 'a dropped path' : 'dropped paths'} (${paths.join(', ')}): no untrimmed build is needed to find what the trim broke`;

/** Glob-escape a literal path for trim.keep. */
const literal = (path: string): string => path.replace(/[*?[]/g, (c) => `[${c}]`);

export async function checkBuild(
  loaded: LoadedConfig,
  outDir: string,
  built: { formats: string[]; trim?: TrimRecord; vmTrim?: TrimRecord; dropped: (tree: 'image' | 'vm') => Promise<string[]> },
  buildOptions: BuildOptions,
  flags: TestFlags,
): Promise<CheckReport> {
  const dir = loaded.dir;
  const log = (line: string) => !flags.json && !flags.quiet && process.stderr.write(`${line}\n`);
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
    log('check: the container image');
    const tested = await testContainerCommand(dir, loaded, outDir, flags);
    report.container = tested.ok;
    if (!tested.ok && built.trim && tested.namedDropped.length) log(namedDropped('image', tested.namedDropped));
    else if (!tested.ok && built.trim) {
      const container: CheckSubject = {
        what: 'image',
        build: rebuild('oci'),
        async check(out, timeout) {
          const w = loaded.config.workload;
          const result = await testContainer({ ociDir: join(out, 'oci'), tag: 'latest', ports: containerPorts(w.ports), healthcheck: { ...healthcheck, timeout } });
          return result.ok ? result.timings.ready ?? 0 : undefined;
        },
      };
      report.untrimmed = await compareUntrimmed(container, await built.dropped('image'), healthcheck.timeout, log);
    }
  }
  if (built.formats.includes('vm') && !healthcheck.command) {
    log('check: the VM image');
    const tested = await testVmCommand(dir, loaded, outDir, flags);
    report.vm = tested.ok;
    if (!tested.ok && built.vmTrim && tested.namedDropped.length) log(namedDropped('VM', tested.namedDropped));
    else if (!tested.ok && built.vmTrim && !report.untrimmed) {
      const vm: CheckSubject = {
        what: 'VM',
        build: rebuild('vm'),
        async check(out, timeout) {
          // Booted as jeos test --vm boots it; its time to healthy counts from before QEMU starts.
          const started = Date.now();
          const { ok } = await testVmCommand(dir, loaded, out, { ...flags, quiet: true, print: false, timeout });
          return ok ? Date.now() - started : undefined;
        },
      };
      report.untrimmedVm = await compareUntrimmed(vm, await built.dropped('vm'), healthcheck.timeout, log);
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
export async function compareUntrimmed(subject: CheckSubject, dropped: string[], timeout: number, log: (l: string) => void): Promise<UntrimmedComparison> {
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
    log(`check: building the same ${subject.what} untrimmed to compare`);
    if (!(await passes('all'))) {
      log(`check: the untrimmed ${subject.what} fails too: the trim is not the cause`);
      return { ok: false, needed: [] };
    }
    log(`check: the untrimmed ${subject.what} passes, so the trim dropped something the workload needs; bisecting ${dropped.length} dropped paths`);
    const needed = await bisect(dropped, passes, log);
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
export async function bisect(candidates: string[], passes: (keep: string[]) => Promise<boolean>, log: (l: string) => void, limit = 4): Promise<string[]> {
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
    log(`check: the workload needs ${found}`);
    needed.push(found);
    pool = pool.slice(0, hi - 1);
  }
  return needed;
}
