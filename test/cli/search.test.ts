// jeos search PATH, end to end on the compiled CLI against a signed loopback repository whose
// suites publish a Contents index (apt-ftparchive's, listed in the signed Release): which
// package ships a file, across suites, merged /usr, and the hint of jeos why /PATH that names it.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startHarness, trixieRepo, type Harness } from './harness.js';

const webd = (version: string) => ({
  name: 'webd',
  version,
  files: { '/usr/sbin/webd': { content: '#!/bin/sh\necho webd\n', mode: 0o755 }, '/usr/share/doc/webd/README': 'webd\n' },
});

describe('jeos search /PATH (the Contents index)', () => {
  let h: Harness;
  const jeos = (...args: string[]) => h.jeos(...args);

  before(async () => {
    h = await startHarness({
      ...trixieRepo(
        [
          webd('1.0-1'),
          // Two packages can ship one path (alternatives of each other, say).
          { name: 'webd-light', version: '0.5-1', files: { '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 } } },
          { name: 'tools', version: '2-1', files: { '/usr/bin/webctl': { content: '#!/bin/sh\n', mode: 0o755 } } },
        ],
        [webd('1.0-1+deb13u1')],
      ),
      contents: true,
    });
  });
  after(async () => {
    await h?.close();
  });

  test('--json: each path with the packages that ship it, their candidate version and suite', async () => {
    const r = await jeos('search', '/usr/sbin/webd', '/usr/bin/webctl', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      query: '/usr/sbin/webd /usr/bin/webctl',
      files: [
        {
          path: '/usr/sbin/webd',
          packages: [
            { name: 'webd', version: '1.0-1+deb13u1', suite: 'trixie-security' },
            { name: 'webd-light', version: '0.5-1', suite: 'trixie' },
          ],
        },
        { path: '/usr/bin/webctl', packages: [{ name: 'tools', version: '2-1', suite: 'trixie' }] },
      ],
    });
  });

  test('a path in its unmerged form (/sbin) finds the package that ships it under /usr; a path nobody ships is said so', async () => {
    const r = await jeos('search', '/sbin/webd', '/usr/bin/nothing');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/sbin\/webd +webd +1\.0-1\+deb13u1 \(trixie-security\)$/m);
    assert.match(r.stdout, /^\/sbin\/webd +webd-light +0\.5-1 \(trixie\)$/m);
    assert.match(r.stdout, /^no package in trixie, trixie-updates, trixie-security ships \/usr\/bin\/nothing$/m);
    assert.deepEqual(JSON.parse((await jeos('search', '/usr/bin/nothing', '--json')).stdout).files, [{ path: '/usr/bin/nothing', packages: [] }]);
  });

  test('the Contents index is cached: an offline search answers', async () => {
    const r = await jeos('search', '/usr/bin/webctl', '--offline', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).files[0].packages[0].name, 'tools');
  });

  test('words and paths together are refused, naming both ways', async () => {
    const r = await jeos('search', 'web', '/usr/sbin/webd');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[E_SEARCH_MIXED\]: search for words or for paths, not both: web \/usr\/sbin\/webd$/m);
    assert.match(r.stderr, /^hint: jeos search \/usr\/sbin\/webd finds the package that ships a file/m);
  });

  test('jeos why /PATH for a file the image lacks names the jeos search command, and that command answers', async () => {
    const dir = join(h.work, 'img');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'jeos.yaml'), 'name: webd\nworkload:\n  packages: [webd]\n  command: [/usr/sbin/webd]\n');
    const built = await jeos('build', dir, '--format', 'tar', '-q');
    assert.equal(built.code, 0, built.stderr);
    const why = await jeos('why', '/usr/bin/webctl', dir);
    assert.equal(why.code, 1);
    assert.match(why.stderr, /^error\[E_NOT_IN_IMAGE\]: \/usr\/bin\/webctl is not in the container image/m);
    const command = /^hint: check the spelling; (jeos search \/usr\/bin\/webctl) tells which package of the archive ships it$/m.exec(why.stderr)?.[1];
    assert.ok(command, why.stderr);
    const found = await jeos(...command.split(' ').slice(1), '--json');
    assert.equal(JSON.parse(found.stdout).files[0].packages[0].name, 'tools');
  });
});

describe('jeos search /PATH without a Contents index', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(trixieRepo([webd('1.0-1')], []));
  });
  after(async () => {
    await h?.close();
  });

  test('is refused, saying the archive publishes none', async () => {
    const r = await h.jeos('search', '/usr/sbin/webd', '--json');
    assert.equal(r.code, 1);
    const { error } = JSON.parse(r.stdout);
    assert.equal(error.code, 'E_SEARCH_NO_CONTENTS');
    assert.match(error.message, /^the archive publishes no Contents-amd64\.gz index to find \/usr\/sbin\/webd in$/);
    assert.ok(error.hint);
  });
});
