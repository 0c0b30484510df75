// jeos disk add killed with SIGKILL, on small stand-in disks (test/support/disk): the jeos CLI
// itself (src/cli/main.ts) is the process killed, at each of add.ts's crash points
// (JEOS_TEST_CRASH_AT, the process kills itself) and from outside at several moments while it
// copies the disk and writes a 12 MiB initrd. After every kill the disk is either exactly what it was
// (SHA-256) or holds the new version complete; fsck.fat -n finds nothing; jeos disk status reads
// it (the CLI's, after some); the next jeos disk add removes the copy the killed one left and finishes.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { fsckEsp, makeBuild, makeDisk, peKernel, versionFiles, type StandInVersion } from '../../../test/support/disk/esp-disk.js';
import { addVersion, diskStatus, openJeosDisk } from './index.js';
import { stageCopy } from './staged-copy.js';

const missing = ['fsck.vfat', 'dd', 'cp'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install dosfstools coreutils)`;
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const main = join(repoRoot, 'src/cli/main.ts');
const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

// 1.0 and 2.0 (good) on the disk, --keep 2: adding 3.0 removes 1.0, never the good 2.0.
const ON_DISK: StandInVersion[] = [
  { version: '1.0', entry: 'jeos-1.0.conf' },
  { version: '2.0', entry: 'jeos-2.0.conf' },
];
const BIG: StandInVersion = { version: '3.0', initrd: peKernel(12 << 20, 0, 'initrd 3.0') };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The jeos CLI, from source; `kill` decides when to send it SIGKILL from outside. */
function jeos(args: string[], options: { env?: NodeJS.ProcessEnv; kill?: (running: () => boolean) => Promise<void> } = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let running = true;
  const exited = new Promise<Run>((resolve) => child.on('exit', (code, signal) => ((running = false), resolve({ code, signal, stdout, stderr }))));
  if (options.kill) void options.kill(() => running).then(() => running && child.kill('SIGKILL'));
  return exited;
}

/** The disk as it is after a kill: 'before' (byte for byte) or 'added' (3.0 complete, next); anything else fails. jeos disk status reads it (the CLI's when viaCli). */
async function outcome(disk: string, esp: { espOffset: number; espBytes: number }, before: string, scratch: string, viaCli = false): Promise<'before' | 'added'> {
  const f = fsckEsp(disk, esp, scratch);
  assert.equal(f.status, 0, `fsck.fat -n:\n${f.output}`);
  let s: { next: string | null; versions: Array<{ version: string; state: string }>; leftovers: string[] };
  if (viaCli) {
    const status = await jeos(['disk', 'status', disk, '--json']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    s = JSON.parse(status.stdout);
  } else s = await diskStatus(disk);
  if ((await sha(disk)) === before) return 'before';
  assert.deepEqual(s.versions.map((v) => [v.version, v.state]), [['3.0', 'untried'], ['2.0', 'good']], 'not as before, so 3.0 added whole and 1.0 pruned');
  assert.deepEqual(s.leftovers, []);
  const d = await openJeosDisk(disk, { write: false });
  try {
    for (const [v, files] of [['2.0', versionFiles(ON_DISK[1]!)], ['3.0', versionFiles(BIG)]] as const) {
      assert.deepEqual(await d.volume.readFile(`jeos/${v}/linux`), files[1]!.data, `${v}'s kernel whole`);
      assert.deepEqual(await d.volume.readFile(`jeos/${v}/initrd`), files[2]!.data, `${v}'s initrd whole`);
    }
  } finally {
    await d.close();
  }
  return 'added';
}

/** After a kill: the copy it may have left goes with the next add, which finishes. */
async function nextAddFinishes(disk: string, esp: { espOffset: number; espBytes: number }, scratch: string, name: string): Promise<void> {
  const r = await addVersion({ disk, outDir: await makeBuild(join(scratch, `next-${name}`), { version: '4.0' }), keep: 3 });
  assert.equal(r.next, '4.0');
  assert.deepEqual((await readdir(dirname(disk))).filter((n) => n.includes('.jeos-add-')), [], 'no copy left beside the disk');
  assert.equal(fsckEsp(disk, esp, scratch).status, 0);
}

