import { JeosError } from '../errors.js';
import { ArchiveCache } from './cache.js';
import { fetchBytes, NOT_FOUND, type Fetcher } from './http.js';
import { mirrorFor, type Mirrors } from './mirrors.js';
import { compressionOf, readPackagesFile, type PackageRecord } from './packages.js';
import { columnsToText, FORMAT_VERSION, fromColumnar } from './parsed-cache.js';
import { checkRelease, parseRelease, type Release, type ReleaseFile } from './release.js';
import { downloadReleaseFile } from './release-file.js';
import { loadKeyring, verifyClearsigned, type Keyring } from './signature.js';

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
  fetcher?: Fetcher;
  now?: () => Date;
  onEvent?: (event: ArchiveEvent) => void;
}

export type ArchiveEvent =
  | { kind: 'release'; suite: string; url: string; cached: boolean }
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
  // allSettled: when one suite fails, let the others finish their (atomic) cache writes before reporting.
  const settled = await Promise.allSettled(options.suites.map((suite) => loadSuite(suite, keyring, cache, options)));
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
  options: ArchiveOptions,
): Promise<{ meta: SuiteMetadata; packages: PackageRecord[] }> {
  const mirror = mirrorFor(options.mirrors, suite);
  const release = await loadRelease(suite, mirror, keyring, cache, options);
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
  options: ArchiveOptions,
): Promise<Release> {
  const fetcher = options.fetcher ?? fetchBytes;
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
      text = (await fetcher(url)).toString('utf8');
    } catch (e) {
      if (e instanceof JeosError && e.code === NOT_FOUND) throw await missingInRelease(suite, mirror, fetcher, e);
      throw e;
    }
  }
  options.onEvent?.({ kind: 'release', suite, url, cached: !!options.offline });
  const signed = await verifyClearsigned(text, keyring, `InRelease of ${suite}`);
  const release = parseRelease(signed);
  checkRelease(release, suite, options.now?.() ?? new Date(), `InRelease of ${suite}`);
  if (!options.offline) await cache.writeText(cachedPath, text);
  return release;
}

/** InRelease is missing: either the mirror has only an unsigned Release, or the suite does not exist. */
async function missingInRelease(suite: string, mirror: string, fetcher: Fetcher, cause: JeosError): Promise<JeosError> {
  const hasRelease = await fetcher(`${mirror}dists/${suite}/Release`, { retries: 0 }).then(
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
    onProgress: (url, received, total) => options.onEvent?.({ kind: 'download', suite, url, received, total }),
  });
  options.onEvent?.({ kind: 'downloaded', suite, url, bytes: bytes.length });
  return bytes;
}
