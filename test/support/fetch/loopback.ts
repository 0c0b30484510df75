// The signed repository the fetch stage's tests download from (src/fetch/fetch-*.test.ts): five
// trixie packages and openssl from trixie-security, each padded with noise so it arrives in many
// chunks, and the lock that names them; a static server over it that can fail on purpose.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before } from 'node:test';
import { JeosError } from '../../../src/errors.js';
import type { FetchPackagesOptions } from '../../../src/fetch/index.js';
import type { LockedPackage } from '../../../src/lock/types.js';
import { trixieRepo } from '../../cli/harness.js';
import { buildSignedRepo, type SignedRepo } from '../../fixtures/signed-repo.js';

/** Incompressible-ish text, so the .debs are a few hundred KiB and arrive in many chunks. */
function noise(seed: string, bytes: number): string {
  const parts: string[] = [];
  let h = seed;
  for (let n = 0; n < bytes; n += 64) parts.push((h = createHash('sha256').update(h).digest('hex')));
  return parts.join('\n');
}

export const MAIN = ['base-files', 'libc6', 'libssl3', 'nginx', 'zlib1g'];

export interface Hit {
  path: string;
  range: string | undefined;
}

/** What a test server does with the n-th request (from 1) for a path; return true when it answered itself. */
export type Intercept = (req: IncomingMessage, res: ServerResponse, file: Buffer, n: number) => boolean;

/**
 * A static server over the repository root that can fail on purpose: answer Range requests
 * or ignore them, hold each answer a little (to see downloads overlap), or let `intercept` answer.
 */
export async function testServer(root: string, opts: { ranges?: boolean; delayMs?: number; intercept?: Intercept } = {}) {
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

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<JeosError> {
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

export async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [] as string[])).sort();
}

/** Retries without the real backoff's wait. */
export const quick = { retryDelayMs: 5 } satisfies Partial<FetchPackagesOptions>;

/**
 * The repository and the lock of its six packages, built before the tests of the calling
 * describe() and removed after them (with the scratch directory the caches go in). What it
 * returns reads them once they are built.
 */
export function loopbackLock() {
  let repo: SignedRepo | undefined;
  let packages: LockedPackage[] = [];
  let scratch: string | undefined;
  let caches = 0;

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

  const pkg = (name: string) => packages.find((p) => p.name === name)!;
  return {
    get repo(): SignedRepo {
      return repo!;
    },
    get packages(): LockedPackage[] {
      return packages;
    },
    get scratch(): string {
      return scratch!;
    },
    /** A new, empty cache directory. */
    newCache: () => join(scratch!, `cache-${++caches}`),
    pkg,
    lockOf: (...names: string[]) => ({ packages: names.length ? names.map(pkg) : packages }),
    debPath: (cacheDir: string, p: LockedPackage) => join(cacheDir, 'debs', 'sha256', p.sha256),
  };
}
