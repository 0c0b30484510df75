import { JeosError } from '../errors.js';
import { ArchiveCache } from './cache.js';
import { fetchBytes, NOT_FOUND, type Fetcher } from './http.js';
import { mirrorFor, type Mirrors } from './mirrors.js';
import { compressionOf, readPackagesFile, type PackageRecord } from './packages.js';
import { columnsToText, FORMAT_VERSION, fromColumnar } from './parsed-cache.js';
import { checkRelease, checkReleaseDate, parseRelease, type Release, type ReleaseFile } from './release.js';
import { ReleaseDates } from './release-dates.js';
import { downloadReleaseFile } from './release-file.js';
import { loadKeyring, verifyClearsignedBy, type Keyring } from './signature.js';
import { DEFAULT_TIMEOUTS, type MirrorTimeouts, type Waiting } from './watchdog.js';

export interface ArchiveOptions {
  mirrors: Mirrors;
  suites: string[];
  components: string[];
  architecture: string;
  /** Path of the OpenPGP keyring that must have signed every InRelease. */
  keyring: string;
  cacheDir: string;
  /** Use only the cache; fail naming what is missing. */
  offline?: boolean;
  /**
   * Accept a Release older than the newest one seen for its suite (a deliberate rollback,
   * an old snapshot) instead of refusing it with E_RELEASE_ROLLBACK.
   */
  allowDowngrade?: boolean;
  /** How long to wait for the mirror (DEFAULT_TIMEOUTS). */
  timeouts?: MirrorTimeouts;
  fetcher?: Fetcher;
  /** The clock Release dates are checked against (Valid-Until, dates in the future). */
  now?: () => Date;
  onEvent?: (event: ArchiveEvent) => void;
}

export type ArchiveEvent =
  | { kind: 'release'; suite: string; url: string; cached: boolean }
  /** The mirror has sent nothing for `waitedMs`; it is given up at `limitMs`. */
  | ({ kind: 'waiting'; suite: string } & Waiting)
  /** --allow-downgrade let an older Release than the newest seen through. */
  | { kind: 'downgrade'; suite: string; mirror: string; date: Date; newest: Date; newestMirror: string }
  | { kind: 'download'; suite: string; url: string; received: number; total: number | undefined }
  | { kind: 'downloaded'; suite: string; url: string; bytes: number }
  | { kind: 'index'; suite: string; component: string; packages: number; from: 'download' | 'cache' | 'parsed-cache' };

/** What a suite's verified metadata says, kept for the lock (Release dates) and for messages. */
export interface SuiteMetadata {
  suite: string;
  mirror: string;
  release: Release;
  indices: Array<{ component: string; path: string; sha256: string; size: number; packages: number }>;
}

export interface ArchiveIndex {
  suites: SuiteMetadata[];
  architecture: string;
  packages: PackageRecord[];
  /** Every version of a package name, across suites (unsorted). */
  byName: Map<string, PackageRecord[]>;
}

export async function loadArchive(options: ArchiveOptions): Promise<ArchiveIndex> {
  if (options.suites.length === 0) throw new JeosError('E_CONFIG', 'no suites to load', { hint: 'name at least one Debian suite' });
  const keyring = await loadKeyring(options.keyring);
  const cache = new ArchiveCache(options.cacheDir);
  const dates = await ReleaseDates.load(options.cacheDir);
  // allSettled: when one suite fails, let the others finish their (atomic) cache writes before reporting.
  const settled = await Promise.allSettled(options.suites.map((suite) => loadSuite(suite, keyring, cache, dates, options)));
  // The dates of the Releases that were accepted (and cached) are remembered, even when another suite failed.
  await dates.save();
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const suites = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof loadSuite>>>).value);
  const packages: PackageRecord[] = [];
  const byName = new Map<string, PackageRecord[]>();
  for (const s of suites) {
    for (const p of s.packages) {
      packages.push(p);
      const list = byName.get(p.name);
      if (list) list.push(p);
      else byName.set(p.name, [p]);
    }
  }
  return { suites: suites.map((s) => s.meta), architecture: options.architecture, packages, byName };
}

