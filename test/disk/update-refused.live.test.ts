// Live tier, what a machine that follows a channel refuses and what it does not install again
// (issue 26): the nginx example built from the live archive as 2.0 (the machine), 3.0 whose health
// check asks for a page nginx does not have, and 1.5. The machine's channel URL is a path on a
// loopback web server (test/fixtures/serve.ts) that is a symlink the test points at one channel
// directory after another while the machine runs; its update timer checks every 15 s.
// Boot 1: 2.0 is blessed, then meets in turn a tampered payload, a channel that goes away in the
// middle of the initrd's download, a version too big for the ESP's free space (a full ESP: once as
// its release.json says, once with release.json understating it), a tampered SHA256SUMS, a channel
// signed by another key, an expired release.json and an older version: systemd-sysupdate (trixie's)
// or jeos-update refuses each, with the reason on the console; power cut; the ESP holds 2.0 alone,
// nothing half-written. Boot 2: 2.0 boots and is blessed again; the channel now
// offers the failing 3.0: installed, rebooted into, three failed tries, 2.0 again, and two more
// timer runs later 3.0 has not been fetched again. Two boots of the disk (docs/channels.md has the time).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseRelease, publishBuild, readSigningKey, releaseText, signDetached } from '../../src/lifecycle/channel/index.js';
import { runJeosLive, skippedEarlier, test } from '../live.js';
import { root } from '../cli/harness.js';
import { serveDirectory, type Served } from '../fixtures/serve.js';
import { bootWatched, espFiles, espSectors, fsckEsp, type Watched } from '../support/disk/uefi-watch.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-update-refused-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
const needs = ['qemu-system-x86_64', 'fsck.fat', 'mdir'];
const missing = needs.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const ovmf = spawnSync('test', ['-f', '/usr/share/OVMF/OVMF_CODE_4M.fd']).status === 0;
const skip = (missing.length > 0 || !ovmf) && `missing ${[...missing, ...(ovmf ? [] : ['OVMF'])].join(', ')} (apt-get install qemu-system-x86 dosfstools mtools ovmf)`;
const jeos = (...args: string[]) => runJeosLive(cacheDir, ...args);
const fleet = join(work, 'fleet.img');
const served = join(work, 'served');
const channels = join(work, 'channels');
const project = (v: string) => join(work, `v${v}`);
const MINUTE = 60_000;

/** While the machine's channel is the vanishing one, the server drops the initrd's connection half way. */
let vanishing = false;

/** Point the machine's channel URL (/ch/ on the server) at another channel directory, in one rename. */
async function pointAt(name: string): Promise<void> {
  vanishing = name === 'vanishing';
  await symlink(join(channels, name), join(served, 'ch.new'));
  await rename(join(served, 'ch.new'), join(served, 'ch'));
}

const status = async () => JSON.parse((await jeos('disk', 'status', fleet, '--json')).stdout);
const entries = (s: { versions: Array<{ version: string; entry: string; state: string }> }) => s.versions.map((v) => [v.version, v.entry, v.state]);

