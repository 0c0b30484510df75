// The fetch stage against a signed repository on loopback, when the mirror fails: a server error
// retried with backoff, a transfer cut off, stalled or ended early resumed with a Range request
// (or taken whole from a server that ignores Range), a partial file from an earlier run, and the
// failures that are not retried: no answer, a trickle, an unreachable mirror, a missing file.
// Downloads from a mirror that behaves, and the cache: fetch-download.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { SignedRepo } from '../../test/fixtures/signed-repo.js';
import { filesUnder, loopbackLock, quick, rejectsWith, testServer, type Intercept } from '../../test/support/fetch/loopback.js';
import { fetchPackages, type FetchEvent } from './index.js';

/** A loopback URL nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return `http://127.0.0.1:${port}/`;
}

describe('fetch stage against a signed repository on loopback: a failing mirror', () => {
  const lock = loopbackLock();
  const { newCache, pkg, lockOf } = lock;
  const QUICK_TIMEOUTS = { connectMs: 500, stallMs: 500, deadlineMs: 60_000 };
  let repo: SignedRepo;
  before(() => {
    repo = lock.repo;
  });

  test('a server failing with 500 at first is retried with backoff and recovers', async () => {
    const server = await testServer(repo.root, {
      intercept: (_req, res, _file, n) => n === 1 && (res.writeHead(500).end('busy'), true),
    });
    const events: FetchEvent[] = [];
    try {
      const fetched = await fetchPackages(lockOf('libc6', 'nginx'), { cacheDir: newCache(), mirrors: () => server.url, ...quick, onEvent: (e) => events.push(e) });
      assert.equal(server.hits.length, 4, 'each file asked for twice');
      const retries = events.filter((e) => e.kind === 'retry');
      assert.equal(retries.length, 2);
      for (const r of retries) assert.ok(r.kind === 'retry' && r.error.code === 'E_HTTP_STATUS' && r.attempt === 1 && r.delayMs === 5);
      for (const f of fetched) assert.deepEqual(await readFile(f.path), await readFile(repo.debPath(f.pkg.name)));
    } finally {
      await server.close();
    }
  });

  /** First answer: the headers for the whole file, half the body, then the connection drops. */
  const cutInHalf: Intercept = (_req, res, file, n) => {
    if (n !== 1) return false;
    res.writeHead(200, { 'content-length': file.length });
    res.write(file.subarray(0, file.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
    return true;
  };

  test('a transfer cut off halfway is resumed with a Range request', async () => {
    const server = await testServer(repo.root, { ranges: true, intercept: cutInHalf });
    const events: FetchEvent[] = [];
    const p = pkg('nginx');
    try {
      const [fetched] = await fetchPackages(lockOf('nginx'), { cacheDir: newCache(), mirrors: () => server.url, ...quick, onEvent: (e) => events.push(e) });
      const half = p.size >> 1;
      assert.deepEqual(server.hits.map((h) => h.range), [undefined, `bytes=${half}-`]);
      const retry = events.find((e) => e.kind === 'retry');
      assert.ok(retry?.kind === 'retry' && retry.error.code === 'E_MIRROR_UNREACHABLE' && retry.resumeFrom === half);
      const done = events.find((e) => e.kind === 'done');
      assert.ok(done?.kind === 'done' && done.bytes === p.size, 'half, then the other half');
      assert.deepEqual(await readFile(fetched!.path), await readFile(repo.debPath('nginx')));
    } finally {
      await server.close();
    }
  });

  test('a connection that stalls, or a body that ends early without a length, is retried from where it stopped', async () => {
    const p = pkg('nginx');
    const quarter = p.size >> 2;
    const stalls: Intercept = (_req, res, file, n) => {
      if (n !== 1) return false;
      res.writeHead(200, { 'content-length': file.length });
      res.write(file.subarray(0, quarter)); // then nothing: the idle timeout must give up
      return true;
    };
    const endsEarly: Intercept = (_req, res, file, n) => {
      if (n !== 1) return false;
      res.writeHead(200); // chunked, no length: a clean end before the lock's size
      res.end(file.subarray(0, quarter));
      return true;
    };
    for (const [intercept, code] of [[stalls, 'E_MIRROR_TIMEOUT'], [endsEarly, 'E_FETCH_TRUNCATED']] as const) {
      const server = await testServer(repo.root, { ranges: true, intercept });
      const events: FetchEvent[] = [];
      try {
        const [fetched] = await fetchPackages(lockOf('nginx'), {
          cacheDir: newCache(),
          mirrors: () => server.url,
          timeouts: { connectMs: 5000, stallMs: 200, deadlineMs: 5000 },
          ...quick,
          onEvent: (e) => events.push(e),
        });
        assert.deepEqual(server.hits.map((h) => h.range), [undefined, `bytes=${quarter}-`]);
        const retry = events.find((e) => e.kind === 'retry');
        assert.ok(retry?.kind === 'retry' && retry.error.code === code, `${code}: ${retry?.kind === 'retry' ? retry.error.message : 'no retry'}`);
        assert.deepEqual(await readFile(fetched!.path), await readFile(repo.debPath('nginx')));
      } finally {
        await server.close();
      }
    }
  });

  test('a mirror that accepts and never answers fails after the connect limit, not retried, reporting while it waits', { timeout: 60_000 }, async () => {
    const sockets = new Set<Socket>();
    let connections = 0;
    const silent = createNetServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const events: FetchEvent[] = [];
    const started = performance.now();
    try {
      const err = await rejectsWith(
        fetchPackages(lockOf('nginx'), { cacheDir: newCache(), mirrors: () => url, timeouts: QUICK_TIMEOUTS, ...quick, onEvent: (e) => events.push(e) }),
        'E_MIRROR_TIMEOUT',
      );
      assert.ok(performance.now() - started < 10_000, 'bounded');
      assert.match(err.message, /^nginx 1\.0-1 \(amd64\): http:\/\/127\.0\.0\.1:\d+\/pool\/\S+nginx\S+\.deb did not answer within 0\.5 s$/);
      assert.match(err.hint!, /--offline/);
      assert.equal(connections, 1, 'a mirror that never answered is not asked again');
      assert.ok(!events.some((e) => e.kind === 'retry'));
      const waiting = events.filter((e) => e.kind === 'waiting');
      assert.ok(waiting.length > 0 && waiting.every((e) => e.kind === 'waiting' && e.pkg.name === 'nginx' && e.phase === 'connect'), 'waiting is reported, per package');
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((ok) => silent.close(() => ok()));
    }
  });

  test('a mirror that trickles a byte at a time fails after the stall limit, and the bytes it sent are kept to resume', { timeout: 60_000 }, async () => {
    const trickle: Intercept = (_req, res, file) => {
      res.writeHead(200, { 'content-length': file.length });
      let at = 0;
      const t = setInterval(() => res.write(file.subarray(at, ++at)), 50);
      res.on('close', () => clearInterval(t));
      return true;
    };
    const server = await testServer(repo.root, { intercept: trickle });
    const cacheDir = newCache();
    const started = performance.now();
    try {
      const err = await rejectsWith(
        fetchPackages(lockOf('nginx'), { cacheDir, mirrors: () => server.url, timeouts: QUICK_TIMEOUTS, ...quick }),
        'E_MIRROR_TIMEOUT',
      );
      assert.ok(performance.now() - started < 10_000, 'bounded');
      assert.match(err.message, /stalled: less than 1024 bytes in 0\.5 s \(\d+ bytes received\)/);
      assert.equal(server.hits.length, 1, 'a trickle is not retried');
      const partials = await filesUnder(join(cacheDir, 'debs', 'partial'));
      assert.equal(partials.length, 1, 'the partial download stays for the next run');
      assert.ok((await stat(join(cacheDir, 'debs', 'partial', partials[0]!))).size > 0);
    } finally {
      await server.close();
    }
  });

  test('a server that ignores Range answers the retry with the whole file, which is taken from the start', async () => {
    const server = await testServer(repo.root, { ranges: false, intercept: cutInHalf });
    const p = pkg('nginx');
    try {
      const [fetched] = await fetchPackages(lockOf('nginx'), { cacheDir: newCache(), mirrors: () => server.url, ...quick });
      assert.deepEqual(server.hits.map((h) => h.range), [undefined, `bytes=${p.size >> 1}-`]);
      assert.deepEqual(await readFile(fetched!.path), await readFile(repo.debPath('nginx')));
    } finally {
      await server.close();
    }
  });

  test('a partial file left by an earlier, finished run is resumed; a stale one is detected and fetched whole', async () => {
    const p = pkg('nginx');
    const whole = await readFile(repo.debPath('nginx'));
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    for (const [prefix, expected] of [
      [whole.subarray(0, 1000), [`bytes=1000-`]],
      [Buffer.alloc(1000, 7), [`bytes=1000-`, undefined]],
    ] as const) {
      const cacheDir = newCache();
      const partialDir = join(cacheDir, 'debs', 'partial');
      await mkdir(partialDir, { recursive: true });
      await writeFile(join(partialDir, `${p.sha256}.${deadPid}.part`), prefix);
      const server = await testServer(repo.root, { ranges: true });
      try {
        const [fetched] = await fetchPackages(lockOf('nginx'), { cacheDir, mirrors: () => server.url, ...quick });
        assert.deepEqual(server.hits.map((h) => h.range), expected);
        assert.deepEqual(await readFile(fetched!.path), whole);
        assert.deepEqual(await filesUnder(partialDir), []);
      } finally {
        await server.close();
      }
    }
  });

  test('an unreachable mirror is E_MIRROR_UNREACHABLE naming the package and URL, after its retries', async () => {
    const url = await closedPort();
    const events: FetchEvent[] = [];
    const err = await rejectsWith(
      fetchPackages(lockOf('nginx'), { cacheDir: newCache(), mirrors: () => url, retries: 2, ...quick, onEvent: (e) => events.push(e) }),
      'E_MIRROR_UNREACHABLE',
    );
    assert.match(err.message, /^nginx 1\.0-1 \(amd64\): cannot reach http:\/\/127\.0\.0\.1:\d+\/pool\/.*nginx.*ECONNREFUSED/);
    assert.match(err.hint!, /JEOS_MIRROR/);
    assert.deepEqual(events.filter((e) => e.kind === 'retry').map((e) => (e as { delayMs: number }).delayMs), [5, 10]);
  });

  test('a file the mirror no longer has is E_HTTP_NOT_FOUND, not retried, with a hint to lock again', async () => {
    const server = await testServer(repo.root);
    try {
      const gone = { ...pkg('nginx'), filename: 'pool/main/n/nginx/nginx_0.9-1_amd64.deb' };
      const err = await rejectsWith(fetchPackages({ packages: [gone] }, { cacheDir: newCache(), mirrors: () => server.url, ...quick }), 'E_HTTP_NOT_FOUND');
      assert.match(err.message, /nginx_0\.9-1_amd64\.deb/);
      assert.match(err.hint!, /jeos lock/);
      assert.equal(server.hits.length, 1);
    } finally {
      await server.close();
    }
  });
});