async function loadSuite(
  suite: string,
  keyring: Keyring,
  cache: ArchiveCache,
  dates: ReleaseDates,
  options: ArchiveOptions,
): Promise<{ meta: SuiteMetadata; packages: PackageRecord[] }> {
  const mirror = mirrorFor(options.mirrors, suite);
  const release = await loadRelease(suite, mirror, keyring, cache, dates, options);
  const meta: SuiteMetadata = { suite, mirror, release, indices: [] };
  const packages: PackageRecord[] = [];
  for (const component of options.components) {
    const file = pickIndex(release, suite, component, options.architecture, mirror);
    const records = await loadIndex(suite, component, mirror, release, file, cache, options);
    meta.indices.push({ component, path: file.path, sha256: file.sha256, size: file.size, packages: records.length });
    for (const r of records) packages.push(r);
  }
  return { meta, packages };
}

async function loadRelease(
  suite: string,
  mirror: string,
  keyring: Keyring,
  cache: ArchiveCache,
  dates: ReleaseDates,
  options: ArchiveOptions,
): Promise<Release> {
  const fetcher = options.fetcher ?? fetchBytes;
  const http = httpOptions(suite, options);
  const url = `${mirror}dists/${suite}/InRelease`;
  const cachedPath = cache.inReleasePath(mirror, suite);
  let text: string;
  if (options.offline) {
    const cached = await cache.readText(cachedPath);
    if (cached === undefined) {
      throw new JeosError('E_OFFLINE_MISSING', `offline, and the cache has no InRelease for ${suite} (${url})`, {
        hint: `run once without --offline to fill the cache at ${options.cacheDir}`,
      });
    }
    text = cached;
  } else {
    try {
      text = (await fetcher(url, http)).toString('utf8');
    } catch (e) {
      if (e instanceof JeosError && e.code === NOT_FOUND) throw await missingInRelease(suite, mirror, fetcher, http, e);
      throw e;
    }
  }
  options.onEvent?.({ kind: 'release', suite, url, cached: !!options.offline });
  const where = `InRelease of ${suite}${options.offline ? ` (cached from ${mirror})` : ` from ${mirror}`}`;
  const { text: signed, signers } = await verifyClearsignedBy(text, keyring, where);
  const release = parseRelease(signed);
  const now = options.now?.() ?? new Date();
  checkRelease(release, suite, now, where);
  const date = checkReleaseDate(release, now, where);
  const newest = dates.newest(release, signers);
  if (newest && Date.parse(newest.date) > date.getTime()) {
    if (!options.allowDowngrade) {
      throw new JeosError(
        'E_RELEASE_ROLLBACK',
        `${where} is dated ${date.toISOString()}, older than the newest Release jeos has seen for ${describeSuite(release)}: ${newest.date}, from ${newest.mirror}`,
        {
          hint: `the mirror is stale or hostile (older metadata hides the security updates published since); use an up-to-date mirror, or pass --allow-downgrade to accept it on purpose (the newest dates seen are in ${dates.path})`,
        },
      );
    }
    options.onEvent?.({ kind: 'downgrade', suite, mirror, date, newest: new Date(newest.date), newestMirror: newest.mirror });
  } else {
    dates.record(release, signers, mirror);
  }
  if (!options.offline) await cache.writeText(cachedPath, text);
  return release;
}

/** "stable (trixie) of Debian", as the Release names itself. */
function describeSuite(release: Release): string {
  const names = [release.suite, release.codename].filter((n, i, all): n is string => !!n && all.indexOf(n) === i);
  const name = names.length === 2 ? `${names[0]} (${names[1]})` : (names[0] ?? '(unnamed suite)');
  return release.origin ? `${name} of ${release.origin}` : name;
}

/** What every metadata request of a suite is fetched with: the timeouts and its waiting reports. */
function httpOptions(suite: string, options: ArchiveOptions): { timeouts: MirrorTimeouts; onWaiting: (w: Waiting) => void } {
  return {
    timeouts: options.timeouts ?? DEFAULT_TIMEOUTS,
    onWaiting: (w) => options.onEvent?.({ kind: 'waiting', suite, ...w }),
  };
}

