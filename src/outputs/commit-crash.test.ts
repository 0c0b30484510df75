/**
 * A build killed (SIGKILL) at every move of its commit — a real child process, stopped at
 * an exact point by JEOS_TEST_CRASH_AT — leaves out/ holding the previous build, complete
 * and byte-identical, once jeos next looks at it: as a reader (jeos test), as the next
 * build, or as a build taking the lock early.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { CONTRACT_IMAGE, contractTree, EPOCH, snapshot } from './contract.case.test.js';
import { lockOutputDir, OutputStaging, recoverOutputDir, writeOutputs } from './index.js';
import type { OutputContext, OutputFormat } from './types.js';

const ALL: OutputFormat[] = ['tar', 'oci', 'oci-archive'];
/**
 * The child builds tar only over tar, oci and oci-archive: moves are build.json aside and
 * in (2), image.oci.tar aside (1), oci aside (1), rootfs.tar aside and in (2).
 */
const MOVES = 6;

async function runChild(script: string, env: Record<string, string>): Promise<{ signal: string | null; code: number | null; output: string }> {
  const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code, signal] = (await new Promise((resolve) => child.on('exit', (...a) => resolve(a)))) as [number | null, string | null];
  return { code, signal, output };
}

describe('a crash during the final move into out/', () => {
  let work: string;
  let outDir: string;
  let script: string;
  let baseline: Map<string, string>;
  const ctx = (): OutputContext => ({ outDir, sourceDateEpoch: EPOCH, extraFiles: (r) => [{ path: 'build.json', data: JSON.stringify(r) }] });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-crash-'));
    outDir = join(work, 'out');
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx());
    await writeFile(join(outDir, 'notes.txt'), 'the user\'s own file');
    baseline = await snapshot(outDir);
    script = join(work, 'commit.mts');
    await writeFile(
      script,
      `import { writeOutputs } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
import { CONTRACT_IMAGE, contractTree, EPOCH } from ${JSON.stringify(new URL('./contract.case.test.ts', import.meta.url).href)};
const tree = contractTree();
tree.writeFile('etc/hostname', 'the new build\\n');
await writeOutputs(tree, CONTRACT_IMAGE, ['tar'], {
  outDir: ${JSON.stringify(outDir)}, sourceDateEpoch: EPOCH, durable: process.env.DURABLE === '1',
  extraFiles: (r) => [{ path: 'build.json', data: JSON.stringify(r) }],
});
process.stdout.write('committed\\n');
`,
    );
  });
  after(() => rm(work, { recursive: true, force: true }));

  const recoveries: Array<[string, () => Promise<void>]> = [
    ['a reader (jeos test, jeos run)', () => recoverOutputDir(outDir)],
    ['the next build', async () => (await OutputStaging.open(outDir)).discard()],
    ['a build taking the lock early', async () => (await lockOutputDir(outDir)).release()],
  ];

  for (let n = 0; n <= MOVES; n++) {
    const [who, recover] = recoveries[n % recoveries.length]!;
    test(`killed after move ${n} of ${MOVES}${n % 2 ? ' (durable)' : ''}: ${who} finds the previous build whole`, async () => {
      const child = await runChild(script, { JEOS_TEST_CRASH_AT: `commit:${n}`, DURABLE: String(n % 2) });
      assert.equal(child.signal, 'SIGKILL', `the child died at the crash point: ${child.output}`);
      assert.ok(!child.output.includes('committed'));
      const left = await readdir(outDir);
      assert.ok(left.includes('.jeos-commit.json'), 'the journal marks the interrupted commit');
      if (n >= 2 && n < MOVES) {
        // Mid-commit out/ is a mix of two builds: what recovery is for.
        assert.notDeepEqual(new Map([...(await snapshot(outDir))].filter(([k]) => !k.startsWith('.jeos-'))), baseline);
      }
      await recover();
      assert.deepEqual(await snapshot(outDir), baseline);
    });
  }

  const newBuild = async () => {
    assert.deepEqual((await readdir(outDir)).sort(), ['build.json', 'notes.txt', 'rootfs.tar']);
    assert.match(await readFile(join(outDir, 'build.json'), 'utf8'), /"format":"tar"/);
    assert.notEqual((await snapshot(outDir)).get('rootfs.tar'), baseline.get('rootfs.tar'));
  };

  test('killed once the journal is deleted: the new build stands, and what it moved aside (a stale oci/) does not come back', async () => {
    const child = await runChild(script, { JEOS_TEST_CRASH_AT: `commit:${MOVES + 1}` });
    assert.equal(child.signal, 'SIGKILL', child.output);
    const left = (await readdir(outDir)).filter((n) => n.startsWith('.jeos-')).sort();
    assert.deepEqual(left.map((n) => n.replace(/-\d+-[0-9a-f]+$/, '')), ['.jeos-lock', '.jeos-old', '.jeos-staging']);
    await recoverOutputDir(outDir);
    assert.ok((await readdir(outDir)).some((n) => n.startsWith('.jeos-old-')), 'a reader needs no clean-up');
    await (await lockOutputDir(outDir)).release();
    await newBuild();
  });

  test('not killed: the new build replaces the old one whole, stale formats gone, the user\'s file kept', async () => {
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx());
    assert.deepEqual(await snapshot(outDir), baseline);
    const child = await runChild(script, { JEOS_TEST_CRASH_AT: `commit:${MOVES + 2}` });
    assert.equal(child.code, 0, child.output);
    await newBuild();
  });
});
