import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { trixieRepo } from '../../test/cli/harness.js';
import { buildSignedRepo, type SignedRepo } from '../../test/fixtures/signed-repo.js';
import { serveDirectory } from '../../test/fixtures/serve.js';
import { JeosError } from '../errors.js';
import type { LockedPackage } from '../lock/types.js';
import { fetchPackages, type FetchEvent, type FetchPackagesOptions } from './index.js';

/** Incompressible-ish text, so the .debs are a few hundred KiB and arrive in many chunks. */
function noise(seed: string, bytes: number): string {
  const parts: string[] = [];
  let h = seed;
  for (let n = 0; n < bytes; n += 64) parts.push((h = createHash('sha256').update(h).digest('hex')));
  return parts.join('\n');
}

const MAIN = ['base-files', 'libc6', 'libssl3', 'nginx', 'zlib1g'];

interface Hit {
  path: string;
  range: string | undefined;
}

/** What a test server does with the n-th request (from 1) for a path; return true when it answered itself. */
type Intercept = (req: IncomingMessage, res: ServerResponse, file: Buffer, n: number) => boolean;

/**
 * A static server over the repository root that can fail on purpose: answer Range requests
 * or ignore them, hold each answer a little (to see downloads overlap), or let `intercept` answer.
 */
async function testServer(root: string, opts: { ranges?: boolean; delayMs?: number; intercept?: Intercept } = {}) {
  const hits: Hit[] = [];
  const counts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.push({ path, range: req.headers.range });
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    res.on('close', () => inFlight--);
    void (async () => {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const file = await readFile(join(root, path)).catch(() => undefined);
      if (!file) return void res.writeHead(404).end();
      if (opts.intercept?.(req, res, file, n)) return;
      const m = opts.ranges ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
      const from = m ? Number(m[1]) : 0;
      if (m && from >= file.length) return void res.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
      if (m) {
        res.writeHead(206, { 'content-length': file.length - from, 'content-range': `bytes ${from}-${file.length - 1}/${file.length}` });
        return void res.end(file.subarray(from));
      }
      res.writeHead(200, { 'content-length': file.length, 'accept-ranges': opts.ranges ? 'bytes' : 'none' }).end(file);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    hits,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok()))),
  };
}

/** A loopback URL nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return `http://127.0.0.1:${port}/`;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<JeosError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof JeosError, `expected JeosError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [] as string[])).sort();
}

describe('fetch stage against a signed repository on loopback', () => {
  let repo: SignedRepo;
  let packages: LockedPackage[];
  let scratch: string;
  let caches = 0;
  const newCache = () => join(scratch, `cache-${++caches}`);
  const pkg = (name: string) => packages.find((p) => p.name === name)!;
  const lockOf = (...names: string[]) => ({ packages: names.length ? names.map(pkg) : packages });
  const debPath = (cacheDir: string, p: LockedPackage) => join(cacheDir, 'debs', 'sha256', p.sha256);
  const quick = { retryDelayMs: 5 } satisfies Partial<FetchPackagesOptions>;
  const QUICK_TIMEOUTS = { connectMs: 500, stallMs: 500, deadlineMs: 60_000 };

  before(async () => {
    const recipe = (name: string, version: string) => ({
      name,
      version,
      files: { [`/usr/share/doc/${name}/noise`]: noise(name, name === 'nginx' ? 2_000_000 : 200_000) },
    });
    repo = await buildSignedRepo(trixieRepo(MAIN.map((n) => recipe(n, '1.0-1')), [recipe('openssl', '3.5.1-1~deb13u1')]));
    scratch = await mkdtemp(join(tmpdir(), 'jeos-fetch-'));
    packages = [];
    for (const [name, suite] of [...MAIN.map((n) => [n, 'trixie']), ['openssl', 'trixie-security']] as const) {
      const path = repo.debPath(name);
      const bytes = await readFile(path);
      packages.push({
        name,
        version: name === 'openssl' ? '3.5.1-1~deb13u1' : '1.0-1',
        architecture: 'amd64',
        suite,
        filename: relative(repo.root, path),
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        installedSize: 0,
        neededBy: ['(request)'],
      });
    }
    packages.sort((a, b) => a.name.localeCompare(b.name));
  });

  after(async () => {
    await repo?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
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
