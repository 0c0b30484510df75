import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JeosError } from '../errors.js';
import { discoverMirrors, mirrorFor, parseSourcesList, readAptSources } from './mirrors.js';
import { expandSuites } from './open.js';

async function aptEtc(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-apt-'));
  await mkdir(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const deb822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: trixie
Enabled: no
`;

test('mirrors come from apt\'s deb822 sources; vendor repositories and disabled entries are ignored', async () => {
  const etc = await aptEtc({
    'sources.list.d/vendor.list': 'deb [signed-by=/x.gpg] https://vendor.example/apt cloud-sdk main\n',
    'sources.list.d/debian.sources': deb822,
    'sources.list.d/other.sources.disabled': 'Types: deb\nURIs: http://nope.example/debian\nSuites: trixie\n',
  });
  try {
    const m = await discoverMirrors({ env: {}, aptEtc: etc });
    assert.equal(m.archive, 'http://mirror.example/debian/');
    assert.equal(m.security, 'http://security.example/debian-security/');
    assert.deepEqual(m.from, { archive: 'apt', security: 'apt' });
    assert.equal(mirrorFor(m, 'trixie-security'), m.security);
    assert.equal(mirrorFor(m, 'trixie-updates'), m.archive);
    const sources = await readAptSources(etc);
    assert.ok(sources.every((s) => !s.uri.includes('nope') && !s.uri.includes('disabled')));
  } finally {
    await rm(etc, { recursive: true });
  }
});

test('one-line sources.list entries with options and comments are read', async () => {
  const parsed = parseSourcesList(
    '# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian trixie main contrib # trailing\ndeb-src http://m.example/debian trixie main\n',
    'sources.list',
  );
  assert.deepEqual(parsed, [{ uri: 'http://m.example/debian/', suites: ['trixie'], components: ['main', 'contrib'], file: 'sources.list' }]);
});

test('the environment wins over jeos.yaml, which wins over apt', async () => {
  const etc = await aptEtc({ 'sources.list': 'deb http://apt.example/debian trixie main\ndeb http://apt.example/sec trixie-security main\n' });
  try {
    const config = { mirror: 'http://config.example/debian', securityMirror: 'http://config.example/sec' };
    const env = { JEOS_MIRROR: 'http://env.example/debian' };
    const m = await discoverMirrors({ env, config, aptEtc: etc });
    assert.equal(m.archive, 'http://env.example/debian/');
    assert.equal(m.security, 'http://config.example/sec/');
    assert.deepEqual(m.from, { archive: 'environment', security: 'config' });
    const fromApt = await discoverMirrors({ env: {}, aptEtc: etc });
    assert.equal(fromApt.archive, 'http://apt.example/debian/');
    assert.equal(fromApt.security, 'http://apt.example/sec/');
  } finally {
    await rm(etc, { recursive: true });
  }
});

test('no Debian source anywhere is an error with a hint', async () => {
  const etc = await aptEtc({ 'sources.list': 'deb https://vendor.example/apt nodistro main\n' });
  try {
    await assert.rejects(discoverMirrors({ env: {}, aptEtc: etc }), (e: JeosError) => e.code === 'E_NO_MIRROR' && /JEOS_MIRROR/.test(e.hint ?? ''));
    await assert.rejects(discoverMirrors({ env: { JEOS_MIRROR: 'ftp://x.example/' }, aptEtc: etc }), (e: JeosError) => e.code === 'E_MIRROR_URL');
  } finally {
    await rm(etc, { recursive: true });
  }
});

test('a release name expands to its updates and security suites; other names are taken as written', () => {
  assert.deepEqual(expandSuites(['trixie']), ['trixie', 'trixie-updates', 'trixie-security']);
  assert.deepEqual(expandSuites(['bookworm,trixie-backports']), ['bookworm', 'bookworm-updates', 'bookworm-security', 'trixie-backports']);
  assert.deepEqual(expandSuites(['sid']), ['sid']);
});
