/**
 * jeos build --check: run the health check against what was just built (the
 * container image, and the VM when it is an output). When a trimmed image fails
 * and its output names no dropped file, build it again untrimmed and check that:
 * if the untrimmed image passes, the trim broke it, and a bisection over the
 * dropped files (rebuilding with some of them kept) names the file it needed.
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

export interface CheckReport {
  container?: boolean;
  vm?: boolean;
  /** Set when the trimmed container image failed and was compared with an untrimmed build. */
  untrimmed?: { ok: boolean; needed: string[] };
}

/** Glob-escape a literal path for trim.keep. */
const literal = (path: string): string => path.replace(/[*?[]/g, (c) => `[${c}]`);

export async function checkBuild(
  loaded: LoadedConfig,
  outDir: string,
  built: { formats: string[]; trim?: TrimRecord; dropped: () => Promise<string[]> },
  buildOptions: BuildOptions,
  flags: TestFlags,
): Promise<CheckReport> {
  const dir = loaded.dir;
  const log = (line: string) => !flags.json && !flags.quiet && process.stderr.write(`${line}\n`);
  if (!loaded.config.workload.healthcheck) {
    throw new JeosError('E_CHECK_NO_HEALTHCHECK', `${loaded.path} has no workload.healthcheck, so --check has nothing to run`, {
      hint: 'add a healthcheck (http, tcp or command) under workload: in jeos.yaml',
    });
  }
  const report: CheckReport = {};
  if (built.formats.includes('oci')) {
    log('check: the container image');
    report.container = await testContainerCommand(dir, loaded, outDir, flags);
    if (!report.container && built.trim) report.untrimmed = await compareUntrimmed(loaded, await built.dropped(), buildOptions, log);
  }
  if (built.formats.includes('vm') && !loaded.config.workload.healthcheck.command) {
    log('check: the VM image');
    report.vm = await testVmCommand(dir, loaded, outDir, flags);
  }
  if (report.container === undefined && report.vm === undefined) {
    throw new JeosError('E_CHECK_NOTHING', 'no image to check: --check runs the oci output in a container and the vm output in QEMU', {
      hint: 'add oci or vm to outputs: in jeos.yaml (a command health check runs only in a container)',
    });
  }
  return report;
}

async function compareUntrimmed(loaded: LoadedConfig, dropped: string[], options: BuildOptions, log: (l: string) => void): Promise<CheckReport['untrimmed']> {
  const scratch = await mkdtemp(join(tmpdir(), 'jeos-check-'));
  try {
    // The untrimmed image's time to healthy bounds the bisection's waits (a failing image would wait the whole timeout).
    let timeout = loaded.config.workload.healthcheck!.timeout;
    const passes = async (keep: string[] | 'all'): Promise<boolean> => {
      const out = join(scratch, 'out');
      await build({ ...options, outDir: out, formats: ['oci'], onEvent: undefined, ...(keep === 'all' ? { trim: false } : { keep: keep.map(literal) }) });
      const w = loaded.config.workload;
      const result = await testContainer({
        ociDir: join(out, 'oci'),
        tag: 'latest',
        ports: containerPorts(w.ports),
        healthcheck: { ...w.healthcheck!, timeout },
      });
      if (keep === 'all' && result.ok) timeout = Math.min(timeout, Math.max(10, Math.ceil((3 * (result.timings.ready ?? 0)) / 1000)));
      return result.ok;
    };
    log('check: building the same image untrimmed to compare');
    if (!(await passes('all'))) {
      log('check: the untrimmed image fails too: the trim is not the cause');
      return { ok: false, needed: [] };
    }
    log(`check: the untrimmed image passes, so the trim dropped something the workload needs; bisecting ${dropped.length} dropped paths`);
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
