// The fetch stage against a signed repository on loopback, when the mirror behaves: parallel
// downloads from each suite's mirror (or a file:// one), checked against the lock's size and
// sha256 before anything is stored, and the cache: warm, damaged, offline, not writable. How a
// failing mirror is retried, resumed or given up on: fetch-mirror-failures.test.ts.
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import type { SignedRepo } from '../../test/fixtures/signed-repo.js';
import { serveDirectory } from '../../test/fixtures/serve.js';
import { filesUnder, loopbackLock, MAIN, quick, rejectsWith, testServer } from '../../test/support/fetch/loopback.js';
import type { LockedPackage } from '../lock/types.js';
import { fetchPackages, type FetchEvent } from './index.js';

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

describe('fetch stage against a signed repository on loopback: downloads, their checks and the cache', () => {
  const lock = loopbackLock();
  const { newCache, pkg, lockOf, debPath } = lock;
  let repo: SignedRepo;
  let packages: LockedPackage[];
  let scratch: string;
  before(() => {
    ({ repo, packages, scratch } = lock);
  });

  /** A cache dir holding every package of the lock, filled through a plain static server. */
  async function filledCache(): Promise<string> {
    const cacheDir = newCache();
    const served = await serveDirectory(repo.root);
    try {
      await fetchPackages(lockOf(), { cacheDir, mirrors: () => served.url });
      return cacheDir;
    } finally {
      await served.close();
    }
  }

  test('cold: downloads in parallel from the suite’s mirror (security from the security mirror), verified, in lock order; warm: no request at all', async () => {
    const archive = await testServer(repo.root, { ranges: true, delayMs: 40 });
    const security = await testServer(repo.root, { ranges: true, delayMs: 40 });
    const cacheDir = newCache();
    const events: FetchEvent[] = [];
    try {
      const mirrors = { archive: archive.url, security: security.url, from: { archive: 'config', security: 'config' } } as const;
      const fetched = await fetchPackages(lockOf(), { cacheDir, mirrors, concurrency: 3, onEvent: (e) => events.push(e) });

      assert.deepEqual(fetched.map((f) => f.pkg.name), packages.map((p) => p.name));
      for (const f of fetched) {
        assert.equal(f.path, debPath(cacheDir, f.pkg));
        assert.equal(f.from, 'download');
        assert.deepEqual(await readFile(f.path), await readFile(repo.debPath(f.pkg.name)));
      }
      assert.deepEqual(security.hits.map((h) => h.path), [`/${pkg('openssl').filename}`]);
      assert.deepEqual(archive.hits.map((h) => h.path).sort(), MAIN.map((n) => `/${pkg(n).filename}`).sort());
      assert.ok(archive.maxInFlight >= 2 && archive.maxInFlight <= 3, `3 at a time at most, and more than one (saw ${archive.maxInFlight})`);
      assert.deepEqual(await filesUnder(join(cacheDir, 'debs', 'partial')), [], 'no partial file is left');

      const total = packages.reduce((n, p) => n + p.size, 0);
      assert.deepEqual(events.filter((e) => e.kind === 'start'), [{ kind: 'start', packages: 6, bytes: total, cached: 0 }]);
      assert.equal(events.filter((e) => e.kind === 'done').length, 6);
      const finished = events.at(-1);
      assert.ok(finished?.kind === 'finished');
      assert.deepEqual({ ...finished, ms: 0 }, { kind: 'finished', downloaded: 6, cached: 0, bytes: total, ms: 0 });
      const nginx = events.filter((e) => e.kind === 'progress' && e.pkg.name === 'nginx').map((e) => (e as { received: number }).received);
      assert.ok(nginx.length > 1, 'progress arrives in several steps');
      assert.deepEqual(nginx, [...nginx].sort((a, b) => a - b));
      assert.equal(nginx.at(-1), pkg('nginx').size);

      // Warm: the same cache through a plain static server.
      const served = await serveDirectory(repo.root);
      const warmEvents: FetchEvent[] = [];
      try {
        const again = await fetchPackages(lockOf(), { cacheDir, mirrors: () => served.url, onEvent: (e) => warmEvents.push(e) });
        assert.deepEqual(served.requests, [], 'a warm cache makes no request');
        assert.deepEqual(again.map((f) => [f.path, f.from]), fetched.map((f) => [f.path, 'cache']));
        assert.equal(warmEvents.filter((e) => e.kind === 'cached').length, 6);
        assert.ok(!warmEvents.some((e) => e.kind === 'start'));
      } finally {
        await served.close();
      }
    } finally {
      await archive.close();
      await security.close();
    }
  });

  test('a file:// mirror works', async () => {
    const cacheDir = newCache();
    const fetched = await fetchPackages(lockOf('nginx', 'zlib1g'), { cacheDir, mirrors: () => pathToFileURL(repo.root).href });
    assert.deepEqual(await readFile(fetched[0]!.path), await readFile(repo.debPath('nginx')));
  });

  test('a mirror serving other bytes of the same size is refused, naming package, URL and both digests; nothing lands in the cache', async () => {
    const server = await testServer(repo.root, {
      intercept: (_req, res, file) => {
        const bad = Buffer.from(file);
        bad.writeUInt8(bad.readUInt8(bad.length >> 1) ^ 0xff, bad.length >> 1);
        res.writeHead(200, { 'content-length': bad.length }).end(bad);
        return true;
      },
    });
    const cacheDir = newCache();
    try {
      const err = await rejectsWith(fetchPackages(lockOf('nginx'), { cacheDir, mirrors: () => server.url, ...quick }), 'E_FETCH_CHECKSUM');
      const p = pkg('nginx');
      assert.match(err.message, /nginx 1\.0-1/);
      assert.ok(err.message.includes(`${server.url}${p.filename}`), err.message);
      assert.ok(err.message.includes(`the lock says ${p.sha256}`) && err.details.some((d) => d.includes(p.sha256)), 'expected digest');
      const actual = /sha256 is ([0-9a-f]{64})/.exec(err.message)?.[1];
      assert.ok(actual && actual !== p.sha256 && err.details.some((d) => d.includes(actual)), 'actual digest');
      assert.match(err.hint!, /jeos lock/);
      assert.equal(await exists(debPath(cacheDir, p)), false, 'the bad bytes are not at the cache path');
      assert.deepEqual(await filesUnder(join(cacheDir, 'debs')), ['partial'], 'no partial file either, only its empty directory');
      assert.equal(server.hits.length, 1, 'a mismatch is not retried');
    } finally {
      await server.close();
    }
  });

  test('a mirror serving a file of another size is refused before it is stored', async () => {
    const other = await readFile(repo.debPath('libc6'));
    const server = await testServer(repo.root, {
      intercept: (_req, res) => (res.writeHead(200, { 'content-length': other.length }).end(other), true),
    });
    const cacheDir = newCache();
    try {
      const err = await rejectsWith(fetchPackages(lockOf('nginx'), { cacheDir, mirrors: () => server.url, ...quick }), 'E_FETCH_CHECKSUM');
      assert.match(err.message, new RegExp(`it is ${other.length} bytes, the lock says ${pkg('nginx').size}`));
      assert.equal(await exists(debPath(cacheDir, pkg('nginx'))), false);
    } finally {
      await server.close();
    }
  });

  test('a damaged cached file (edited, or cut short) is noticed and fetched again; the intact ones are not', async () => {
    const cacheDir = await filledCache();
    const edited = debPath(cacheDir, pkg('libssl3'));
    const bytes = await readFile(edited);
    bytes.writeUInt8(bytes.readUInt8(100) ^ 1, 100);
    await writeFile(edited, bytes);
    await writeFile(debPath(cacheDir, pkg('zlib1g')), bytes.subarray(0, 1000));
    const served = await serveDirectory(repo.root);
    const events: FetchEvent[] = [];
    try {
      const fetched = await fetchPackages(lockOf(), { cacheDir, mirrors: () => served.url, onEvent: (e) => events.push(e) });
      assert.deepEqual(served.requests.sort(), [`/${pkg('libssl3').filename}`, `/${pkg('zlib1g').filename}`].sort());
      assert.deepEqual(events.filter((e) => e.kind === 'damaged').map((e) => (e as { pkg: LockedPackage }).pkg.name).sort(), ['libssl3', 'zlib1g']);
      for (const f of fetched) assert.deepEqual(await readFile(f.path), await readFile(repo.debPath(f.pkg.name)));
    } finally {
      await served.close();
    }
  });

  test('offline with everything cached makes no request and needs no mirror', async () => {
    const cacheDir = await filledCache();
    const fetched = await fetchPackages(lockOf(), { cacheDir, mirrors: () => 'http://127.0.0.1:9/', offline: true });
    assert.ok(fetched.every((f) => f.from === 'cache'));
  });

  test('offline with packages missing names every one of them', async () => {
    const cacheDir = await filledCache();
    await rm(debPath(cacheDir, pkg('nginx')));
    await rm(debPath(cacheDir, pkg('openssl')));
    const served = await serveDirectory(repo.root);
    try {
      const err = await rejectsWith(fetchPackages(lockOf(), { cacheDir, mirrors: () => served.url, offline: true }), 'E_FETCH_OFFLINE_MISSING');
      assert.match(err.message, /2 of 6 packages are not in the cache: nginx, openssl$/);
      assert.deepEqual(err.details.map((d) => d.split(' ')[0]), ['nginx', 'openssl']);
      assert.match(err.hint!, /without --offline/);
      assert.deepEqual(served.requests, []);
    } finally {
      await served.close();
    }
  });

  test('a cache directory that cannot be written is E_CACHE_IO, not a crash', async () => {
    const notADir = join(scratch, 'a-file');
    await writeFile(notADir, 'x');
    const served = await serveDirectory(repo.root);
    try {
      const err = await rejectsWith(fetchPackages(lockOf('nginx'), { cacheDir: notADir, mirrors: () => served.url }), 'E_CACHE_IO');
      assert.match(err.message, /ENOTDIR/);
      assert.ok(err.hint!.includes(notADir));
    } finally {
      await served.close();
    }
  });

  test('a lock entry whose sha256 is not a digest is refused before any path is made from it', async () => {
    const bad = { ...pkg('nginx'), sha256: '../../../etc/passwd' };
    const err = await rejectsWith(fetchPackages({ packages: [bad] }, { cacheDir: newCache(), mirrors: () => 'http://127.0.0.1:9/' }), 'E_LOCK_INVALID');
    assert.match(err.message, /nginx 1\.0-1.*sha256/);
  });
});
