/**
 * All-or-nothing outputs: whatever fails — a writer half-way through its file, a later
 * writer after an earlier one finished, the commit itself, or the process being killed —
 * the previous outputs stay byte-identical.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../errors.js';
import type { ImageTree } from '../tree/index.js';
import { CONTRACT_IMAGE, contractTree, EPOCH, snapshot } from './contract.case.test.js';
import { ociWriter, OutputStaging, prepareOutputs, writeOutputs } from './index.js';
import type { OutputContext, OutputEvent, OutputFormat, OutputWriter } from './types.js';

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

/** The contract tree with different content and 6 MiB of data before `zzz/`, so a failure at `zzz/` comes after real writes. */
function biggerTree(): ImageTree {
  const t = contractTree();
  t.writeFile('etc/hostname', 'changed\n');
  t.writeFile('usr/lib/big', Buffer.alloc(6 << 20, 0x5a));
  return t;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('atomic outputs', () => {
  let work: string;
  let outDir: string;
  let ctx: OutputContext;
  let baseline: Map<string, string>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-staging-'));
    outDir = join(work, 'out');
    ctx = { outDir, sourceDateEpoch: EPOCH, extraFiles: (results) => [{ path: 'build.json', data: JSON.stringify(results) }] };
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    baseline = await snapshot(outDir);
    assert.deepEqual(
      [...baseline.keys()].filter((k) => !k.includes('/')),
      ['build.json', 'image.oci.tar', 'oci', 'rootfs.tar'],
    );
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('a writer failing half-way through its file leaves out/ byte-identical', async () => {
    const tree = biggerTree();
    tree.writeFile('zzz/bad', 'x', { mode: 0o644, uid: 0, gid: 0, mtime: 0, xattrs: new Map([['user.a=b', Buffer.from('v')]]) });
    const events: OutputEvent[] = [];
    await assert.rejects(writeOutputs(tree, CONTRACT_IMAGE, ALL, { ...ctx, onEvent: (e) => events.push(e) }), isCode('E_OUTPUT_XATTR_NAME', /^output tar: .*user\.a=b.*\/zzz\/bad/));
    assert.ok(
      events.some((e) => e.kind === 'output-progress' && e.done >= 4 << 20),
      'megabytes had been written before the failure',
    );
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('a later writer failing after an earlier one finished leaves out/ byte-identical, build.json included', async () => {
    const failsLate: OutputWriter = {
      format: 'oci',
      async write(tree, image, wctx) {
        await ociWriter.write(tree, image, wctx);
        throw new JeosError('E_TEST_LATE', 'failed after writing the whole layout', { hint: 'injected by the test' });
      },
    };
    await assert.rejects(writeOutputs(biggerTree(), CONTRACT_IMAGE, ['tar', failsLate, 'oci-archive'], ctx), isCode('E_TEST_LATE', /^output oci: /));
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('a file-system error inside a writer becomes E_OUTPUT_IO and out/ is untouched', async () => {
    const failing: OutputWriter = {
      format: 'tar',
      async write(_tree, _image, wctx) {
        await writeFile(wctx.staging.path('rootfs.tar'), 'half a tar');
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    };
    await assert.rejects(writeOutputs(biggerTree(), CONTRACT_IMAGE, ['oci', failing], ctx), isCode('E_OUTPUT_IO', /no space left/));
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('a commit failing half-way puts back every output it had replaced', async () => {
    const prepared = await prepareOutputs(biggerTree(), CONTRACT_IMAGE, ALL, ctx);
    assert.deepEqual(await snapshot(outDir).then((s) => [...s.keys()].filter((k) => !k.startsWith('.jeos-')).length), baseline.size);
    const moved: string[] = [];
    await assert.rejects(
      prepared.commit({
        afterMove: (name) => {
          moved.push(name);
          if (name === 'oci') throw new Error('injected failure after moving oci/');
        },
      }),
      isCode('E_OUTPUT_COMMIT', /injected failure/),
    );
    assert.deepEqual(moved, ['build.json', 'image.oci.tar', 'oci']);
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('prepare, then discard: nothing changes; prepare, then commit: everything changes together', async () => {
    const dropped = await prepareOutputs(biggerTree(), CONTRACT_IMAGE, ALL, ctx);
    await dropped.discard();
    assert.deepEqual(await snapshot(outDir), baseline);

    const prepared = await prepareOutputs(biggerTree(), CONTRACT_IMAGE, ALL, ctx);
    assert.deepEqual(await prepared.commit(), ['build.json', 'image.oci.tar', 'oci', 'rootfs.tar']);
    const after = await snapshot(outDir);
    assert.deepEqual([...after.keys()].filter((k) => !k.includes('/')), ['build.json', 'image.oci.tar', 'oci', 'rootfs.tar'], 'no leftovers');
    for (const name of ['build.json', 'image.oci.tar', 'rootfs.tar', 'oci/index.json']) assert.notEqual(after.get(name), baseline.get(name), name);
    const record = JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8')) as Array<{ files: Array<{ path: string; sha256: string }> }>;
    for (const file of record.flatMap((r) => r.files)) assert.equal(after.get(file.path), file.sha256, file.path);

    // Back to the baseline for the tests that follow.
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('a build of fewer formats removes the other jeos outputs, and nothing else', async () => {
    // Outputs of an earlier VM build, and the user's own files.
    await mkdir(join(outDir, 'vm'));
    await writeFile(join(outDir, 'vm', 'vmlinuz'), 'an older kernel');
    await writeFile(join(outDir, 'trim.json'), '{}');
    await writeFile(join(outDir, 'notes.txt'), 'mine');
    await mkdir(join(outDir, 'mine'));
    await writeFile(join(outDir, '.hidden'), 'mine too');
    assert.deepEqual(await writeOutputs(biggerTree(), CONTRACT_IMAGE, ['tar'], ctx).then((r) => r.map((o) => o.path)), ['rootfs.tar']);
    assert.deepEqual((await readdir(outDir)).sort(), ['.hidden', 'build.json', 'mine', 'notes.txt', 'rootfs.tar']);
    const record = JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8')) as Array<{ format: string }>;
    assert.deepEqual(record.map((r) => r.format), ['tar'], 'build.json is the new build\'s');

    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    for (const name of ['notes.txt', 'mine', '.hidden']) await rm(join(outDir, name), { recursive: true });
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('leftovers of dead builds are cleared; an old directory without a journal (its commit had completed) is not restored', async () => {
    const pid = await deadPid();
    const staging = join(outDir, `.jeos-staging-${pid}-0badc0de`);
    await mkdir(staging);
    await writeFile(join(staging, 'rootfs.tar'), 'half a tar');
    // A completed commit that had removed a stale vm/, killed before deleting what it moved aside.
    const old = join(outDir, `.jeos-old-${pid}-0badc0de`);
    await mkdir(join(old, 'vm'), { recursive: true });
    await writeFile(join(old, 'vm', 'vmlinuz'), 'stale');
    await writeFile(join(outDir, `.jeos-lock-${pid}-0badc0de`), 'a lock draft');
    // An earlier process with this very pid (containers reuse pids) left one too.
    await mkdir(join(outDir, `.jeos-staging-${process.pid}-feedf00d`));
    // A build running in another process is left alone.
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const live = `.jeos-staging-${sleeper.pid}-0ddba11`;
    try {
      await mkdir(join(outDir, live));
      const opened = await OutputStaging.open(outDir);
      await opened.discard();
      assert.deepEqual((await readdir(outDir)).sort(), [live, 'build.json', 'image.oci.tar', 'oci', 'rootfs.tar']);
    } finally {
      sleeper.kill('SIGKILL');
    }
    await rm(join(outDir, live), { recursive: true });
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('a build killed while writing (SIGKILL) leaves the previous outputs intact', async () => {
    const script = join(work, 'killed-build.mts');
    const outputs = new URL('./index.ts', import.meta.url).href;
    const fixture = new URL('./contract.case.test.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { writeOutputs } from ${JSON.stringify(outputs)};
import { CONTRACT_IMAGE, contractTree, EPOCH } from ${JSON.stringify(fixture)};
const tree = contractTree();
for (let i = 0; i < 16; i++) tree.writeFile('usr/lib/big' + i, Buffer.alloc(8 << 20, i));
await writeOutputs(tree, CONTRACT_IMAGE, ['tar', 'oci', 'oci-archive'], {
  outDir: ${JSON.stringify(outDir)}, sourceDateEpoch: EPOCH,
  onEvent: (e) => { if (e.kind === 'output-progress') process.stdout.write('progress\\n'); },
});
process.stdout.write('finished\\n');
`,
    );
    const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('progress')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.on('exit', resolve)));
    assert.equal(child.signalCode, 'SIGKILL', `the child was killed mid-build (stdout: ${stdout}, stderr: ${stderr})`);
    const left = (await readdir(outDir)).filter((n) => n.startsWith('.jeos-')).sort();
    assert.equal(left.length, 2, 'the killed build left its lock and its staging directory');
    assert.equal(left[0], '.jeos-lock');
    assert.match(left[1]!, /^\.jeos-staging-\d+-[0-9a-f]+$/);
    const visible = new Map([...(await snapshot(outDir))].filter(([k]) => !k.startsWith('.jeos-')));
    assert.deepEqual(visible, baseline);
    // The next build takes the dead build's lock over and clears its staging.
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('two commits racing in one process: out/ ends as one build whole (the other is refused, or comes after)', async () => {
    const a = await prepareOutputs(biggerTree(), CONTRACT_IMAGE, ALL, ctx);
    const b = await prepareOutputs(contractTree(), CONTRACT_IMAGE, ['tar'], ctx);
    const [ra, rb] = await Promise.allSettled([a.commit(), b.commit()]);
    for (const r of [ra, rb]) if (r.status === 'rejected') isCode('E_OUTPUT_BUSY')(r.reason);
    assert.ok(ra.status === 'fulfilled' || rb.status === 'fulfilled');
    const after = await snapshot(outDir);
    const record = JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8')) as Array<{ path: string; files: Array<{ path: string; sha256: string }> }>;
    const files = record.flatMap((r) => r.files);
    assert.deepEqual([...after.keys()].filter((k) => after.get(k) !== 'dir' && k !== 'build.json'), files.map((f) => f.path).sort(), 'every file is the recorded build\'s');
    for (const file of files) assert.equal(after.get(file.path), file.sha256, file.path);

    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, ctx);
    assert.deepEqual(await snapshot(outDir), baseline);
  });

  test('durable mode writes the same bytes', async () => {
    const dir = join(work, 'durable');
    await writeOutputs(contractTree(), CONTRACT_IMAGE, ALL, { ...ctx, outDir: dir, durable: true });
    assert.deepEqual(await snapshot(dir), baseline);
  });

  test('an unknown format, a bad SOURCE_DATE_EPOCH or an output directory that cannot exist is refused', async () => {
    const never = { ...ctx, outDir: join(work, 'never') };
    await assert.rejects(writeOutputs(contractTree(), CONTRACT_IMAGE, ['qcow2' as OutputFormat], never), isCode('E_OUTPUT_FORMAT', /qcow2/));
    for (const sourceDateEpoch of [Number.NaN, -1, 1.5]) {
      await assert.rejects(writeOutputs(contractTree(), CONTRACT_IMAGE, ['tar'], { ...never, sourceDateEpoch }), isCode('E_OUTPUT_EPOCH'));
    }
    await assert.rejects(readdir(join(work, 'never')), { code: 'ENOENT' });
    await writeFile(join(work, 'a-file'), '');
    await assert.rejects(writeOutputs(contractTree(), CONTRACT_IMAGE, ['tar'], { ...ctx, outDir: join(work, 'a-file', 'out') }), isCode('E_OUTPUT_DIR', /a-file/));
  });
});
