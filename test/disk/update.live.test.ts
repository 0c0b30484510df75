// Live tier, updates from a channel end to end (issue 26, point 3): the nginx example built from the
// live archive as 1.0 and 2.0 with update: naming a channel served on loopback by
// test/fixtures/serve.ts (the guest reaches the host at 10.0.2.2 under QEMU's user networking).
// 1.0's disk boots under OVMF (TCG), writable; jeos publish of 2.0; 1.0's timer finds it,
// jeos-update checks its signed release.json, systemd-sysupdate (trixie's) installs kernel, initrd
// and the entry with +3 into the ESP, the machine reboots into 2.0, whose boot assessment
// blesses it. jeos test --disk --until-version 2.0 follows it across the reboot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { root } from '../cli/harness.js';
import { serveDirectory, type Served } from '../fixtures/serve.js';
import { consoleStages } from '../support/disk/console-file.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-update-live-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const needs = ['qemu-system-x86_64'];
const missing = needs.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const ovmf = spawnSync('test', ['-f', '/usr/share/OVMF/OVMF_CODE_4M.fd']).status === 0;
const skip = (missing.length > 0 || !ovmf) && `missing ${[...missing, ...(ovmf ? [] : ['OVMF'])].join(', ')} (apt-get install qemu-system-x86 ovmf)`;
const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);
const fleet = join(work, 'fleet.img');
const channel = join(work, 'channel');
const keys = join(work, 'keys');
const project = (v: string) => join(work, `v${v}`);

describe('a disk that follows a channel: jeos publish of 2.0, and 1.0 updates itself', { skip }, () => {
  let served: Served;

  before(async () => {
    await mkdir(channel);
    served = await serveDirectory(channel);
    const port = new URL(served.url).port;
    const made = await jeos('key', 'new', '--out', keys);
    assert.equal(made.code, 0, made.stderr);
    for (const v of ['1', '2']) {
      await cp(join(root, 'examples/nginx'), project(v), { recursive: true });
      await rm(join(project(v), 'jeos.lock'), { force: true });
      await rm(join(project(v), 'out'), { recursive: true, force: true });
      await copyFile(join(keys, 'channel.pub'), join(project(v), 'channel.pub'));
      const update = `update:\n  channel: http://10.0.2.2:${port}/\n  key: channel.pub\n  schedule: {first: 5s, every: 1min, spread: 1s}\n`;
      const yaml = (await readFile(join(project(v), 'jeos.yaml'), 'utf8')).replace(/^outputs:.*$/m, `outputs: [disk]\nversion: "${v}.0"\n${update}`);
      await writeFile(join(project(v), 'jeos.yaml'), yaml);
    }
  });
  after(async () => {
    await served?.close();
    await rm(work, { recursive: true, force: true });
  });

  test('builds 1.0 and 2.0; publishes 2.0', async () => {
    for (const v of ['1', '2']) {
      const built = await jeos('build', project(v), '--quiet');
      assert.equal(built.code, 0, built.stderr + built.stdout);
    }
    await copyFile(join(project('1'), 'out/disk.img'), fleet);
    const published = await jeos('publish', project('2'), '--channel', channel, '--key', keys, '--json');
    assert.equal(published.code, 0, published.stderr + published.stdout);
    assert.equal(JSON.parse(published.stdout).version, '2.0');
  });

  test('1.0 boots, is blessed, installs 2.0 from the channel, reboots; 2.0 answers and is marked good', async (t) => {
    if (skippedEarlier(t)) return;
    const consoleFile = join(work, 'console.log');
    const r = await jeos('test', project('1'), '--disk', '--image', fleet, '--writable', '--json', '--timeout', '500', '--until-version', '2.0', '--console', consoleFile);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}\n${await consoleStages(consoleFile)}`);
    const result = JSON.parse(r.stdout);
    for (const b of result.perBoot) t.diagnostic(`boot of ${b.version}: ${JSON.stringify(b.timings)}`);
    assert.equal(result.version, '2.0');
    assert.equal(result.rolledBack, false, 'an update, not a rollback');
    assert.deepEqual(result.perBoot.map((b: { version: string }) => b.version), ['1.0', '2.0']);
    for (const b of result.perBoot) assert.notEqual(b.timings.complete, null, `${b.version} completed its boot`);
    // What jeos-update said in 1.0's boot, as jeos test reports it (whatever the console's tail kept).
    assert.ok(result.perBoot[0].said.some((l: string) => /^jeos-update: installing 2\.0 \(running 1\.0, release valid until /.test(l)), result.perBoot[0].said.join('\n'));
    assert.ok(result.perBoot[0].said.includes('jeos-update: installed 2.0'), result.perBoot[0].said.join('\n'));
    // What the guest asked for: the signed sums, 2.0's release and its signature, then the payloads.
    for (const path of ['/SHA256SUMS', '/SHA256SUMS.gpg', '/jeos-2.0.release.json', '/jeos-2.0.release.json.gpg', '/jeos-2.0.linux', '/jeos-2.0.initrd', '/jeos-2.0.conf']) {
      assert.ok(served.requests.includes(path), `the guest fetched ${path}`);
    }
    const status = JSON.parse((await jeos('disk', 'status', fleet, '--json')).stdout);
    assert.deepEqual(
      status.versions.map((v: { version: string; entry: string; state: string }) => [v.version, v.entry, v.state]),
      [['2.0', 'jeos-2.0.conf', 'good'], ['1.0', 'jeos-1.0.conf', 'good']],
    );
    assert.equal(status.next, '2.0');
    assert.deepEqual(status.versions[0].boot.linux, '/jeos/jeos-2.0.linux', 'sysupdate put 2.0 flat in /jeos');
    t.diagnostic(`1.0 to 2.0 blessed: ${Math.round(result.perBoot[1].timings.complete / 1000)} s from power-on`);
  });
});
