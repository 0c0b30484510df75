// jeos key new, publish and promote through the compiled CLI, on a disk image built hermetically
// (the signed loopback repository, a synthetic kernel, a stand-in systemd-boot-efi). The channel
// is served on loopback and read back as a client does: SHA256SUMS and SHA256SUMS.gpg over HTTP,
// checked by the real gpg with a keyring holding only channel.pub, then every listed file
// against its hash. A publish killed (SIGKILL) at each of its points leaves a channel a reader
// sees whole, before or after, never a mix; the next publish finishes the job.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DISK_MODULES, diskStandIns, kernelRecipe, vmStandIns } from '../support/vm/packages.js';
import { gpgVerify } from '../support/channel/gpg.js';
import type { DebRecipe } from '../fixtures/debs.js';
import { serveDirectory, type Served } from '../fixtures/serve.js';
import { runProgram, startHarness, trixieRepo, cli, type Harness } from '../cli/harness.js';

const tools = ['gpg', 'qemu-img', 'lz4', 'dpkg-deb'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install gpg qemu-utils lz4 dpkg-dev)`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');


const packages: DebRecipe[] = [
  { name: 'webd', version: '1.0-1', files: { '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 } } },
  // The VM's and the disk's stand-ins (systemd, systemd-boot-efi, fsck.fat, systemd-bless-boot: never run here).
  ...vmStandIns(),
  ...diskStandIns(),
  kernelRecipe({ fsModules: ['fat', ...DISK_MODULES], nested: true }),
];

const yaml = (version: string) => `name: webd
version: "${version}"
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
  ports: [8080]
outputs: [disk]
disk:
  size: 512M