test('the copy is refused for what is not a file: a device node is never replaced', async () => {
  await assert.rejects(stageCopy('/dev/null'), (e: Error & { code?: string; hint?: string }) => e.code === 'E_DISK_NOT_FILE' && /dd/.test(e.hint ?? ''));
});

describe('jeos disk add killed (SIGKILL): the disk is as it was or has the new version whole', { skip }, () => {
  let work: string;
  let source: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-disk-kill-'));
    source = await makeBuild(join(work, 'v3'), BIG);
  });
  after(() => rm(work, { recursive: true, force: true }));

  const fresh = async (name: string) => {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    const disk = join(dir, 'disk.img');
    const esp = await makeDisk(disk, ON_DISK);
    return { dir, disk, esp, before: await sha(disk) };
  };

  const POINTS = ['copied', 'start', 'removed-entry:1.0', 'pruned', 'linux-data', 'linux', 'initrd-data', 'initrd', 'before-entry', 'entry-data', 'entry', 'before-rename', 'renamed'];
  test('at each crash point, from inside: as before until the rename, whole after it', async (t) => {
    for (const point of POINTS) {
      const { dir, disk, esp, before } = await fresh(point.replace(/[:.]/g, '-'));
      const r = await jeos(['disk', 'add', disk, work, '--out', source, '--keep', '2'], { env: { JEOS_TEST_CRASH_AT: `disk-add:${point}` } });
      assert.equal(r.signal, 'SIGKILL', `jeos stopped at ${point}: ${r.stdout}${r.stderr}`);
      const left = (await readdir(dir)).filter((n) => n.includes('.jeos-add-'));
      assert.equal(await outcome(disk, esp, before, work, ['initrd-data', 'renamed'].includes(point)), point === 'renamed' ? 'added' : 'before', point);
      t.diagnostic(`${point}: ${point === 'renamed' ? 'added' : 'as before'}; copy left beside it: ${left.length ? 'yes' : 'no'}`);
      await nextAddFinishes(disk, esp, work, point.replace(/[:.]/g, '-'));
    }
  });

  test('killed from outside while it copies the disk and writes the initrd: as before or whole', async (t) => {
    // When to kill, watching the copy beside the disk: as it appears (cp runs), once its
    // allocated size has grown by 1, 6 and 11 MiB (the initrd is being written into the
    // copy's free clusters, which were holes), and at fixed times after it appeared.
    const triggers: Array<[string, (grown: number, ms: number) => boolean]> = [
      ['as the copy appears', () => true],
      ['1 MiB of the initrd written', (grown) => grown >= 1 << 20],
      ['6 MiB of the initrd written', (grown) => grown >= 6 << 20],
      ['11 MiB of the initrd written', (grown) => grown >= 11 << 20],
      ['150 ms after the copy appeared', (_g, ms) => ms >= 150],
    ];
    const seen: string[] = [];
    for (const [i, [name, when]] of triggers.entries()) {
      const { dir, disk, esp, before } = await fresh(`timed-${i}`);
      const kill = async (running: () => boolean) => {
        const deadline = Date.now() + 60_000;
        let first: { at: number; blocks: number } | undefined;
        while (Date.now() < deadline && running()) {
          const copy = (await readdir(dir)).find((n) => n.includes('.jeos-add-'));
          const st = copy ? await stat(join(dir, copy)).catch(() => undefined) : undefined;
          if (st) {
            first ??= { at: Date.now(), blocks: st.blocks };
            if (when((st.blocks - first.blocks) * 512, Date.now() - first.at)) return;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
      };
      const r = await jeos(['disk', 'add', disk, work, '--out', source, '--keep', '2'], { kill });
      const state = await outcome(disk, esp, before, work, i === 0);
      seen.push(`${name}: ${r.signal === 'SIGKILL' ? 'killed' : `finished first (exit ${r.code})`}, ${state === 'before' ? 'as before' : 'added'}`);
      if (r.signal !== 'SIGKILL') assert.equal(state, 'added', r.stdout + r.stderr);
      await nextAddFinishes(disk, esp, work, `timed-${i}`);
    }
    t.diagnostic(seen.join('; '));
    assert.ok(seen.filter((s) => s.includes('killed')).length >= 3, `most kills land while it works: ${seen.join('; ')}`);
  });
});
