// The live tier's helper (test/live.ts) against the real refusals of jeos: a signed repository on
// loopback serves a Packages or Contents index that is not the one its Release lists, or has lost
// one, and jeos fails with E_INDEX_HASH_MISMATCH or E_INDEX_NOT_ON_MIRROR. live() skips on exactly
// those, with the reason, whether the error comes from the library or from a run of the built CLI
// (its JSON or its text); every other failure still fails the test.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadArchive } from '../src/archive/client.js';
import { JeosError } from '../src/errors.js';
import { root, runProgram, startHarness, trixieRepo, type Harness } from './cli/harness.js';
import { checkedRun, live, type Skipper } from './live.js';

/** A test context that records skips (node:test's own is checked in the last test). */
function recorder(): Skipper & { skipped: string[] } {
  const skipped: string[] = [];
  return { skipped, skip: (reason?: string) => void skipped.push(reason ?? '') };
}

describe('live(): a mirror inconsistent with its signed Release skips, anything else fails', () => {
  let h: Harness;
  const trixie = () => join(h.repo.root, 'dists', 'trixie');
  const load = (keyring = h.repo.keyring) =>
    loadArchive({
      mirrors: { archive: h.served.url, security: h.served.url, from: { archive: 'environment', security: 'environment' } },
      suites: ['trixie'],
      components: ['main'],
      architecture: 'amd64',
      keyring,
      cacheDir: join(h.work, `cache-${Math.random().toString(36).slice(2)}`),
    });

  /** Change files under dists/trixie/DIR for one test, then put them back. */
  async function whileBroken(dir: string, breakIt: (dir: string) => Promise<void>, use: () => Promise<void>): Promise<void> {
    const path = join(trixie(), dir);
    const saved = await mkdtemp(join(tmpdir(), 'jeos-saved-'));
    await cp(path, saved, { recursive: true });
    try {
      await breakIt(path);
      await use();
    } finally {
      await rm(path, { recursive: true });
      await cp(saved, path, { recursive: true });
      await rm(saved, { recursive: true, force: true });
    }
  }
  const byHashGone = (dir: string) => rm(join(dir, 'by-hash'), { recursive: true });

  before(async () => {
    h = await startHarness({ ...trixieRepo([{ name: 'hello', version: '1', files: { '/usr/bin/hello': { content: '#!/bin/sh\n', mode: 0o755 } } }], []), contents: true });
  });
  after(async () => {
    await h?.close();
  });

  test('a Packages index other than the Release lists, its by-hash copy gone: E_INDEX_HASH_MISMATCH, skipped with the reason', async () => {
    await whileBroken(
      'main/binary-amd64',
      async (dir) => {
        await byHashGone(dir);
        for (const name of ['Packages.xz', 'Packages.gz']) await writeFile(join(dir, name), 'not the index\n');
      },
      async () => {
        const t = recorder();
        await live(async () => void (await load()))(t);
        assert.equal(t.skipped.length, 1);
        assert.match(t.skipped[0]!, /^the mirror is inconsistent, not jeos: E_INDEX_HASH_MISMATCH: http:\/\/127\.0\.0\.1:\d+\/dists\/trixie\/main\/binary-amd64\/Packages\.xz does not match the signed Release/);
        assert.match(t.skipped[0]!, /not on the mirror: .*by-hash\/SHA256\/[0-9a-f]{64}/);
      },
    );
  });

  test('a Packages index the Release lists but the mirror lacks: E_INDEX_NOT_ON_MIRROR, skipped', async () => {
    await whileBroken(
      'main/binary-amd64',
      async (dir) => {
        await byHashGone(dir);
        for (const name of await readdir(dir)) await rm(join(dir, name));
      },
      async () => {
        await assert.rejects(load(), (e: JeosError) => e.code === 'E_INDEX_NOT_ON_MIRROR' && /lists main\/binary-amd64\/Packages\.xz, but http:\S+ does not have it/.test(e.message));
        const t = recorder();
        await live(async () => void (await load()))(t);
        assert.match(t.skipped[0] ?? '', /^the mirror is inconsistent, not jeos: E_INDEX_NOT_ON_MIRROR: /);
      },
    );
  });

  test('a tampered Contents index met by the built CLI (its JSON and its text): the run throws the mirror error, live() skips', async () => {
    await whileBroken(
      'main',
      async (dir) => {
        await rm(join(dir, 'by-hash'), { recursive: true, force: true });
        await writeFile(join(dir, 'Contents-amd64.gz'), 'not the index\n');
      },
      async () => {
        for (const json of [['--json'], []]) {
          const args = ['search', '/usr/bin/hello', ...json];
          await assert.rejects(checkedRun(args, { env: h.env, cwd: h.work }), (e: JeosError) => e.code === 'E_INDEX_HASH_MISMATCH' && /^jeos search \/usr\/bin\/hello.*: .*Contents-amd64\.gz does not match the signed Release/.test(e.message));
          const t = recorder();
          await live(async () => void (await checkedRun(args, { env: h.env, cwd: h.work })))(t);
          assert.match(t.skipped[0] ?? '', /E_INDEX_HASH_MISMATCH: jeos search .*Contents-amd64\.gz does not match the signed Release/, json.join(''));
          assert.match(t.skipped[0] ?? '', /\(not on the mirror: http:\S+\/dists\/trixie\/main\/by-hash\/SHA256\/[0-9a-f]{64}\)$/, json.join(''));
        }
      },
    );
    // The same search against the intact mirror answers.
    const r = await checkedRun(['search', '/usr/bin/hello', '--json'], { env: h.env, cwd: h.work });
    assert.equal(JSON.parse(r.stdout).files[0].packages[0].name, 'hello');
  });

  test('other failures are not skipped: a wrong key, a failed run of the CLI, a failed assertion', async () => {
    const t = recorder();
    await assert.rejects(live(async () => void (await load(h.repo.otherKeyring)))(t), (e: JeosError) => e.code === 'E_SIGNATURE_UNKNOWN_KEY');
    // The CLI's failure is returned for the test to check, and the check fails the test.
    const failing = live(async () => {
      const r = await checkedRun(['show', 'nosuch', '--json'], { env: h.env, cwd: h.work });
      assert.equal(JSON.parse(r.stdout).error.code, 'E_PACKAGE_NOT_FOUND');
      assert.equal(r.code, 0, 'jeos show nosuch');
    });
    await assert.rejects(failing(t), assert.AssertionError);
    assert.deepEqual(t.skipped, []);
  });

  test('under node:test the skip is reported with its reason and fails nothing; another failure fails', async () => {
    const file = join(h.work, 'helper.test.ts');
    // A cache of its own: the intact Contents index another test read is cached under its SHA256.
    const harnessEnv = JSON.stringify({ ...h.env, JEOS_CACHE_DIR: join(h.work, 'cache-node-test') });
    await writeFile(
      file,
      `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkedRun, live } from ${JSON.stringify(join(root, 'test/live.ts'))};
const env = ${harnessEnv};
test('search', live(async () => { await checkedRun(['search', '/usr/bin/hello', '--json'], { env }); assert.fail('not reached'); }));
test('show', live(async () => { assert.equal((await checkedRun(['show', 'nosuch'], { env })).code, 0); }));
`,
    );
    await whileBroken(
      'main',
      async (dir) => writeFile(join(dir, 'Contents-amd64.gz'), 'not the index\n').then(() => rm(join(dir, 'by-hash'), { recursive: true, force: true })),
      async () => {
        // Asynchronous, so the loopback mirror in this process keeps answering; without NODE_TEST_CONTEXT,
        // which would make the child a part of this run instead of a run of its own.
        const { NODE_TEST_CONTEXT: _, ...env } = process.env;
        const r = await runProgram([process.execPath, '--import', 'tsx', '--test', '--test-reporter=tap', file], { cwd: root, env });
        assert.match(r.stdout, /^ok 1 - search # SKIP the mirror is inconsistent, not jeos: E_INDEX_HASH_MISMATCH: jeos search /m, r.stdout + r.stderr);
        assert.match(r.stdout, /^not ok 2 - show$/m, r.stdout);
        assert.match(r.stdout, /^# skipped 1$/m);
        assert.match(r.stdout, /^# fail 1$/m);
        assert.equal(r.code, 1, r.stderr);
      },
    );
  });
});