describe('a machine on 2.0 refuses bad channels, and does not install a rolled-back 3.0 again', { skip }, () => {
  let server: Served;

  before(async () => {
    await mkdir(served);
    await mkdir(channels);
    server = await serveDirectory(served, { dropAfter: (path) => (vanishing && path === '/ch/jeos-3.0.initrd' ? 4_000_000 : undefined) });
    const port = new URL(server.url).port;
    const made = await jeos('key', 'new', '--out', join(work, 'keys'));
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await jeos('key', 'new', '--out', join(work, 'foreign'))).code, 0);
    for (const v of ['1.5', '2', '3']) {
      await cp(join(root, 'examples/nginx'), project(v), { recursive: true });
      await rm(join(project(v), 'jeos.lock'), { force: true });
      await rm(join(project(v), 'out'), { recursive: true, force: true });
      await copyFile(join(work, 'keys/channel.pub'), join(project(v), 'channel.pub'));
      const version = v.includes('.') ? v : `${v}.0`;
      const update = `update:\n  channel: http://10.0.2.2:${port}/ch/\n  key: channel.pub\n  schedule: {first: 5s, every: 15s, spread: 1s}\n`;
      let yaml = (await readFile(join(project(v), 'jeos.yaml'), 'utf8')).replace(/^outputs:.*$/m, `outputs: [disk]\nversion: "${version}"\n${update}`);
      if (v === '3') yaml = yaml.replace(/http: http:\/\/localhost:80\/\n/, 'http: http://localhost:80/missing\n    timeout: 10\n');
      await writeFile(join(project(v), 'jeos.yaml'), yaml);
    }
  });
  after(async () => {
    await server?.close();
    await rm(work, { recursive: true, force: true });
  });

  test('builds 1.5, 2.0 and 3.0 (its health check fails); the channels, good and bad', async () => {
    for (const v of ['1.5', '2', '3']) {
      const built = await jeos('build', project(v), '--quiet');
      assert.equal(built.code, 0, built.stderr + built.stdout);
    }
    assert.ok((await readFile(join(project('3'), 'jeos.yaml'), 'utf8')).includes('/missing'));
    await copyFile(join(project('2'), 'out/disk.img'), fleet);
    const publish = async (v: string, channel: string, key = 'keys') => {
      const r = await jeos('publish', project(v), '--channel', join(channels, channel), '--key', join(work, key), '--json');
      assert.equal(r.code, 0, r.stderr + r.stdout);
    };
    await publish('3', 'good');
    // The payload changed after signing: one byte of the initrd.
    await cp(join(channels, 'good'), join(channels, 'payload'), { recursive: true, verbatimSymlinks: true });
    const initrd = join(channels, 'payload/jeos-3.0.initrd');
    const bytes = await readFile(initrd);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(initrd, bytes);
    // SHA256SUMS changed after signing (through its link into the copy's state directory).
    await cp(join(channels, 'good'), join(channels, 'sums'), { recursive: true, verbatimSymlinks: true });
    const sums = await readFile(join(channels, 'sums/SHA256SUMS'), 'utf8');
    await writeFile(join(channels, 'sums/SHA256SUMS'), sums.replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0')));
    // The same channel, served by a server that goes away mid-download (pointAt).
    await cp(join(channels, 'good'), join(channels, 'vanishing'), { recursive: true, verbatimSymlinks: true });
    // A full ESP: a 3.0 whose initrd is bigger than the ESP's free space, correctly listed and signed.
    await cp(join(channels, 'good'), join(channels, 'full'), { recursive: true, verbatimSymlinks: true });
    const free = JSON.parse(await readFile(join(project('2'), 'out/build.json'), 'utf8')).outputs.find((o: { format: string }) => o.format === 'disk').disk.esp.freeBytes as number;
    const big = join(channels, 'full/jeos-3.0.initrd');
    await rm(big);
    const fh = await open(big, 'w');
    await fh.truncate(free + 8 * 1024 * 1024).finally(() => fh.close());
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(big)) hash.update(chunk as Buffer);
    const fullSums = (await readFile(join(channels, 'full/SHA256SUMS'), 'utf8')).replace(/^[0-9a-f]{64}(?=  jeos-3\.0\.initrd$)/m, hash.digest('hex'));
    await writeFile(join(channels, 'full/SHA256SUMS'), fullSums);
    const key = await readSigningKey(join(work, 'keys'));
    await writeFile(join(channels, 'full/SHA256SUMS.gpg'), await signDetached(Buffer.from(fullSums), key));
    // The same, with release.json still listing the real initrd's size (a channel that understates its
    // files): jeos-update lets systemd-sysupdate try, and the ESP fills during the download.
    await cp(join(channels, 'full'), join(channels, 'understated'), { recursive: true, verbatimSymlinks: true });
    // The full channel's release.json says the initrd's true size, signed: refused before anything is downloaded.
    const releasePath = join(channels, 'full/jeos-3.0.release.json');
    const release = parseRelease(await readFile(releasePath, 'utf8'), releasePath);
    release.files = release.files.map((f) => (f.name === 'jeos-3.0.initrd' ? { ...f, size: free + 8 * 1024 * 1024 } : f));
    const releaseBytes = Buffer.from(releaseText(release));
    await writeFile(releasePath, releaseBytes);
    await writeFile(`${releasePath}.gpg`, await signDetached(releaseBytes, key));
    await publish('3', 'foreign', 'foreign');
    // Signed by the channel's key, valid for one second: long past when the machine reads it.
    await publishBuild({ projectDir: project('3'), channel: join(channels, 'expired'), keyDir: join(work, 'keys'), validDays: 1 / 86400 });
    await publish('1.5', 'older');
    await pointAt('payload');
  });

  test('boot 1: 2.0 refuses a tampered payload, a channel gone mid-download, a full ESP, a tampered SHA256SUMS, a foreign key, an expired and an older release', async (t) => {
    if (skippedEarlier(t)) return;
    const vm = await bootWatched({ disk: fleet });
    try {
      await vm.waitFor('2.0 blessed', (w) => w.log.current.timings.complete !== null, 4 * MINUTE);
      assert.equal(vm.log.current.version, '2.0');
      const cases: Array<[string, RegExp, number?]> = [
        ['payload', /jeos-update: refused: systemd-sysupdate could not install 3\.0/],
        ['vanishing', /jeos-update: refused: systemd-sysupdate could not install 3\.0 \(.*Input\/output error: a download from \S+ did not complete\)/],
        ['full', /jeos-update: refused: no room on the ESP \(\/efi\) for version 3\.0: its kernel, initrd and entry take [\d.]+ MB, [\d.]+ MB free \(nothing downloaded\)/],
        // With the ESP mounted sync (docs/disk.md), filling it takes about two minutes under TCG (docs/channels.md).
        ['understated', /jeos-update: refused: systemd-sysupdate could not install 3\.0 \(.*No space left on device: [\d.]+ MB free on the ESP/, 5 * MINUTE],
        ['sums', /jeos-update: refused: systemd-sysupdate check-new failed/],
        ['foreign', /jeos-update: refused: systemd-sysupdate check-new failed/],
        ['expired', /jeos-update: refused: release 3\.0 expired at /],
        ['older', /jeos-update: refused: version 1\.5 is not newer than the running 2\.0/],
      ];
      for (const [i, [name, why, wait]] of cases.entries()) {
        if (i > 0) await pointAt(name);
        const from = vm.lines.length;
        const asked = server.requests.length;
        // A run that began before the switch may still report on the channel before: wait for this channel's refusal.
        await vm.waitFor(`the refusal of the ${name} channel`, (w) => w.grep(why, from).length > 0 && server.requests.slice(asked).some((p) => p.startsWith('/ch/')), wait ?? 2 * MINUTE);
        // What jeos-update and the systemd-sysupdate it ran said (the journal's lines on the console).
        const said = vm.lines.slice(from).filter((l) => /jeos-update\[/.test(l)).map((l) => l.replace(/^\[\s*[\d.]+\] jeos-update\[\d+\]: /, ''));
        const refusal = said.findIndex((l) => why.test(`jeos-update[0]: ${l}`) || why.test(l));
        t.diagnostic(`${name}: ${said.slice(Math.max(0, refusal - 3), refusal + 1).join(' | ')}`);
        assert.equal(vm.grep(/installed 3\.0|installed 1\.5|rebooting into/, from).length, 0, `${name}: nothing installed:\n${said.join('\n')}`);
      }
      assert.equal(vm.log.boots.length, 1, 'no reboot');
      // The timer kept running after a refusal left jeos-update.service failed.
      assert.ok(vm.grep(/jeos-update: refused:/).length >= cases.length);
    } finally {
      await vm.kill();
    }
    const esp = await espSectors(project('2'));
    const fsck = await fsckEsp(fleet, esp, work);
    assert.ok(fsck.ok, fsck.out);
    const files = espFiles(fleet, esp);
    assert.deepEqual(files.filter((f) => /3\.0|1\.5|sysupdate/.test(f)), [], `nothing of 3.0 or 1.5 on the ESP, no temporaries:\n${files.join('\n')}`);
    assert.deepEqual(entries(await status()), [['2.0', 'jeos-2.0.conf', 'good']]);
  });

  test('boot 2: 2.0 boots again; it installs the failing 3.0, which is rolled back after three tries and not installed again', async (t) => {
    if (skippedEarlier(t)) return;
    await pointAt('good');
    const vm = await bootWatched({ disk: fleet });
    let rollback = 0;
    try {
      await vm.waitFor('2.0 blessed', (w) => w.log.current.timings.complete !== null, 4 * MINUTE);
      assert.equal(vm.log.current.version, '2.0');
      await vm.waitFor('the reboot into 3.0', (w) => w.log.boots.some((b) => b.version === '3.0'), 3 * MINUTE);
      assert.ok(vm.grep(/jeos-update: installed 3\.0/).length === 1);
      // Three tries of 3.0 (health check 10 s each), then 2.0 by itself.
      await vm.waitFor('2.0 blessed after the rollback', (w) => w.log.boots.length >= 5 && w.log.current.version === '2.0' && w.log.current.timings.complete !== null, 8 * MINUTE);
      assert.deepEqual(vm.log.boots.map((b) => b.version), ['2.0', '3.0', '3.0', '3.0', '2.0']);
      rollback = vm.log.current.began;
      // The rollback boot's console: from its kernel's command line on.
      const from = vm.lines.length - 1 - [...vm.lines].reverse().findIndex((l) => /Kernel command line: .*jeos\.version=2\.0/.test(l));
      assert.ok(from > 0);
      const asked = server.requests.length;
      // Two checks after the rollback: each finds nothing to install.
      await vm.waitFor('two checks of the channel after the rollback', (w) => w.grep(/jeos-update: (no new version|version 3\.0 was rolled back on this machine)/, from).length >= 2, 2 * MINUTE);
      assert.ok(vm.grep(/jeos-update: 3\.0 was rolled back: it will not be installed again/, from).length === 1, vm.tail());
      assert.deepEqual(vm.grep(/installing 3\.0|installed 3\.0|refused/, from), [], 'no install, no alarm');
      const fetched = server.requests.slice(asked);
      assert.ok(fetched.includes('/ch/SHA256SUMS'), 'the channel was checked');
      assert.deepEqual(fetched.filter((p) => /jeos-3\.0\.(linux|initrd|conf)$/.test(p)), [], '3.0 not fetched again');
      t.diagnostic(`2.0 healthy again ${Math.round((vm.log.current.timings.complete! - rollback) / 1000)} s after its boot began; the checks after it: ${vm.grep(/jeos-update:/, from).join(' | ')}`);
      t.diagnostic(`from power-on: 3.0 installed and rebooted into at ${Math.round(vm.log.boots[1]!.began / 1000)} s, 2.0 blessed again at ${Math.round(vm.log.current.timings.complete! / 1000)} s`);
    } finally {
      await vm.kill();
    }
    const s = await status();
    assert.deepEqual(s.versions.map((v: { version: string; state: string }) => [v.version, v.state]), [['2.0', 'good'], ['3.0', 'bad']]);
    assert.equal(s.next, '2.0');
    const fsck = await fsckEsp(fleet, await espSectors(project('2')), work);
    assert.ok(fsck.ok, fsck.out);
  });
});
