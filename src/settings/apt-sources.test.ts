import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mirrorFor } from '../archive/mirrors.js';
import { parseSourcesList, readAptSources } from './apt-sources.js';
import { resolveSettings } from './resolve.js';

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
    const { mirrors: m } = await resolveSettings({ env: {}, aptEtc: etc });
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
