/**
 * jeos build --check in the CLI: the diagnosis is the library's (src/check); this passes it
 * jeos test's own runs of the container image and the VM, and prints its progress as lines.
 */
import { join } from 'node:path';
import { testContainer } from '../boot/container.js';
import type { BuildOptions } from '../build/index.js';
import { checkBuild as diagnose, type CheckEvent, type CheckOptions, type CheckReport, type ImageTests } from '../check/index.js';
import type { LoadedConfig } from '../config/load.js';
import { containerPorts, testContainerCommand, testVmCommand, type TestFlags } from './commands/test.js';

export type { CheckReport } from '../check/index.js';

/** The line a check event prints. */
export function checkLine(e: CheckEvent): string {
  switch (e.type) {
    case 'check-start':
      return `check: the ${e.what === 'image' ? 'container' : 'VM'} image`;
    case 'named-dropped':
      return `check: the ${e.what}'s output names ${e.paths.length === 1 ? 'a dropped path' : 'dropped paths'} (${e.paths.join(', ')}): no untrimmed build is needed to find what the trim broke`;
    case 'untrimmed-build':
      return `check: building the same ${e.what} untrimmed to compare`;
    case 'untrimmed-fails':
      return `check: the untrimmed ${e.what} fails too: the trim is not the cause`;
    case 'untrimmed-passes':
      return `check: the untrimmed ${e.what} passes, so the trim dropped something the workload needs; bisecting ${e.dropped} dropped paths`;
    case 'dropped-not-the-cause':
      return `check: the trimmed ${e.what} fails even with every dropped path kept: no dropped file is the cause (compare with jeos build --no-trim)`;
    case 'unverified':
      return e.reason === 'budget'
        ? `check: the bisection reached its limit of rebuilds or time before a keep set passed; nothing is suggested${e.paths.length ? ` (tried: ${e.paths.join(', ')})` : ''}`
        : `check: keeping ${e.paths.join(', ')} did not make the ${e.what} pass; nothing is suggested`;
    case 'needed':
      return `check: the workload needs ${e.path} (a rebuild keeping it passed)`;
  }
}

export async function checkBuild(
  loaded: LoadedConfig,
  outDir: string,
  built: CheckOptions['built'],
  buildOptions: BuildOptions,
  flags: TestFlags,
): Promise<CheckReport> {
  const dir = loaded.dir;
  const w = loaded.config.workload;
  const tests: ImageTests = {
    container: (out) => testContainerCommand(dir, loaded, out, flags),
    vm: (out) => testVmCommand(dir, loaded, out, flags),
    async containerReady(out, timeout) {
      const result = await testContainer({ ociDir: join(out, 'oci'), ports: containerPorts(w.ports), healthcheck: w.healthcheck && { ...w.healthcheck, timeout } });
      return result.ok ? result.timings.ready ?? 0 : undefined;
    },
    async vmReady(out, timeout) {
      // Booted as jeos test --vm boots it; its time to healthy counts from before QEMU starts.
      const started = Date.now();
      const { ok } = await testVmCommand(dir, loaded, out, { ...flags, quiet: true, print: false, timeout });
      return ok ? Date.now() - started : undefined;
    },
  };
  const onEvent = (e: CheckEvent) => !flags.json && !flags.quiet && process.stderr.write(`${checkLine(e)}\n`);
  return diagnose({ loaded, outDir, built, buildOptions, tests, onEvent });
}
