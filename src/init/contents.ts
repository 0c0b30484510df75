/**
 * Which archive package ships a path, from the archive's Contents index
 * (`main/Contents-amd64.gz`, listed with its SHA256 in the signed Release). It is
 * big (trixie main: 13 MB compressed, 170 MB of text), so it is only read when
 * the machine's dpkg database cannot answer, kept in the metadata cache under its
 * SHA256, checked again on use, and scanned as a stream for the paths asked for.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { ArchiveCache } from '../archive/cache.js';
import type { SuiteMetadata } from '../archive/client.js';
import type { ReleaseFile } from '../archive/release.js';
import { downloadReleaseFile } from '../archive/release-file.js';
import { JeosError } from '../errors.js';
import { canonicalUsr } from './host-fs.js';
import type { InitContext } from './types.js';

/** What reading the Contents index needs: the loaded archive and its metadata cache (jeos init's context has it; so can any caller). */
export type ContentsContext = Pick<InitContext, 'index' | 'cacheDir' | 'offline' | 'fetcher' | 'onProgress'>;

interface ContentsFile {
  suite: SuiteMetadata;
  file: ReleaseFile;
}

/** The Contents indices of the loaded suites and components (gzip-compressed ones). */
function contentsFiles(ctx: ContentsContext): ContentsFile[] {
  const arch = ctx.index.architecture;
  const out: ContentsFile[] = [];
  for (const suite of ctx.index.suites) {
    for (const { component } of suite.indices) {
      const file = suite.release.files.get(`${component}/Contents-${arch}.gz`);
      if (file && file.size > 0) out.push({ suite, file });
    }
  }
  return out;
}

/**
 * For every absolute path asked for, the archive packages whose Contents entry has
 * it (merged-/usr forms match each other). Paths nobody ships are absent from the map.
 * Throws E_INIT_NO_CONTENTS when the archive publishes no Contents index.
 */
export async function contentsOwners(ctx: ContentsContext, paths: string[]): Promise<Map<string, string[]>> {
  const files = contentsFiles(ctx);
  if (!files.length) {
    throw new JeosError('E_INIT_NO_CONTENTS', `the archive has no Contents-${ctx.index.architecture}.gz index to find ${paths.join(', ')} in`, {
      hint: 'name the package with --from PACKAGE, or install the program on this machine so its dpkg database knows the package',
    });
  }
  const wanted = new Map(paths.map((p) => [canonicalUsr(p).slice(1), p]));
  const found = new Map<string, string[]>();
  for (const cf of files) {
    const local = await cachedContents(ctx, cf);
    await scan(local, (path, packages) => {
      const asked = wanted.get(path) ?? wanted.get(canonicalUsr(`/${path}`).slice(1));
      if (!asked) return;
      const list = found.get(asked) ?? [];
      for (const p of packages()) if (!list.includes(p)) list.push(p);
      found.set(asked, list);
    });
  }
  return found;
}

async function cachedContents(ctx: ContentsContext, { suite, file }: ContentsFile): Promise<string> {
  const cache = new ArchiveCache(ctx.cacheDir);
  const cached = await cache.verifiedIndex(file.sha256, file.size);
  if (cached) return cached;
  const plain = `${suite.mirror}dists/${suite.suite}/${file.path}`;
  if (ctx.offline) {
    throw new JeosError('E_OFFLINE_MISSING', `offline, and the cache has no valid copy of ${suite.suite}/${file.path} (${plain})`, {
      hint: `run once without --offline to fill the cache at ${ctx.cacheDir}`,
    });
  }
  ctx.onProgress?.(`reading ${suite.suite}/${file.path} (${(file.size / 1048576).toFixed(1)} MiB) to find which package ships it`);
  const { bytes } = await downloadReleaseFile(suite, file, { fetcher: ctx.fetcher });
  return cache.storeIndex(file.sha256, bytes);
}

/** Each line is `PATH   section/pkg,section/pkg`; the path may contain spaces, the package list does not. */
async function scan(file: string, onEntry: (path: string, packages: () => string[]) => void): Promise<void> {
  let rest = '';
  const handle = (line: string) => {
    const end = Math.max(line.lastIndexOf(' '), line.lastIndexOf('\t'));
    if (end <= 0) return;
    let path = line.slice(0, end).trimEnd();
    if (path.startsWith('./')) path = path.slice(2);
    onEntry(path, () => line.slice(end + 1).split(',').map((q) => q.slice(q.lastIndexOf('/') + 1)));
  };
  for await (const chunk of createReadStream(file).pipe(createGunzip())) {
    const lines = (rest + (chunk as Buffer).toString('latin1')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) handle(line);
  }
  if (rest) handle(rest);
}
