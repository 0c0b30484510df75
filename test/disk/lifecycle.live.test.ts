// Live tier, boot assessment end to end: the nginx example built three times from the live
// archive (1.0, 2.0, and 3.0 whose health check asks for a page nginx does not have, with a
// 10 s timeout), booted under OVMF (TCG) with the disk writable so systemd-boot's counting and
// systemd-bless-boot's renames stay on it. 1.0 is blessed; jeos disk add 2.0 boots and is
// blessed; 3.0 fails three tries and 2.0 comes back by itself; jeos disk status shows 3.0 bad;
// what nginx wrote under /var (its access log, on the jeos-var partition) is still there, and so
// is the journal of 3.0's three failed tries (read on the host with debugfs and journalctl -D).
// Then 4.0, which hangs: its workload's first step (with dash for /bin/sh) crashes the kernel (sysrq c) and its
// vm.cmdline says panic=0, so the kernel stops there instead of rebooting, and only the
// hardware watchdog systemd armed (QEMU's i6300esb) can reset it; three tries, 2.0 again.
// One boot at a time; the whole file takes about six minutes here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { root } from '../cli/harness.js';
import { consoleStages } from '../support/disk/console-file.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-lifecycle-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const needs = ['qemu-system-x86_64', 'debugfs'];
const missing = needs.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const ovmf = spawnSync('test', ['-f', '/usr/share/OVMF/OVMF_CODE_4M.fd']).status === 0;
const skip = (missing.length > 0 || !ovmf) && `missing ${[...missing, ...(ovmf ? [] : ['OVMF'])].join(', ')} (apt-get install qemu-system-x86 e2fsprogs ovmf)`;
const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);
const fleet = join(work, 'fleet.img');
const project = (v: string) => join(work, `v${v}`);

async function varFile(path: string): Promise<string> {
  const record = JSON.parse(await readFile(join(project('1'), 'out/build.json'), 'utf8'));
  const disk = record.outputs.find((o: { format: string }) => o.format === 'disk').disk;
  return spawnSync('debugfs', ['-R', `cat /upper/${path}`, `${fleet}?offset=${disk.var.first * 512}`], { encoding: 'utf8' }).stdout;
}

