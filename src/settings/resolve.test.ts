import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_KEYRING } from '../archive/signature.js';
import { DEFAULT_SUITES } from '../config/schema.js';
import type { JeosError } from '../errors.js';
import { expandSuites, resolveSettings } from './resolve.js';

/** An apt configuration directory with one sources.list. */
async function withApt(sourcesList: string, fn: (aptEtc: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-apt-'));
  try {
    await writeFile(join(dir, 'sources.list'), sourcesList);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const APT = 'deb http://apt.example/debian trixie main\ndeb http://apt.example/sec trixie-security main\n';
const ENV = {
  JEOS_MIRROR: 'http://env.example/debian',
  JEOS_SECURITY_MIRROR: 'http://env.example/sec',
  JEOS_KEYRING: '/env/keyring.gpg',
  JEOS_CACHE_DIR: '/env/cache',
  SOURCE_DATE_EPOCH: '1700000000',
};
const CONFIG = {
  mirror: 'http://config.example/debian',
  securityMirror: 'http://config.example/sec',
  keyring: '/config/keyring.gpg',
  suites: ['bookworm'],
  architecture: 'arm64',
  components: ['main', 'contrib'],
};
const FLAGS = {
  mirror: 'http://flag.example/debian',
  securityMirror: 'http://flag.example/sec',
  keyring: '/flag/keyring.gpg',
  cacheDir: '/flag/cache',
  suite: ['forky'],
  arch: 'riscv64',
  offline: true,
};

test('flags win over the environment, which wins over jeos.yaml, which wins over apt and the defaults', async () => {
  await withApt(APT, async (aptEtc) => {
    const all = await resolveSettings({ flags: FLAGS, env: ENV, debian: CONFIG, aptEtc });
    assert.deepEqual(all.mirrors, { archive: 'http://flag.example/debian/', security: 'http://flag.example/sec/', from: { archive: 'flag', security: 'flag' } });
    assert.equal(all.keyring, '/flag/keyring.gpg');
    assert.equal(all.cacheDir, '/flag/cache');
    assert.deepEqual(all.suites, ['forky', 'forky-updates', 'forky-security']);
    assert.equal(all.architecture, 'riscv64');
    assert.equal(all.offline, true);
    assert.deepEqual(all.components, ['main', 'contrib']);
    assert.equal(all.sourceDateEpoch, 1_700_000_000);
    assert.deepEqual(all.origins, { mirror: 'flag', securityMirror: 'flag', suites: 'flag', architecture: 'flag', keyring: 'flag', cacheDir: 'flag' });

    const noFlags = await resolveSettings({ env: ENV, debian: CONFIG, aptEtc });
    assert.equal(noFlags.mirrors.archive, 'http://env.example/debian/');
    assert.equal(noFlags.mirrors.security, 'http://env.example/sec/');
    assert.equal(noFlags.keyring, '/env/keyring.gpg');
    assert.equal(noFlags.cacheDir, '/env/cache');
    assert.deepEqual(noFlags.suites, ['bookworm'], 'suites have no environment variable: jeos.yaml');
    assert.equal(noFlags.architecture, 'arm64');
    assert.equal(noFlags.offline, false);

    const configOnly = await resolveSettings({ env: { HOME: '/home/u' }, debian: CONFIG, aptEtc });
    assert.deepEqual(configOnly.mirrors.from, { archive: 'config', security: 'config' });
    assert.equal(configOnly.keyring, '/config/keyring.gpg');
    assert.equal(configOnly.sourceDateEpoch, undefined);

    const aptOnly = await resolveSettings({ env: { XDG_CACHE_HOME: '/xdg' }, aptEtc });
    assert.deepEqual(aptOnly.mirrors, { archive: 'http://apt.example/debian/', security: 'http://apt.example/sec/', from: { archive: 'apt', security: 'apt' } });
    assert.equal(aptOnly.keyring, DEFAULT_KEYRING);
    assert.equal(aptOnly.cacheDir, '/xdg/jeos');
    assert.deepEqual(aptOnly.suites, DEFAULT_SUITES);
    assert.equal(aptOnly.architecture, 'amd64');
    assert.deepEqual(aptOnly.origins, { mirror: 'apt', securityMirror: 'apt', suites: 'default', architecture: 'default', keyring: 'default', cacheDir: 'default' });
  });
});

test('each mirror is decided on its own; a security mirror named nowhere is the archive mirror', async () => {
  await withApt(APT, async (aptEtc) => {
    const mixed = await resolveSettings({ flags: { mirror: 'http://flag.example/d' }, env: { JEOS_SECURITY_MIRROR: 'http://env.example/s' }, aptEtc });
    assert.deepEqual(mixed.mirrors.from, { archive: 'flag', security: 'environment' });
  });
  await withApt('', async (aptEtc) => {
    const derived = await resolveSettings({ flags: { mirror: 'http://flag.example/d' }, env: {}, aptEtc });
    assert.deepEqual(derived.mirrors, { archive: 'http://flag.example/d/', security: 'http://flag.example/d/', from: { archive: 'flag', security: 'derived' } });
  });
});

test('no mirror anywhere fails only when a stage reads the mirrors; a bad URL or epoch names its source', async () => {
  await withApt('deb https://vendor.example/apt nodistro main\n', async (aptEtc) => {
    const settings = await resolveSettings({ env: {}, aptEtc });
    assert.equal(settings.origins.mirror, 'none');
    assert.throws(() => settings.mirrors, (e: JeosError) => e.code === 'E_NO_MIRROR' && /--mirror/.test(e.hint ?? ''));
    await assert.rejects(resolveSettings({ flags: { mirror: 'ftp://x.example/' }, env: {}, aptEtc }), (e: JeosError) => e.code === 'E_MIRROR_URL' && /command line/.test(e.message));
    const badEpoch = await resolveSettings({ env: { SOURCE_DATE_EPOCH: 'yesterday' }, aptEtc });
    assert.throws(() => badEpoch.sourceDateEpoch, (e: JeosError) => e.code === 'E_BUILD_SOURCE_DATE_EPOCH');
  });
});

test('a release name expands to its updates and security suites; other names are taken as written', () => {
  assert.deepEqual(expandSuites(['trixie']), ['trixie', 'trixie-updates', 'trixie-security']);
  assert.deepEqual(expandSuites(['bookworm,trixie-backports']), ['bookworm', 'bookworm-updates', 'bookworm-security', 'trixie-backports']);
  assert.deepEqual(expandSuites(['sid']), ['sid']);
});
