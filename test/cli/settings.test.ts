// Every archive flag reaches every stage that reads it, with no JEOS_* variable in the
// environment: the flags win over jeos.yaml's debian: settings, for the lock and for the
// fetch of the .debs alike (jeos build --mirror once locked from the flag's mirror and then
// fetched from apt's).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveDirectory, type Served } from '../fixtures/serve.js';
import { cli, runProgram, startHarness, trixieRepo, type Harness } from './harness.js';

describe('settings: flags > environment > jeos.yaml > apt', () => {
  let h: Harness;
  let security: Served;
  let decoy: Served;
  let project: string;
  const env = () => ({ PATH: process.env.PATH, HOME: h.work, NO_COLOR: '1' });
  const jeos = (...args: string[]) => runProgram([process.execPath, cli, ...args], { env: env(), cwd: h.work });

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [{ name: 'webd', version: '1.0-1', depends: 'libweb', files: { '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 } } }],
        [{ name: 'libweb', version: '2.0-1+deb13u1', files: { '/usr/lib/libweb.so.2': 'x\n' } }],
      ),
    );
    // The same signed repository behind two more addresses: the security archive the flag
    // names, and a decoy that jeos.yaml names. Any request to the decoy is a flag lost on the way.
    security = await serveDirectory(h.repo.root);
    decoy = await serveDirectory(h.repo.root);
    project = join(h.work, 'webd');
    await mkdir(project);
    await writeFile(
      join(project, 'jeos.yaml'),
      `name: webd
debian:
  suites: [trixie, trixie-security]
  mirror: ${decoy.url}
  securityMirror: ${decoy.url}
  keyring: /nonexistent/keyring.gpg
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
trim: { enabled: false }
`,
    );
  });
  after(async () => {
    await security?.close();
    await decoy?.close();
    await h?.close();
  });

  const flags = (cache: string) => ['--mirror', h.served.url, '--security-mirror', security.url, '--keyring', h.repo.keyring, '--cache-dir', cache];

  test('jeos build --mirror --security-mirror --keyring --cache-dir: the lock and the fetch both use them', async () => {
    const cache = join(h.work, 'flag-cache');
    const r = await jeos('build', project, ...flags(cache), '--suite', 'trixie');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(decoy.requests, [], "nothing was read from jeos.yaml's mirror");
    // --suite trixie is trixie, trixie-updates and trixie-security (jeos.yaml names two of them).
    assert.ok(h.served.requests.includes('/dists/trixie/InRelease') && h.served.requests.includes('/dists/trixie-updates/InRelease'), h.served.requests.join(' '));
    assert.ok(h.served.requests.some((p) => /\/webd_1\.0-1_amd64\.deb$/.test(p)), 'webd.deb from --mirror');
    assert.ok(security.requests.includes('/dists/trixie-security/InRelease'), security.requests.join(' '));
    assert.ok(security.requests.some((p) => /\/libweb_2\.0-1\+deb13u1_amd64\.deb$/.test(p)), 'the security update from --security-mirror');
    assert.ok(!h.served.requests.some((p) => p.includes('libweb')), 'no security package from the archive mirror');
    assert.ok((await readdir(join(cache, 'debs', 'sha256'))).length >= 2, 'the .debs went into --cache-dir');
    assert.equal(existsSync(join(h.work, '.cache')), false, 'nothing in the default cache');
  });

  test('--offline reaches the fetch: an empty --cache-dir fails naming what is missing, the filled one builds without a request', async () => {
    const empty = await jeos('build', project, ...flags(join(h.work, 'empty-cache')), '--offline');
    assert.equal(empty.code, 1, empty.stderr);
    assert.match(empty.stderr, /^error\[E_FETCH_OFFLINE_MISSING\]/m);
    const before = h.served.requests.length + security.requests.length + decoy.requests.length;
    const r = await jeos('build', project, ...flags(join(h.work, 'flag-cache')), '--offline');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(h.served.requests.length + security.requests.length + decoy.requests.length, before);
  });

  test('--arch reaches the lock: a lock for another architecture is stale', async () => {
    const r = await jeos('build', project, ...flags(join(h.work, 'flag-cache')), '--arch', 'arm64', '--frozen');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[E_BUILD_LOCK_STALE\]: lock: jeos\.lock is for amd64, and this build is for arm64 \(--arch\)/m);
  });

  test('without flags, jeos.yaml wins over apt: its keyring is the one that must have signed the archive', async () => {
    await rm(join(project, 'jeos.lock'));
    const r = await jeos('lock', project, '--cache-dir', join(h.work, 'yaml-cache'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\/nonexistent\/keyring\.gpg/);
    const reached = decoy.requests.length;
    const withEnv = await runProgram([process.execPath, cli, 'lock', project, '--cache-dir', join(h.work, 'yaml-cache')], {
      env: { ...env(), JEOS_KEYRING: h.repo.keyring },
      cwd: h.work,
    });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    assert.ok(decoy.requests.length > reached, 'JEOS_KEYRING over jeos.yaml, and jeos.yaml\'s mirror over apt\'s');
  });
});