`;

/** What a client of the channel sees: the verified versions, or why it refused. */
async function readAsClient(url: string, pub: string, home: string): Promise<{ versions: string[] } | { refused: string }> {
  const get = async (name: string) => {
    const r = await fetch(new URL(name, url));
    return r.ok ? Buffer.from(await r.arrayBuffer()) : undefined;
  };
  const sums = await get('SHA256SUMS');
  const sig = await get('SHA256SUMS.gpg');
  if (!sums && !sig) return { versions: [] };
  if (!sums || !sig) return { refused: 'SHA256SUMS or its signature missing' };
  await writeFile(join(home, 'SHA256SUMS'), sums);
  await writeFile(join(home, 'SHA256SUMS.gpg'), sig);
  const v = gpgVerify(pub, join(home, 'SHA256SUMS.gpg'), join(home, 'SHA256SUMS'), home);
  if (!v.ok) return { refused: v.out };
  const versions = new Set<string>();
  for (const line of sums.toString().trim().split('\n')) {
    const [hash, name] = line.split('  ');
    const body = await get(name!);
    if (!body || sha(body) !== hash) return { refused: `${name} missing or not matching` };
    versions.add(/^jeos-(.+?)\.(linux|initrd|conf|lock|manifest\.json|release\.json)$/.exec(name!)![1]!);
    if (name!.endsWith('.release.json')) {
      const rsig = await get(`${name}.gpg`);
      if (!rsig) return { refused: `${name}.gpg missing` };
      await writeFile(join(home, 'release.json'), body);
      await writeFile(join(home, 'release.json.gpg'), rsig);
      if (!gpgVerify(pub, join(home, 'release.json.gpg'), join(home, 'release.json'), home).ok) return { refused: `${name}: bad signature` };
    }
  }
  return { versions: [...versions].sort() };
}

describe('jeos key new, publish, promote', { skip }, () => {
  let h: Harness;
  let project: string;
  let served: Served;
  let channels: string;
  let pubAlpha: string;
  let homes = 0;
  const home = async () => mkdtemp(join(h.work, `gnupg-${homes++}-`));
  const keys = (name: string) => join(h.work, 'keys', name);

  before(async () => {
    h = await startHarness(trixieRepo(packages, []));
    project = join(h.work, 'webd');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml('1.0'));
    const built = await h.jeos('build', project, '--quiet');
    assert.equal(built.code, 0, built.stderr);
    channels = join(h.work, 'channels');
    await mkdir(channels);
    served = await serveDirectory(channels);
    for (const k of ['alpha', 'beta', 'other']) assert.equal((await h.jeos('key', 'new', '--out', keys(k))).code, 0);
    pubAlpha = await readFile(join(keys('alpha'), 'channel.pub'), 'utf8');
  });
  after(async () => {
    await served?.close();
    await h?.close();
  });

  test('publish: payloads named by version, SHA256SUMS verified by gpg with channel.pub, a signed release.json', async () => {
    const r = await h.jeos('publish', project, '--channel', join(channels, 'alpha'), '--key', keys('alpha'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.version, '1.0');
    assert.equal(out.previous, null);

    const seen = await readAsClient(`${served.url}alpha/`, pubAlpha, await home());
    assert.deepEqual(seen, { versions: ['1.0'] });
    const other = await readAsClient(`${served.url}alpha/`, await readFile(join(keys('other'), 'channel.pub'), 'utf8'), await home());
    assert.ok('refused' in other, 'another key does not verify the channel');

    // The kernel and initrd are the disk's bytes; the entry names where sysupdate puts them.
    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    const esp = record.outputs.find((o: { format: string }) => o.format === 'disk').disk.espFiles;
    const linux = await (await fetch(`${served.url}alpha/jeos-1.0.linux`)).arrayBuffer();
    assert.equal(sha(Buffer.from(linux)), esp.find((f: { path: string }) => f.path === 'jeos/1.0/linux').sha256);
    const entry = await (await fetch(`${served.url}alpha/jeos-1.0.conf`)).text();
    assert.match(entry, /^linux \/jeos\/jeos-1\.0\.linux$/m);
    assert.match(entry, /^initrd \/jeos\/jeos-1\.0\.initrd$/m);
    assert.match(entry, /^version 1\.0$/m);

    const release = JSON.parse(await (await fetch(`${served.url}alpha/jeos-1.0.release.json`)).text());
    assert.equal(release.version, '1.0');
    assert.equal(release.lockDigest, record.lockDigest);
    assert.equal(release.lockDigest, sha(await readFile(join(project, 'jeos.lock'))));
    const days = (Date.parse(release.validUntil) - Date.now()) / 86400_000;
    assert.ok(days > 29 && days <= 30, `valid for 30 days (${release.validUntil})`);
    assert.ok(release.changes.added.some((p: { name: string }) => p.name === 'webd'));
  });

  test('refused: a version that is not newer, a channel signed by another key; the channel is unchanged', async () => {
    const sums = await readFile(join(channels, 'alpha/SHA256SUMS'));
    const same = await h.jeos('publish', project, '--channel', join(channels, 'alpha'), '--key', keys('alpha'), '--json');
    assert.equal(same.code, 1);
    assert.equal(JSON.parse(same.stdout).error.code, 'E_CHANNEL_NOT_NEWER');
    await writeFile(join(project, 'jeos.yaml'), yaml('0.9'));
    assert.equal((await h.jeos('build', project, '--quiet')).code, 0);
    const older = await h.jeos('publish', project, '--channel', join(channels, 'alpha'), '--key', keys('alpha'));
    assert.match(older.stderr, /E_CHANNEL_NOT_NEWER|not newer than 1\.0/);
    await writeFile(join(project, 'jeos.yaml'), yaml('1.1'));
    assert.equal((await h.jeos('build', project, '--quiet')).code, 0);
    const foreign = await h.jeos('publish', project, '--channel', join(channels, 'alpha'), '--key', keys('other'), '--json');
    assert.equal(JSON.parse(foreign.stdout).error.code, 'E_CHANNEL_SIGNATURE');
    assert.ok((await readFile(join(channels, 'alpha/SHA256SUMS'))).equals(sums));
  });

  test('a publish killed at each point: a reader sees 1.0 alone or 1.0 and 1.1, never a mix; publishing again completes it', async () => {
    const points = ['first-payload', 'payloads', 'state', 'links', 'switched'];
    for (const point of points) {
      const dir = join(channels, `crash-${point}`);
      await cp(join(channels, 'alpha'), dir, { recursive: true, verbatimSymlinks: true });
      const killed = await runProgram([process.execPath, cli, 'publish', project, '--channel', dir, '--key', keys('alpha')], { env: { ...h.env, JEOS_TEST_CRASH_AT: `publish:${point}` }, cwd: h.work });
      assert.equal(killed.code, null, `killed at ${point}`);
      const seen = await readAsClient(`${served.url}crash-${point}/`, pubAlpha, await home());
      assert.deepEqual(seen, { versions: point === 'switched' ? ['1.0', '1.1'] : ['1.0'] }, point);
      const again = await h.jeos('publish', project, '--channel', dir, '--key', keys('alpha'), '--json');
      if (point === 'switched') assert.equal(JSON.parse(again.stdout).error.code, 'E_CHANNEL_NOT_NEWER');
      else assert.equal(again.code, 0, `${point}: ${again.stderr}`);
      assert.deepEqual(await readAsClient(`${served.url}crash-${point}/`, pubAlpha, await home()), { versions: ['1.0', '1.1'] }, `${point}, then published again`);
      const left = execFileSync('ls', ['-A', dir]).toString().split('\n').filter((n) => /tmp|^state\.\d+$/.test(n));
      assert.equal(left.length, 1, `${point}: one generation left, no temporaries: ${left.join(' ')}`);
    }
  });

  test('publish 1.1; promote 1.0 and 1.1 to beta: payloads byte for byte, SHA256SUMS and releases signed by beta\'s key', async () => {
    const r = await h.jeos('publish', project, '--channel', join(channels, 'alpha'), '--key', keys('alpha'), '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).previous, '1.0');
    const beta = join(channels, 'beta');
    const early = await h.jeos('promote', '1.1', '--from', join(channels, 'alpha'), '--to', beta, '--key', keys('beta'), '--from-key', join(keys('alpha'), 'channel.pub'), '--json');
    assert.equal(early.code, 0, early.stderr);
    const late = await h.jeos('promote', '1.0', '--from', join(channels, 'alpha'), '--to', beta, '--key', keys('beta'), '--json');
    assert.equal(JSON.parse(late.stdout).error.code, 'E_CHANNEL_NOT_NEWER', 'beta has 1.1 already');
    for (const f of ['linux', 'initrd', 'conf', 'lock', 'manifest.json']) {
      assert.ok((await readFile(join(beta, `jeos-1.1.${f}`))).equals(await readFile(join(channels, 'alpha', `jeos-1.1.${f}`))), f);
    }
    const pubBeta = await readFile(join(keys('beta'), 'channel.pub'), 'utf8');
    assert.deepEqual(await readAsClient(`${served.url}beta/`, pubBeta, await home()), { versions: ['1.1'] });
    assert.ok('refused' in (await readAsClient(`${served.url}beta/`, pubAlpha, await home())), 'alpha\'s key does not verify beta');
    const release = JSON.parse(await readFile(join(beta, 'jeos-1.1.release.json'), 'utf8'));
    assert.equal(release.previous, null);

    // A payload changed in alpha after signing: promote refuses it.
    const tampered = join(channels, 'tampered');
    await cp(join(channels, 'alpha'), tampered, { recursive: true, verbatimSymlinks: true });
    await writeFile(join(tampered, 'jeos-1.0.initrd'), 'not the initrd');
    const bad = await h.jeos('promote', '1.0', '--from', tampered, '--to', join(channels, 'beta2'), '--key', keys('beta'), '--json');
    assert.equal(JSON.parse(bad.stdout).error.code, 'E_CHANNEL_TAMPERED');
    const foreign = await h.jeos('promote', '1.0', '--from', join(channels, 'alpha'), '--to', join(channels, 'beta3'), '--key', keys('beta'), '--from-key', keys('other'), '--json');
    assert.equal(JSON.parse(foreign.stdout).error.code, 'E_CHANNEL_SIGNATURE');
  });

  test('--resign gives every release a new Valid-Until, signed again', async () => {
    const r = await h.jeos('publish', '--resign', '--channel', join(channels, 'alpha'), '--key', keys('alpha'), '--valid-days', '2', '--json');
    assert.equal(r.code, 0, r.stderr);
    for (const v of ['1.0', '1.1']) {
      const release = JSON.parse(await readFile(join(channels, 'alpha', `jeos-${v}.release.json`), 'utf8'));
      assert.ok(Date.parse(release.validUntil) - Date.now() < 2 * 86400_000 + 1000);
    }
    assert.deepEqual(await readAsClient(`${served.url}alpha/`, pubAlpha, await home()), { versions: ['1.0', '1.1'] });
  });

  test('jeos diff CHANNEL@1.0 CHANNEL@1.1: the locks and manifests the channel holds, exit 0', async () => {
    const r = await h.jeos('diff', `${join(channels, 'alpha')}@1.0`, `${join(channels, 'alpha')}@1.1`, '--json');
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.deepEqual(d.packages, { added: [], removed: [], upgraded: [], downgraded: [] });
    assert.ok(d.files.some((f: { tree: string }) => f.tree === 'vm'), 'both versions carry a manifest');
    const missing = await h.jeos('diff', `${join(channels, 'alpha')}@9.9`, `${join(channels, 'alpha')}@1.1`, '--json');
    assert.equal(JSON.parse(missing.stdout).error.code, 'E_DIFF_NO_VERSION');
  });
});
