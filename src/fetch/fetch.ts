import { JeosError } from '../errors.js';
import { mirrorFor } from '../archive/mirrors.js';
import { DEFAULT_TIMEOUTS } from '../archive/watchdog.js';
import type { Lock, LockedPackage } from '../lock/types.js';
import { DebCache } from './deb-cache.js';
import { downloadVerified, type DownloadSettings } from './download.js';
import { streamFetch } from './transport.js';
import type { FetchedPackage, FetchPackagesOptions } from './types.js';

/** Run `fn` over `items`, `limit` at a time. After the first failure no new item starts; the running ones finish, then it is thrown. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

/** The sha256 names a file in the cache, so it must be exactly a digest; checked before any path is made from it. */
function checkLocked(pkg: LockedPackage): void {
  const problem = !/^[0-9a-f]{64}$/.test(pkg.sha256)
    ? `its sha256 ${JSON.stringify(pkg.sha256)} is not 64 lowercase hex digits`
    : !Number.isSafeInteger(pkg.size) || pkg.size <= 0
      ? `its size ${JSON.stringify(pkg.size)} is not a positive whole number`
      : !pkg.filename || /^[a-z]+:|^\/|(^|\/)\.\.(\/|$)/i.test(pkg.filename)
        ? `its filename ${JSON.stringify(pkg.filename)} is not a path inside the mirror`
        : undefined;
  if (problem) {
    throw new JeosError('E_LOCK_INVALID', `the lock entry for ${pkg.name} ${pkg.version} is invalid: ${problem}`, {
      hint: 'the lock may have been damaged or hand-edited; write it anew with jeos lock',
    });
  }
}

function describePkg(pkg: LockedPackage): string {
  return `${pkg.name} ${pkg.version} (${pkg.architecture}, ${pkg.filename})`;
}

/**
 * The fetch stage: make sure every .deb of the lock is in the content-addressed
 * cache, verified against the lock's SHA256 and size, and say where each one is
 * (in the lock's order). Missing ones are downloaded from the suite's mirror,
 * `concurrency` at a time; nothing unverified ever reaches the cache path.
 */
export async function fetchPackages(lock: Pick<Lock, 'packages'>, options: FetchPackagesOptions): Promise<FetchedPackage[]> {
  try {
    return await fetchAll(lock, options);
  } catch (e) {
    const io = e as NodeJS.ErrnoException;
    if (e instanceof JeosError || !(e instanceof Error) || !io.syscall) throw e;
    // The cache directory itself failed (full disk, no permission): expected, not a bug.
    throw new JeosError('E_CACHE_IO', `cannot use the package cache: ${io.message}`, {
      hint: `check that ${options.cacheDir} is writable and has free space, or set JEOS_CACHE_DIR to another directory`,
      cause: e,
    });
  }
}

async function fetchAll(lock: Pick<Lock, 'packages'>, options: FetchPackagesOptions): Promise<FetchedPackage[]> {
  const started = (options.now ?? performance.now.bind(performance))();
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const emit = options.onEvent;
  const cache = new DebCache(options.cacheDir);
  const mirrors = options.mirrors;
  const mirror = typeof mirrors === 'function' ? mirrors : (suite: string) => mirrorFor(mirrors, suite);
  const baseOf = (suite: string) => {
    const base = mirror(suite);
    return base.endsWith('/') ? base : `${base}/`;
  };

  for (const pkg of lock.packages) checkLocked(pkg);
  // One file per digest: two entries with the same bytes (an arch: all .deb in two suites) share it.
  const byDigest = new Map<string, LockedPackage>();
  for (const pkg of lock.packages) {
    const seen = byDigest.get(pkg.sha256);
    if (!seen) byDigest.set(pkg.sha256, pkg);
    else if (seen.size !== pkg.size) {
      throw new JeosError('E_LOCK_INVALID', `the lock gives ${seen.name} and ${pkg.name} the same sha256 but different sizes`, {
        hint: 'the lock may have been damaged or hand-edited; write it anew with jeos lock',
      });
    }
  }
  const unique = [...byDigest.values()];

  const paths = new Map<string, { path: string; from: FetchedPackage['from'] }>();
  const missing: LockedPackage[] = [];
  await eachLimited(unique, concurrency, async (pkg) => {
    const hit = await cache.lookup(pkg.sha256, pkg.size);
    if (hit && 'path' in hit) {
      paths.set(pkg.sha256, { path: hit.path, from: 'cache' });
      emit?.({ kind: 'cached', pkg, path: hit.path });
      return;
    }
    if (hit) emit?.({ kind: 'damaged', pkg, path: hit.damaged });
    missing.push(pkg);
  });
  const order = new Map(unique.map((p, i) => [p, i]));
  missing.sort((a, b) => order.get(a)! - order.get(b)!);
  const cached = unique.length - missing.length;

  if (missing.length && options.offline) {
    const names = missing.map((p) => p.name);
    const shown = names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');
    throw new JeosError(
      'E_FETCH_OFFLINE_MISSING',
      `offline, and ${missing.length} of ${unique.length} packages are not in the cache: ${shown}`,
      {
        hint: `run once without --offline to download them into ${cache.sha256Dir}`,
        details: missing.map(describePkg),
      },
    );
  }

  let transferred = 0;
  if (missing.length) {
    emit?.({ kind: 'start', packages: missing.length, bytes: missing.reduce((n, p) => n + p.size, 0), cached });
    const settings: DownloadSettings = {
      fetcher: options.fetcher ?? streamFetch,
      retries: options.retries ?? 4,
      retryDelayMs: options.retryDelayMs ?? 250,
      timeouts: options.timeouts ?? DEFAULT_TIMEOUTS,
      onEvent: emit,
    };
    await eachLimited(missing, concurrency, async (pkg) => {
      const url = new URL(pkg.filename, baseOf(pkg.suite)).href;
      const partial = await cache.partial(pkg.sha256);
      const bytes = await downloadVerified({ pkg, url, partial }, settings);
      const path = await cache.commit(partial, pkg.sha256);
      transferred += bytes;
      paths.set(pkg.sha256, { path, from: 'download' });
      emit?.({ kind: 'done', pkg, path, bytes });
    });
  }

  const ms = Math.round((options.now ?? performance.now.bind(performance))() - started);
  emit?.({ kind: 'finished', downloaded: missing.length, cached, bytes: transferred, ms });
  return lock.packages.map((pkg) => {
    const { path, from } = paths.get(pkg.sha256)!;
    return { pkg, path, from };
  });
}