/** InRelease is missing: either the mirror has only an unsigned Release, or the suite does not exist. */
async function missingInRelease(
  suite: string,
  mirror: string,
  fetcher: Fetcher,
  http: ReturnType<typeof httpOptions>,
  cause: JeosError,
): Promise<JeosError> {
  const hasRelease = await fetcher(`${mirror}dists/${suite}/Release`, { retries: 0, ...http }).then(
    () => true,
    () => false,
  );
  if (hasRelease) {
    return new JeosError('E_RELEASE_UNSIGNED', `${suite} on ${mirror} has no signed InRelease`, {
      hint: 'jeos only trusts signed metadata; use a mirror that publishes InRelease',
      cause,
    });
  }
  return new JeosError('E_SUITE_NOT_FOUND', `suite ${suite} was not found on ${mirror}`, {
    hint: 'check the suite name (for example trixie, trixie-updates, trixie-security) and the mirror URL',
    cause,
  });
}

function pickIndex(release: Release, suite: string, component: string, arch: string, mirror: string): ReleaseFile {
  const base = `${component}/binary-${arch}/Packages`;
  for (const ext of ['.xz', '.gz', '']) {
    const file = release.files.get(base + ext);
    if (file) return file;
  }
  const problem = !release.components.includes(component) && release.components.length
    ? `has no component ${component} (it has ${release.components.join(', ')})`
    : !release.architectures.includes(arch) && release.architectures.length
      ? `has no architecture ${arch}`
      : `lists no ${base} index`;
  throw new JeosError('E_INDEX_MISSING', `suite ${suite} on ${mirror} ${problem}`, {
    hint: 'check debian.components and debian.architecture in jeos.yaml',
  });
}

async function loadIndex(
  suite: string,
  component: string,
  mirror: string,
  release: Release,
  file: ReleaseFile,
  cache: ArchiveCache,
  options: ArchiveOptions,
): Promise<PackageRecord[]> {
  const where = `${suite}/${file.path}`;
  const parsedPath = cache.parsedPath(file.sha256, FORMAT_VERSION);
  const parsedText = await cache.readText(parsedPath, 'latin1');
  if (parsedText !== undefined) {
    const records = fromColumnar(parsedText, suite, component);
    if (records) {
      options.onEvent?.({ kind: 'index', suite, component, packages: records.length, from: 'parsed-cache' });
      return records;
    }
  }
  let path = await cache.verifiedIndex(file.sha256, file.size);
  let from: 'download' | 'cache' = 'cache';
  if (!path) {
    const url = `${mirror}dists/${suite}/${file.path}`;
    if (options.offline) {
      throw new JeosError('E_OFFLINE_MISSING', `offline, and the cache has no valid copy of ${where} (${url})`, {
        hint: `run once without --offline to fill the cache at ${options.cacheDir}`,
      });
    }
    const bytes = await downloadIndex(suite, mirror, release, file, options);
    path = await cache.storeIndex(file.sha256, bytes);
    from = 'download';
  }
  const parsed = await readPackagesFile(path, compressionOf(file.path), { suite, component, where });
  const records = parsed.records;
  await cache.writeText(parsedPath, columnsToText(parsed.columns, records.length), 'latin1');
  options.onEvent?.({ kind: 'index', suite, component, packages: records.length, from });
  return records;
}

/** Download an index (by hash when the Release offers it) and refuse it unless size and SHA256 match. */
async function downloadIndex(suite: string, mirror: string, release: Release, file: ReleaseFile, options: ArchiveOptions): Promise<Buffer> {
  const { bytes, url } = await downloadReleaseFile({ mirror, suite, release }, file, {
    fetcher: options.fetcher,
    ...httpOptions(suite, options),
    onProgress: (url, received, total) => options.onEvent?.({ kind: 'download', suite, url, received, total }),
  });
  options.onEvent?.({ kind: 'downloaded', suite, url, bytes: bytes.length });
  return bytes;
}
