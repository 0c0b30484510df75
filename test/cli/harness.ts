// Runs the compiled CLI (dist/, from `npm run build`) against a signed loopback repository.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebRecipe } from '../fixtures/debs.js';
import { buildSignedRepo, type SignedRepo, type SignedRepoOptions } from '../fixtures/signed-repo.js';
import { serveDirectory, type Served } from '../fixtures/serve.js';

export const root = new URL('../../', import.meta.url).pathname;
export const cli = join(root, 'dist/jeos.mjs');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Harness {
  repo: SignedRepo;
  served: Served;
  /** A scratch directory (cwd and HOME of every run). */
  work: string;
  env: NodeJS.ProcessEnv;
  jeos(...args: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

/** trixie, an empty trixie-updates and trixie-security (jeos's default suites), valid for a day. */
export function trixieRepo(main: DebRecipe[], security: DebRecipe[]): SignedRepoOptions {
  const validUntil = new Date(Date.now() + 86400_000);
  return {
    suites: [
      { suite: 'trixie', validUntil, packages: main },
      { suite: 'trixie-updates', validUntil, packages: [] },
      { suite: 'trixie-security', validUntil, packages: security },
    ],
  };
}

/**
 * Run a program and collect its output. Asynchronous on purpose: a loopback server
 * running in the test's own process must keep answering while the program runs.
 */
export function runProgram(argv: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function startHarness(repoOptions: SignedRepoOptions): Promise<Harness> {
  assert.ok(existsSync(cli), 'dist/jeos.mjs is missing: run npm run build (npm test does)');
  const repo = await buildSignedRepo(repoOptions);
  const served = await serveDirectory(repo.root);
  const work = await mkdtemp(join(tmpdir(), 'jeos-cli-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    JEOS_MIRROR: served.url,
    JEOS_SECURITY_MIRROR: served.url,
    JEOS_KEYRING: repo.keyring,
    JEOS_CACHE_DIR: join(work, 'cache'),
    NO_COLOR: '1',
  };
  const jeos = (...args: string[]) => runProgram([process.execPath, cli, ...args], { env, cwd: work });
  return {
    repo,
    served,
    work,
    env,
    jeos,
    async close() {
      await served.close();
      await repo.cleanup();
      await rm(work, { recursive: true, force: true });
    },
  };
}
