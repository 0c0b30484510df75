/**
 * One build per output directory: a second one (another process) is refused with a coded
 * error naming the first, never interleaved; a dead build's lock is taken over; the lock
 * is re-entrant inside one process; readers wait for a live commit and roll back a dead one.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../errors.js';
import { CONTRACT_IMAGE, contractTree, EPOCH, snapshot } from './contract.case.test.js';
import { lockOutputDir, recoverOutputDir, writeOutputs } from './index.js';
import type { OutputContext, OutputFormat } from './types.js';

const ALL: OutputFormat[] = ['tar', 'oci', 'oci-archive'];

function isCode(code: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected JeosError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    return true;
  };
}

/** A child process that takes the lock of outDir and holds it until killed. */
async function lockHolder(outDir: string): Promise<ChildProcess> {
  const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
  const code = `import { lockOutputDir } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
await lockOutputDir(${JSON.stringify(outDir)});
process.stdout.write('locked\\n');
setInterval(() => {}, 60000);
`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const seen = (d: Buffer) => {
      output += d.toString();
      if (output.includes('locked')) resolve();
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('exit', () => reject(new Error(`the lock holder exited: ${output}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** This process's start time since boot, as /proc says (what a lock or journal records). */
function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

describe('the output directory lock', () => {
  let work: string;
  let outDir: string;
  let ctx: OutputContext;
  let baseline: Map<string, string>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-lock-'));
    outDir = join(work, 'out');
    ctx = { outDir, sourceDateEpoch: EPOCH, extraFiles: (r) => [{ path: 'build.json', data: JSON.stringify(r) }] };
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    baseline = await snapshot(outDir);
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('a second build into the same out/ is refused while the first runs, and proceeds once it died', async () => {
    const holder = await lockHolder(outDir);
    try {
      const named = new RegExp(`${outDir.replace(/[/.]/g, '\\$&')} is in use by another jeos build \\(pid ${holder.pid} `);
      await assert.rejects(lockOutputDir(outDir), isCode('E_OUTPUT_LOCKED', named));
      const tree = contractTree();
      tree.writeFile('etc/hostname', 'second build\n');
      await assert.rejects(writeOutputs(tree, CONTRACT_IMAGE, ['tar'], ctx), isCode('E_OUTPUT_LOCKED', named));
      const visible = new Map([...(await snapshot(outDir))].filter(([k]) => k !== '.jeos-lock'));
      assert.deepEqual(visible, baseline, 'the refused build wrote nothing, not even a staging directory');
    } finally {
      await kill(holder);
    }
    // The holder died with its lock in place: the next build takes it over.
    assert.ok((await readdir(outDir)).includes('.jeos-lock'));
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    assert.deepEqual(await snapshot(outDir), baseline, 'no lock left behind');
  });

  test('re-entrant in one process: a build holding the lock writes its outputs; the lock goes with the last release', async () => {
    const lock = await lockOutputDir(outDir);
    const again = await lockOutputDir(outDir);
    const record = JSON.parse(await readFile(join(outDir, '.jeos-lock'), 'utf8')) as { pid: number; since: string };
    assert.equal(record.pid, process.pid);
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    assert.ok((await readdir(outDir)).includes('.jeos-lock'), 'the outputs did not release the build\'s lock');
    await again.release();
    await again.release();
    assert.ok((await readdir(outDir)).includes('.jeos-lock'), 'a release twice counts once');
    await lock.release();
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('a lock naming this pid that this process does not hold (an earlier process with the same pid) is taken over', async () => {
    const stale = { pid: process.pid, start: startTicks(process.pid) - 1, host: 'x', since: '2020-01-01T00:00:00Z', token: 'old' };
    await writeFile(join(outDir, '.jeos-lock'), JSON.stringify(stale));
    const lock = await lockOutputDir(outDir);
    assert.notEqual(JSON.parse(await readFile(join(outDir, '.jeos-lock'), 'utf8')).token, 'old');
    await lock.release();
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('a reader waits for a live commit (E_OUTPUT_BUSY when it takes too long) and rolls it back once its process died', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((resolve) => sleeper.on('spawn', resolve));
    const pid = sleeper.pid!;
    // The state of a commit that moved oci/ aside and nothing in yet.
    const staging = `.jeos-staging-${pid}-abc123`;
    const old = `.jeos-old-${pid}-abc123`;
    await mkdir(join(outDir, staging));
    await writeFile(join(outDir, staging, 'rootfs.tar'), 'new');
    await mkdir(join(outDir, old));
    const { rename } = await import('node:fs/promises');
    await rename(join(outDir, 'oci'), join(outDir, old, 'oci'));
    const journal = { version: 1, owner: { pid, start: startTicks(pid), host: 'here' }, staging, old, incoming: ['rootfs.tar'], outgoing: ['oci', 'rootfs.tar'] };
    await writeFile(join(outDir, '.jeos-commit.json'), JSON.stringify(journal));
    try {
      await assert.rejects(recoverOutputDir(outDir, { waitMs: 300 }), isCode('E_OUTPUT_BUSY', new RegExp(`pid ${pid} `)));
      assert.ok(!(await readdir(outDir)).includes('oci'), 'a live commit is not touched');
    } finally {
      await kill(sleeper);
    }
    await recoverOutputDir(outDir);
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('readers leave a missing out/ to the caller', async () => {
    await recoverOutputDir(join(work, 'never-built'));
    await assert.rejects(readdir(join(work, 'never-built')), { code: 'ENOENT' });
  });
});
