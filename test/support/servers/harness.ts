// The live server suites of issue 24 (test/init/servers*.live.test.ts): jeos init --from PKG in a
// shared work directory, jeos build, jeos test --container and --vm, each timed. Every suite file
// makes its own harness (its own work directory and, unless JEOS_CACHE_DIR is set, cache).
// When JEOS_SERVER_FIGURES names a file, each step's figures are appended to it as JSON lines
// (bench/servers.ts reads them for the table of issue 24).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkedRun } from '../../live.js';

export const hasPodman = spawnSync('podman', ['--version']).status === 0;
export const hasQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0;
/** node:test options for a test that boots a VM. */
export const vmOnly = { skip: hasQemu ? false : 'qemu-system-x86_64 is not installed' };

export interface ServerHarness {
  work: string;
  jeos(...args: string[]): ReturnType<typeof checkedRun>;
  /** jeos init PKG --from PKG --outputs tar,oci,vm --json, in the work directory (project PKG). */
  init(pkg: string, ...extra: string[]): Promise<Record<string, any>>;
  /** jeos build --format oci, then jeos test --container; the seconds each took and the check's detail. */
  buildAndTest(dir: string): Promise<{ build: number; test: number; detail?: string }>;
  /** jeos build --format vm, then jeos test --vm; the test's JSON and the build's output. */
  buildAndTestVm(dir: string): Promise<Record<string, any>>;
  cleanup(): Promise<void>;
}

async function figure(record: Record<string, unknown>): Promise<void> {
  const file = process.env.JEOS_SERVER_FIGURES;
  if (file) await appendFile(file, `${JSON.stringify(record)}\n`);
}

export async function serverHarness(): Promise<ServerHarness> {
  const work = await mkdtemp(join(tmpdir(), 'jeos-servers-'));
  const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
  const jeos = (...args: string[]) => checkedRun(args, { cwd: work, env: { ...process.env, JEOS_CACHE_DIR: cacheDir, NO_COLOR: '1' } });
  const seconds = (t0: number) => (Date.now() - t0) / 1000;

  return {
    work,
    jeos,
    async init(pkg, ...extra) {
      const t0 = Date.now();
      const r = await jeos('init', pkg, '--from', pkg, '--outputs', 'tar,oci,vm', '--json', ...extra);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout);
      await figure({ server: pkg, step: 'init', seconds: seconds(t0), packages: out.packages?.length });
      return out;
    },
    async buildAndTest(dir) {
      const t0 = Date.now();
      const built = await jeos('build', dir, '--frozen', '--format', 'oci', '-q');
      assert.equal(built.code, 0, built.stderr + built.stdout);
      const build = seconds(t0);
      await figure({ server: dir, step: 'build', seconds: build });
      if (!hasPodman) return { build, test: 0 };
      const t1 = Date.now();
      const tested = await jeos('test', dir, '--container', '--json');
      assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
      const r = JSON.parse(tested.stdout);
      const times = { build, test: seconds(t1), detail: r.healthcheck.detail as string };
      await figure({ server: dir, step: 'container', seconds: times.test, readyMs: r.timings?.ready, detail: times.detail });
      console.log(`# ${dir}: build ${build.toFixed(1)} s, jeos test --container ${times.test.toFixed(1)} s (${times.detail})`);
      return times;
    },
    async buildAndTestVm(dir) {
      const t0 = Date.now();
      const built = await jeos('build', dir, '--frozen', '--format', 'vm');
      assert.equal(built.code, 0, built.stderr + built.stdout);
      const t1 = Date.now();
      const tested = await jeos('test', dir, '--vm', '--json');
      assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
      const r = JSON.parse(tested.stdout);
      await figure({ server: dir, step: 'vm', seconds: seconds(t1), buildSeconds: (t1 - t0) / 1000, readyMs: r.timings?.ready, memoryMiB: r.memoryMiB, detail: r.healthcheck.detail });
      console.log(`# ${dir} VM: build ${((t1 - t0) / 1000).toFixed(1)} s, jeos test --vm ${seconds(t1).toFixed(1)} s, ${r.memoryMiB} MiB, ready ${r.timings.ready} ms (${r.healthcheck.detail})`);
      return { ...r, buildOutput: built.stdout };
    },
    async cleanup() {
      await rm(work, { recursive: true, force: true });
    },
  };
}