/** Each boot in the journal on the fleet's /var partition (debugfs, journalctl -D): its version and its lines; undefined without journalctl. */
function journalBoots(): Array<{ version: string | undefined; text: string }> | undefined {
  if (spawnSync('sh', ['-c', 'command -v journalctl']).status !== 0) return undefined;
  const record = JSON.parse(readFileSync(join(project('1'), 'out/build.json'), 'utf8'));
  const varFirst = record.outputs.find((o: { format: string }) => o.format === 'disk').disk.var.first as number;
  const out = join(work, `journal-${Date.now()}`);
  mkdirSync(out);
  spawnSync('debugfs', ['-R', `rdump /upper/log/journal ${out}`, `${fleet}?offset=${varFirst * 512}`]);
  const dir = join(out, 'journal');
  const ids = spawnSync('journalctl', ['-D', dir, '--list-boots', '--no-pager', '-o', 'json'], { encoding: 'utf8' }).stdout;
  return (JSON.parse(ids || '[]') as Array<{ boot_id: string }>).map(({ boot_id }) => {
    const text = spawnSync('journalctl', ['-D', dir, '-b', boot_id, '--no-pager', '-o', 'cat'], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
    return { version: /jeos\.version=(\S+)/.exec(text)?.[1], text };
  });
}

async function bootUntil(version: string | undefined) {
  const consoleFile = join(work, 'console.log');
  const r = await jeos('test', project('2'), '--disk', '--image', fleet, '--writable', '--json', '--timeout', '400', ...(version ? ['--until-version', version] : []), '--console', consoleFile);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}\n${await consoleStages(consoleFile)}`);
  return JSON.parse(r.stdout);
}

const status = async () => JSON.parse((await jeos('disk', 'status', fleet, '--json')).stdout);

describe('versions on a disk: blessed, added, rolled back by themselves', { skip }, () => {
  before(async () => {
    for (const v of ['1', '2', '3', '4']) {
      await cp(join(root, 'examples/nginx'), project(v), { recursive: true });
      await rm(join(project(v), 'jeos.lock'), { force: true });
      await rm(join(project(v), 'out'), { recursive: true, force: true });
      let yaml = (await readFile(join(project(v), 'jeos.yaml'), 'utf8')).replace(/^outputs:.*$/m, `outputs: [vm, disk]\nversion: "${v}.0"`);
      if (v === '3') yaml = yaml.replace(/http: http:\/\/localhost:80\/\n/, 'http: http://localhost:80/missing\n    timeout: 10\n');
      // A hang, not a failure: the kernel halts (panic=0 overrides the image's panic=-1) while systemd's watchdog is armed.
      if (v === '4') {
        yaml = yaml.replace('packages: [nginx]', 'packages: [nginx, dash]');
        yaml = yaml.replace(/^ {2}command: /m, '  pre:\n    - [/bin/sh, -c, "echo c > /proc/sysrq-trigger"]\n  command: ') + 'vm:\n  cmdline: panic=0\n';
      }
      await writeFile(join(project(v), 'jeos.yaml'), yaml);
    }
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('builds 1.0, 2.0, 3.0 and 4.0', async () => {
    for (const v of ['1', '2', '3', '4']) {
      const built = await jeos('build', project(v), '--quiet');
      assert.equal(built.code, 0, built.stderr + built.stdout);
    }
    await copyFile(join(project('1'), 'out/disk.img'), fleet);
  });

  test('1.0 boots and is marked good (its entry loses its counter)', async (t) => {
    if (skippedEarlier(t)) return;
    const r = await bootUntil('1.0');
    assert.deepEqual([r.version, r.boots, r.rolledBack], ['1.0', 1, false]);
    const s = await status();
    assert.deepEqual(s.versions.map((v: { version: string; entry: string; state: string }) => [v.version, v.entry, v.state]), [['1.0', 'jeos-1.0.conf', 'good']]);
  });

  test('jeos disk add 2.0: it boots next and is marked good', async (t) => {
    if (skippedEarlier(t)) return;
    const added = await jeos('disk', 'add', fleet, project('2'), '--json');
    assert.equal(added.code, 0, added.stderr + added.stdout);
    assert.equal(JSON.parse(added.stdout).next, '2.0');
    const r = await bootUntil('2.0');
    assert.deepEqual([r.version, r.boots, r.rolledBack], ['2.0', 1, false]);
    assert.equal((await status()).versions[0].state, 'good');
  });

  test('3.0 answers 404: three tries, then 2.0 runs again by itself; status shows 3.0 bad; /var kept what 2.0 wrote', async (t) => {
    if (skippedEarlier(t)) return;
    const logBefore = await varFile('log/nginx/access.log');
    assert.ok(logBefore.length > 0, 'nginx logged the host\'s health checks on /var');
    const added = await jeos('disk', 'add', fleet, project('3'));
    assert.equal(added.code, 0, added.stderr + added.stdout);
    const r = await bootUntil(undefined);
    assert.equal(r.version, '2.0');
    assert.equal(r.rolledBack, true);
    assert.equal(r.boots, 4, 'three tries of 3.0, then 2.0');
    assert.deepEqual(r.perBoot.map((b: { version: string }) => b.version), ['3.0', '3.0', '3.0', '2.0']);
    const s = await status();
    assert.deepEqual(s.versions.map((v: { version: string; state: string; triesLeft: number | null }) => [v.version, v.state, v.triesLeft]), [
      ['2.0', 'good', null],
      ['1.0', 'good', null],
      ['3.0', 'bad', 0],
    ]);
    assert.equal(s.next, '2.0');
    const logAfter = await varFile('log/nginx/access.log');
    assert.ok(logAfter.startsWith(logBefore), 'the access log 2.0 wrote is still there, and grew');
    t.diagnostic(`3.0's three tries and 2.0 healthy again: ${Math.round(r.perBoot[3].timings.complete / 1000)} s from power-on`);
    // Post-mortem: each of 3.0's tries left its journal on /var, read on the host from the stopped disk.
    const boots = journalBoots();
    if (!boots) return t.diagnostic('no journalctl here: the journal on /var is not read');
    const tries = boots.filter((b) => b.version === '3.0');
    assert.equal(tries.length, 3, `3.0's three tries in the journal on /var (boots: ${boots.map((b) => b.version).join(', ')})`);
    for (const b of tries) {
      assert.match(b.text, /jeos-health\.service: Failed with result 'timeout'/, 'each try says why it failed');
      assert.doesNotMatch(b.text, /jeos-health: healthy/);
    }
    assert.match(tries.map((b) => b.text).join('\n'), /404 Not Found/, "the health check's own error");
  });
  test('4.0 hangs: the watchdog resets it, three tries, then 2.0 runs again by itself; status shows 4.0 bad', async (t) => {
    if (skippedEarlier(t)) return;
    const added = await jeos('disk', 'add', fleet, project('4'));
    assert.equal(added.code, 0, added.stderr + added.stdout);
    const r = await bootUntil(undefined);
    assert.equal(r.version, '2.0');
    assert.equal(r.rolledBack, true);
    assert.deepEqual(r.perBoot.map((b: { version: string }) => b.version), ['4.0', '4.0', '4.0', '2.0']);
    // Nothing in the guest rebooted: each of the three resets is the watchdog's (the kernel had halted).
    assert.equal(r.resets, 3);
    for (const b of r.perBoot.slice(0, 3)) assert.equal(b.timings.complete, null, '4.0 never completed a boot');
    const s = await status();
    const v4 = s.versions.find((v: { version: string }) => v.version === '4.0');
    assert.deepEqual([v4?.state, v4?.triesLeft], ['bad', 0]);
    assert.equal(s.next, '2.0');
    t.diagnostic(`4.0's three hung tries and 2.0 healthy again: ${Math.round(r.perBoot[3].timings.complete / 1000)} s from power-on`);
  });
});
