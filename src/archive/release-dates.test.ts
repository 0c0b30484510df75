// The archive cannot be rolled back or dated in the future: the newest Release Date seen per
// suite identity is remembered in the cache, whichever mirror served it, online and offline.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSignedRepo, releaseDate, type SignedRepo } from '../../test/fixtures/signed-repo.js';
import { serveDirectory, type Served } from '../../test/fixtures/serve.js';
import { JeosError } from '../errors.js';
import { resolveSettings, type Settings } from '../settings/index.js';
import type { ArchiveEvent } from './client.js';
import { openArchive } from './open.js';
import { RELEASE_DATES_FILE } from './release-dates.js';
import { MAX_FUTURE_MS } from './release.js';

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<JeosError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof JeosError, `expected JeosError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

const DAY = 86400_000;
// Whole seconds: a Release's Date has no fractions.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const validUntil = new Date(NOW.getTime() + 30 * DAY);
const suite = (date: Date) => ({
  suites: [{ suite: 'trixie', validUntil, date, packages: [{ name: 'web', version: date === NOW ? '2.0-1' : '1.0-1' }] }],
});

/** Re-date a suite's Release (valid for 30 days from then) and sign it again with the archive key. */
async function redate(repo: SignedRepo, date: Date): Promise<void> {
  const path = join(repo.root, 'dists', 'trixie', 'Release');
  const text = await readFile(path, 'utf8');
  await writeFile(
    path,
    text.replace(/^Date: .*$/m, `Date: ${releaseDate(date)}`).replace(/^Valid-Until: .*$/m, `Valid-Until: ${releaseDate(new Date(date.getTime() + 30 * DAY))}`),
  );
  await repo.resign('trixie');
}

describe('Release dates: no rollback, no future', () => {
  // Two mirrors of one archive (same origin, suite and key): one current, one a day behind.
  let current: SignedRepo;
  let stale: SignedRepo;
  let currentServed: Served;
  let staleServed: Served;
  const dirs: string[] = [];

  before(async () => {
    current = await buildSignedRepo(suite(NOW));
    stale = await buildSignedRepo(suite(new Date(NOW.getTime() - DAY)));
    currentServed = await serveDirectory(current.root);
    staleServed = await serveDirectory(stale.root);
  });
  after(async () => {
    await currentServed?.close();
    await staleServed?.close();
    await current?.cleanup();
    await stale?.cleanup();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function cache(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'jeos-dates-'));
    dirs.push(dir);
    return dir;
  }

  function settings(
    cacheDir: string,
    mirror: string,
    extra: { offline?: boolean; allowDowngrade?: boolean; now?: Date; keyring?: string; onEvent?: (e: ArchiveEvent) => void } = {},
  ): Promise<Settings> {
    return resolveSettings({
      flags: { mirror, securityMirror: mirror, keyring: extra.keyring ?? current.keyring, cacheDir, offline: extra.offline, allowDowngrade: extra.allowDowngrade },
      env: {},
      aptEtc: '/nonexistent',
      debian: { suites: ['trixie'] },
      now: () => extra.now ?? new Date(),
      ...(extra.onEvent ? { onEvent: extra.onEvent } : {}),
    });
  }

  test('a mirror that serves an older Release than one seen before (from another mirror) is refused, and nothing of it is kept', async () => {
    const cacheDir = await cache();
    await openArchive(await settings(cacheDir, currentServed.url));
    const dates = await readFile(join(cacheDir, RELEASE_DATES_FILE), 'utf8');
    assert.match(dates, new RegExp(NOW.toISOString()));
    const before = staleServed.requests.length;
    const e = await rejectsWith(openArchive(await settings(cacheDir, staleServed.url)), 'E_RELEASE_ROLLBACK');
    // The suite, both dates and both mirrors are named.
    assert.match(e.message, /InRelease of trixie from http:\/\/127\.0\.0\.1:\d+\//);
    assert.ok(e.message.includes(staleServed.url) && e.message.includes(currentServed.url), e.message);
    assert.ok(e.message.includes(new Date(NOW.getTime() - DAY).toISOString()) && e.message.includes(NOW.toISOString()), e.message);
    assert.match(e.hint!, /stale or hostile.*--allow-downgrade/);
    // Refused before any index was fetched; the refused InRelease is not cached; the newest date stays.
    assert.deepEqual(staleServed.requests.slice(before), ['/dists/trixie/InRelease']);
    assert.equal(await readFile(join(cacheDir, RELEASE_DATES_FILE), 'utf8'), dates);
    const staleKey = staleServed.url.replace(/^http:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_').replace(/_+$/, '');
    await assert.rejects(readFile(join(cacheDir, 'dists', staleKey, 'trixie', 'InRelease')), { code: 'ENOENT' });
  });

  test('the same mirror rolled back in place is refused too; the newer Release again is fine', async () => {
    const cacheDir = await cache();
    const original = await readFile(join(current.root, 'dists/trixie/Release'));
    const s = await settings(cacheDir, currentServed.url);
    await openArchive(s);
    try {
      await redate(current, new Date(NOW.getTime() - 3600_000));
      await rejectsWith(openArchive(s), 'E_RELEASE_ROLLBACK', /older than the newest Release jeos has seen for trixie of JEOS Fixtures/);
    } finally {
      await writeFile(join(current.root, 'dists/trixie/Release'), original);
      await current.resign('trixie');
    }
    assert.equal((await openArchive(s)).packages[0]!.version, '2.0-1', 'the same date as the newest seen is accepted');
  });

  test('--allow-downgrade accepts the older Release, says so, and keeps remembering the newest', async () => {
    const cacheDir = await cache();
    await openArchive(await settings(cacheDir, currentServed.url));
    const dates = await readFile(join(cacheDir, RELEASE_DATES_FILE), 'utf8');
    const events: ArchiveEvent[] = [];
    const index = await openArchive(await settings(cacheDir, staleServed.url, { allowDowngrade: true, onEvent: (e) => events.push(e) }));
    assert.equal(index.packages[0]!.version, '1.0-1', 'the older archive was read');
    const note = events.find((e) => e.kind === 'downgrade');
    assert.ok(note?.kind === 'downgrade' && note.newest.getTime() === NOW.getTime() && note.newestMirror === currentServed.url, JSON.stringify(note));
    assert.equal(await readFile(join(cacheDir, RELEASE_DATES_FILE), 'utf8'), dates, 'the newest date is not lowered');
    await rejectsWith(openArchive(await settings(cacheDir, staleServed.url)), 'E_RELEASE_ROLLBACK');
  });

  test('offline, an older InRelease in the cache is refused once a newer one was seen elsewhere', async () => {
    const cacheDir = await cache();
    // The stale mirror first (cached), then the current one: the cached stale InRelease is now a rollback.
    await openArchive(await settings(cacheDir, staleServed.url));
    await openArchive(await settings(cacheDir, currentServed.url));
    const before = staleServed.requests.length;
    const e = await rejectsWith(openArchive(await settings(cacheDir, staleServed.url, { offline: true })), 'E_RELEASE_ROLLBACK', /cached from/);
    assert.ok(e.message.includes(NOW.toISOString()));
    assert.equal(staleServed.requests.length, before, 'offline: no request');
    // The current mirror's cached copy is fine offline.
    assert.equal((await openArchive(await settings(cacheDir, currentServed.url, { offline: true }))).packages[0]!.version, '2.0-1');
  });

  test('the signing key is part of the identity: another archive signing the same names is not a rollback of this one', async () => {
    const cacheDir = await cache();
    await openArchive(await settings(cacheDir, currentServed.url));
    const original = await readFile(join(stale.root, 'dists/trixie/InRelease'));
    try {
      await stale.signWithOtherKey('trixie');
      const index = await openArchive(await settings(cacheDir, staleServed.url, { keyring: stale.otherKeyring }));
      assert.equal(index.packages[0]!.version, '1.0-1');
      const dates = JSON.parse(await readFile(join(cacheDir, RELEASE_DATES_FILE), 'utf8')) as { suites: Array<{ signer: string }> };
      assert.equal(new Set(dates.suites.map((s) => s.signer)).size, 2, 'one entry per signing key');
    } finally {
      await writeFile(join(stale.root, 'dists/trixie/InRelease'), original);
    }
  });

  test('a Release dated beyond the clock skew is refused (and never remembered); within it, or with the clock set, it is accepted', async () => {
    const cacheDir = await cache();
    const original = await readFile(join(current.root, 'dists/trixie/Release'));
    const yearAhead = new Date(NOW.getTime() + 365 * DAY);
    try {
      await redate(current, yearAhead);
      const e = await rejectsWith(openArchive(await settings(cacheDir, currentServed.url, { now: NOW })), 'E_RELEASE_FUTURE', /dated \S+, 365 days ahead of this machine's clock/);
      assert.ok(e.message.includes(yearAhead.toISOString()));
      assert.match(e.hint!, /clock/);
      await assert.rejects(readFile(join(cacheDir, RELEASE_DATES_FILE)), { code: 'ENOENT' }, 'a refused date is not remembered');
      // The settings' clock decides: a year later, the same Release is current.
      await openArchive(await settings(cacheDir, currentServed.url, { now: new Date(yearAhead.getTime() - 60_000) }));
      await redate(current, new Date(NOW.getTime() + MAX_FUTURE_MS - 60_000));
      await openArchive(await settings(await cache(), currentServed.url, { now: NOW }));
      await redate(current, new Date(NOW.getTime() + MAX_FUTURE_MS + 60_000));
      await rejectsWith(openArchive(await settings(await cache(), currentServed.url, { now: NOW })), 'E_RELEASE_FUTURE', /1 hour ahead/);
    } finally {
      await writeFile(join(current.root, 'dists/trixie/Release'), original);
      await current.resign('trixie');
    }
  });

  test('a damaged dates file is refused with a code naming it, not silently forgotten', async () => {
    const cacheDir = await cache();
    await writeFile(join(cacheDir, RELEASE_DATES_FILE), '{"version":1,"suites":[{"origin":');
    const e = await rejectsWith(openArchive(await settings(cacheDir, currentServed.url)), 'E_RELEASE_DATES_DAMAGED');
    assert.ok(e.message.includes(join(cacheDir, RELEASE_DATES_FILE)));
    assert.match(e.hint!, /delete/);
  });
});
