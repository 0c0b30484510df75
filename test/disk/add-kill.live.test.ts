// Live tier, jeos disk add killed: the nginx example built as 1.0 and 2.0 from the live archive;
// `jeos disk add` of 2.0 onto a fresh copy of 1.0's disk, the jeos process killed with SIGKILL
// (JEOS_TEST_CRASH_AT, see src/lifecycle/disk/crash.ts) while it writes 2.0's initrd into its copy
// of the disk, and right after it renamed the copy over the disk; and once from outside, timed by
// the copy's growth. Each kill leaves the disk byte for byte as it was, or with 2.0 whole; the
// ESP passes fsck.fat -n (a booted disk's dirty bit aside); and, after the first two, the disk boots under OVMF (TCG) and the
// version it holds is marked good; the second boot is on the disk the first left, and the journal
// of both boots is then read from its /var partition on the host (debugfs, journalctl -D). The kill itself is tested at every point on stand-in disks
// (src/lifecycle/disk/add-kill.test.ts); here the disks and the boots are real. Two builds and
// two boots, one at a time: about three minutes here with a warm cache.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { skippedEarlier, test } from '../live.js';
import { root, runProgram } from '../cli/harness.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-add-kill-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const needs = ['qemu-system-x86_64', 'fsck.fat', 'dd'];
const missing = needs.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const ovmf = spawnSync('test', ['-f', '/usr/share/OVMF/OVMF_CODE_4M.fd']).status === 0;
const skip = (missing.length > 0 || !ovmf) && `missing ${[...missing, ...(ovmf ? [] : ['OVMF'])].join(', ')} (apt-get install qemu-system-x86 dosfstools ovmf)`;
// From source, as the killed process is: this file tests the code in the tree, not dist/ as last built.
const jeos = (...args: string[]) => runProgram([process.execPath, '--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, env: { ...process.env, JEOS_CACHE_DIR: cacheDir, NO_COLOR: '1' } });
const project = (v: string) => join(work, `v${v}`);
const fleetDir = join(work, 'fleet');
const fleet = join(fleetDir, 'disk.img');
const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

/** jeos disk add of 2.0 onto the fleet disk, from source, killed as `crashAt` says or when `killWhen` resolves. */
function addKilled(options: { crashAt?: string; killWhen?: (running: () => boolean) => Promise<void> }): Promise<{ signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'disk', 'add', fleet, project('2')], {
    cwd: root,
    env: { ...process.env, JEOS_CACHE_DIR: cacheDir, NO_COLOR: '1', ...(options.crashAt ? { JEOS_TEST_CRASH_AT: `disk-add:${options.crashAt}` } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let running = true;
  const exited = new Promise<{ signal: NodeJS.Signals | null; output: string }>((resolve) => child.on('exit', (_code, signal) => ((running = false), resolve({ signal, output }))));
  if (options.killWhen) void options.killWhen(() => running).then(() => running && child.kill('SIGKILL'));
  return exited;
}

/** fsck.fat -n on the ESP, read out of the fleet disk: nothing to fix but a booted disk's dirty bit. */
async function fsckEsp(): Promise<void> {
  const record = JSON.parse(await readFile(join(project('1'), 'out/build.json'), 'utf8'));
  const esp = record.outputs.find((o: { format: string }) => o.format === 'disk').disk.esp as { first: number; last: number };
  const part = join(work, 'esp.img');
  const dd = spawnSync('dd', [`if=${fleet}`, `of=${part}`, 'bs=512', `skip=${esp.first}`, `count=${esp.last - esp.first + 1}`, 'status=none']);
  assert.equal(dd.status, 0, String(dd.stderr));
  const r = spawnSync('fsck.fat', ['-n', part], { encoding: 'utf8' });
  await rm(part, { force: true });
  const out = `${r.stdout}${r.stderr}`;
  // A disk that has booted carries the dirty bit Linux sets on a mounted FAT (QEMU is stopped, not shut
  // down): one byte of the boot sector (offset 65) that its backup lacks. Anything else is damage.
  const complaints = out
    .split('\n')
    .filter((l) => !/dirty bit|not properly unmounted|Automatically removing|Leaving filesystem unchanged|differences between boot sector and its backup|mostly harmless\. Differences|Not automatically fixing this|^\s*65:01\/00$/i.test(l))
    .filter((l) => !/^fsck\.fat \d|^\S+: \d+ files, \d+\/\d+ clusters$|^\s*$/.test(l));
  assert.ok((r.status === 0 || r.status === 1) && complaints.length === 0, `fsck.fat -n: ${out}`);
}

const status = async () => {
  const r = await jeos('disk', 'status', fleet, '--json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout) as { next: string; versions: Array<{ version: string; entry: string; state: string }> };
};

/** A fresh copy of 1.0's disk as the fleet; its SHA-256. */
async function freshFleet(): Promise<string> {
  await rm(fleetDir, { recursive: true, force: true });
  await mkdir(fleetDir);
  await copyFile(join(project('1'), 'out/disk.img'), fleet);
  return sha(fleet);
}

async function bootsGood(version: string) {
  const r = await jeos('test', project('1'), '--disk', '--image', fleet, '--writable', '--json', '--timeout', '300');
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const result = JSON.parse(r.stdout);
  assert.deepEqual([result.ok, result.version, result.rolledBack], [true, version, false]);
  const s = await status();
  assert.deepEqual(s.versions.find((v) => v.version === version)?.state, 'good', `${version} marked good`);
  return result;
}

describe('jeos disk add killed: the disk is as it was or has the new version, and boots a good version', { skip }, () => {
  before(async () => {
    for (const v of ['1', '2']) {
      await cp(join(root, 'examples/nginx'), project(v), { recursive: true });
      await rm(join(project(v), 'jeos.lock'), { force: true });
      await rm(join(project(v), 'out'), { recursive: true, force: true });
      const yaml = (await readFile(join(project(v), 'jeos.yaml'), 'utf8')).replace(/^outputs:.*$/m, `outputs: [vm, disk]\nversion: "${v}.0"`);
      await writeFile(join(project(v), 'jeos.yaml'), yaml);
    }
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('builds 1.0 and 2.0', async () => {
    for (const v of ['1', '2']) {
      const built = await jeos('build', project(v), '--quiet');
      assert.equal(built.code, 0, built.stderr + built.stdout);
    }
  });

  test('killed while writing 2.0\'s initrd: the disk is as it was, and 1.0 boots and is marked good', async (t) => {
    if (skippedEarlier(t)) return;
    const before = await freshFleet();
    const r = await addKilled({ crashAt: 'initrd-data' });
    assert.equal(r.signal, 'SIGKILL', r.output);
    assert.equal(await sha(fleet), before, 'byte for byte as before');
    await fsckEsp();
    assert.deepEqual((await status()).versions.map((v) => v.version), ['1.0']);
    const result = await bootsGood('1.0');
    t.diagnostic(`1.0 ready ${result.timings.ready} ms after power-on, ${result.boots} boot(s)`);
  });

  test('killed right after the copy was renamed over the disk: 2.0 is whole, boots next and is marked good; both boots\' journals are on /var', async (t) => {
    if (skippedEarlier(t)) return;
    // The disk 1.0 just booted from (blessed), so /var holds that boot's journal.
    const r = await addKilled({ crashAt: 'renamed' });
    assert.equal(r.signal, 'SIGKILL', r.output);
    await fsckEsp();
    const s = await status();
    assert.deepEqual(s.versions.map((v) => [v.version, v.entry]), [['2.0', 'jeos-2.0+3.conf'], ['1.0', 'jeos-1.0.conf']]);
    assert.deepEqual(await readdir(fleetDir), ['disk.img'], 'no copy left beside it');
    const result = await bootsGood('2.0');
    t.diagnostic(`2.0 ready ${result.timings.ready} ms after power-on, ${result.boots} boot(s)`);
    // Post-mortem from the host: the journal of each boot, read off the stopped disk's /var partition.
    if (spawnSync('sh', ['-c', 'command -v debugfs && command -v journalctl']).status !== 0) return t.diagnostic('no debugfs or journalctl here: the journal is not read');
    const record = JSON.parse(await readFile(join(project('1'), 'out/build.json'), 'utf8'));
    const varFirst = record.outputs.find((o: { format: string }) => o.format === 'disk').disk.var.first as number;
    const out = join(work, 'journal');
    await mkdir(out);
    spawnSync('debugfs', ['-R', `rdump /upper/log/journal ${out}`, `${fleet}?offset=${varFirst * 512}`]);
    const boots = spawnSync('journalctl', ['-D', join(out, 'journal'), '--list-boots', '--no-pager'], { encoding: 'utf8' }).stdout.trim().split('\n').slice(1);
    assert.ok(boots.length >= 2, `two boots in the journal on /var: ${boots.join('; ')}`);
    const lines = spawnSync('journalctl', ['-D', join(out, 'journal'), '--no-pager', '-o', 'cat'], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
    for (const v of ['1.0', '2.0']) assert.match(lines, new RegExp(`jeos\\.version=${v.replace('.', '\\.')}`), `${v}'s boot is in it`);
    assert.match(lines, /jeos-health: healthy/);
  });

  test('killed from outside while it writes into its copy: as before or with 2.0 whole, fsck.fat clean; the next add finishes', async (t) => {
    if (skippedEarlier(t)) return;
    const before = await freshFleet();
    // Kill once the copy's allocated size has grown by 4 MiB: the initrd is going into clusters that were holes.
    const killWhen = async (running: () => boolean) => {
      let first: number | undefined;
      for (const deadline = Date.now() + 120_000; Date.now() < deadline && running(); await new Promise((r) => setTimeout(r, 1))) {
        const copy = (await readdir(fleetDir)).find((n) => n.includes('.jeos-add-'));
        const st = copy ? await stat(join(fleetDir, copy)).catch(() => undefined) : undefined;
        if (!st) continue;
        first ??= st.blocks;
        if ((st.blocks - first) * 512 >= 4 << 20) return;
      }
    };
    const r = await addKilled({ killWhen });
    const same = (await sha(fleet)) === before;
    t.diagnostic(`${r.signal === 'SIGKILL' ? 'killed' : 'finished first'}; the disk ${same ? 'as before' : 'with 2.0'}`);
    await fsckEsp();
    assert.deepEqual((await status()).versions.map((v) => v.version), same ? ['1.0'] : ['2.0', '1.0']);
    if (!same) assert.notEqual(r.signal, 'SIGKILL', 'changed only by a finished add');
    const again = await jeos('disk', 'add', fleet, project('2'), '--json');
    if (same) {
      assert.equal(again.code, 0, again.stderr + again.stdout);
      assert.equal(JSON.parse(again.stdout).next, '2.0');
    }
    await fsckEsp();
    assert.deepEqual(await readdir(fleetDir), ['disk.img'], 'the copy the kill left is gone');
  });
});
