/**
 * The trim stage: keep what the workload can reach (reach.ts) plus what a
 * package sets up for it — configuration and state (/etc, /var), the files of
 * the packages the workload asked for, what jeos made, the licences of the
 * packages something is left of, and `trim.keep` — and drop the rest. Documentation, manuals and translations go
 * whatever reaches them. The dpkg database and ld.so.cache are brought in line
 * with what is left, and every kept path records why it is there.
 */
import { buildLdCache, ldconfigGenerator, packageId, tripletOf } from '../configure/index.js';
import type { ImageTree } from '../tree/index.js';
import type { TreeNode } from '../tree/types.js';
import type { UnpackedPackage } from '../unpack/types.js';
import { parentOf } from '../util/path.js';
import { globMatcher, globToRegExp } from '../util/path-glob.js';
import { keepGlobMatches } from './globs.js';
import { isConfigFile, pathsInConfig } from './named.js';
import { recordTrimInDpkgDatabase } from './provenance.js';
import { Reach } from './reach.js';
import { ALWAYS_DROPPED, ALWAYS_KEPT, KEPT_AREAS, TRIM_RULES } from './rules.js';
import { DEFAULT_PATH, shellCommandWords } from './scripts.js';
import type { KeepReason, MissingFile, TrimExplanation, TrimOptions, TrimRecord } from './types.js';
import { unitCommands } from './units.js';

export interface TrimResult {
  record: TrimRecord;
  explanation: TrimExplanation;
}

const sizeOf = (node: TreeNode): number => (node.kind === 'file' ? node.data.length : 0);
const nameOf = (pkg: string): string => pkg.split(':')[0]!;

/** Trim a configured tree in place. */
export function trimImage(tree: ImageTree, packages: UnpackedPackage[], options: TrimOptions, mtime = 0): TrimResult {
  const { settings } = options;
  const triplet = tripletOf(options.architecture) ?? `${options.architecture}-linux-gnu`;
  const localeGlobs = settings.locales.flatMap((l) => [`usr/share/locale/${l}/**`, `usr/share/locale/${l}_*/**`, `usr/share/locale/${l}.*/**`, `usr/lib/locale/${l}*/**`]);
  const alwaysKept = globMatcher([...ALWAYS_KEPT, ...localeGlobs]);
  const dropMatch = globMatcher(ALWAYS_DROPPED);
  const licence = globMatcher(ALWAYS_KEPT);
  const dropped = (path: string): boolean => dropMatch(path) && !alwaysKept(path);

  const reach = new Reach(tree, {
    triplet,
    cache: ldCacheOf(tree, options.architecture, packages),
    path: (options.path ?? DEFAULT_PATH).split(':').map((d) => d.replace(/^\/+|\/+$/g, '')),
    rules: TRIM_RULES,
    dropped,
  });

  const entries = tree.entries();
  const before = { files: 0, bytes: 0 };
  for (const [, node] of entries) if (node.kind !== 'dir') (before.files++, (before.bytes += sizeOf(node)));

  // Links from configuration into programs (/etc/alternatives/awk → mawk) are kept only if the program is.
  const deferred: string[] = [];
  const seed = (path: string, node: TreeNode, reason: KeepReason): void => {
    if (node.kind === 'symlink' && leadsToProgram(tree, path)) deferred.push(path);
    else reach.keep(path, reason, node.kind === 'symlink');
    // A link from configuration to a directory elsewhere (/etc/app/lang → /usr/share/app/lang) brings what is in it.
    if (node.kind === 'symlink' && reason.why === 'area') {
      const target = safeResolve(tree, path);
      if (target !== undefined && tree.get(target)?.kind === 'dir' && !KEPT_AREAS.includes(target.split('/')[0]!)) reach.keepTree(target, { why: 'target', from: path });
    }
  };
  // Entry points first, so that the chains in trim.json start from them.
  for (const root of options.roots) keepArgv(reach, root.argv, { why: root.why });
  if (options.units) {
    if (tree.get('init')) reach.keep('init', { why: 'unit', detail: '/init' });
    for (const { unit, argv } of unitCommands(tree)) reach.keepCommand(argv[0]!, { why: 'unit', from: unit });
  }
  reach.run();
  const requested = requestedPackages(packages, options.requested, tree, dropMatch);
  const keptDirs = new Set<string>();
  const unmatchedKeep = new Set(settings.keep);
  const keepGlobs = settings.keep.map((g) => ({ glob: g, re: globToRegExp(g) }));
  const licences = new Set<string>();
  for (const [path, node] of entries) {
    if (path === '') continue;
    const area = KEPT_AREAS.includes(path.split('/')[0]!);
    const own = node.pkg !== undefined && requested.has(nameOf(node.pkg)) && !dropped(node.kind === 'dir' ? `${path}/` : path);
    if (node.kind === 'dir') {
      if (area || own) keptDirs.add(path);
      continue;
    }
    if (dropped(path)) {
      // only a trim.keep glob (below) brings these back
    } else if (!path.includes('/') && node.kind === 'symlink' && tree.isDir(path)) reach.keep(path, { why: 'layout' }, false);
    else if (node.pkg === undefined && !path.startsWith('var/lib/dpkg/')) seed(path, node, { why: 'made-by-jeos' });
    else if (area) seed(path, node, { why: 'area' });
    else if (own) reach.keep(path, { why: 'package', detail: nameOf(node.pkg!) });
    else if (licence(path)) licences.add(path);
    else if (alwaysKept(path)) reach.keep(path, { why: 'locale' });
    for (const { glob, re } of keepGlobs) {
      if (!re.test(path)) continue;
      unmatchedKeep.delete(glob);
      reach.keep(path, { why: 'keep', detail: glob });
    }
  }
  // trim.keep globs also match through directory links (/usr/share/app/lang/** where lang is a link).
  for (const { glob, path } of keepGlobMatches(tree, keepGlobs)) {
    unmatchedKeep.delete(glob);
    reach.keep(path, { why: 'keep', detail: glob });
  }
  reach.run();
  keepNamedByConfig(tree, reach, entries);
  for (const link of deferred) {
    const target = safeResolve(tree, link);
    if (target !== undefined && reach.kept.has(target)) reach.keep(link, { why: 'area' }, false);
  }
  keepLicences(tree, reach, licences);

  // Drop what was not kept: children before their directory, so emptied directories under /usr go too.
  const kept = { files: 0, bytes: 0 };
  const gone = { files: 0, bytes: 0 };
  const perPackage = new Map<string, { keptFiles: number; droppedFiles: number; droppedBytes: number }>();
  const nonEmpty = new Set<string>();
  const droppedSizes = new Map<string, number>();
  for (const [path, node] of [...entries].reverse()) {
    if (path === '') continue;
    if (node.kind === 'dir') {
      const removable = (path.startsWith('usr/') || dropped(`${path}/`)) && !keptDirs.has(path);
      if (nonEmpty.has(path) || !removable) nonEmpty.add(parentOf(path));
      else tree.remove(path);
      continue;
    }
    const stats = node.pkg ? perPackage.get(node.pkg) ?? perPackage.set(node.pkg, { keptFiles: 0, droppedFiles: 0, droppedBytes: 0 }).get(node.pkg)! : undefined;
    if (reach.kept.has(path)) {
      kept.files++;
      kept.bytes += sizeOf(node);
      if (stats) stats.keptFiles++;
      nonEmpty.add(parentOf(path));
    } else {
      gone.files++;
      gone.bytes += sizeOf(node);
      if (stats) (stats.droppedFiles++, (stats.droppedBytes += sizeOf(node)));
      if (node.kind === 'file') droppedSizes.set(`/${path}`, sizeOf(node));
      tree.remove(path);
    }
  }

  const droppedLists = recordTrimInDpkgDatabase(tree, packages.map(packageId), mtime);
  if (tree.get('etc/ld.so.cache')) {
    const { mode, uid, gid } = tree.get('etc/ld.so.cache')!;
    tree.writeFile('etc/ld.so.cache', buildLdCache(tree, options.architecture, ldconfigGenerator(packages)).cache, { mode, uid, gid, mtime });
  }

  const record: TrimRecord = {
    before,
    kept,
    dropped: gone,
    packages: [...perPackage]
      .filter(([, s]) => s.droppedFiles > 0)
      .map(([name, s]) => ({ name, ...s }))
      .sort((a, b) => b.droppedBytes - a.droppedBytes || (a.name < b.name ? -1 : 1)),
    rules: [...reach.fired.values()].map((f) => ({ name: f.rule.name, reason: f.rule.reason, by: `/${f.by}`, files: f.files })),
    missing: dedupe(reach.missing).map((m) => ({ ...m, neededBy: `/${m.neededBy.replace(/^\/+/, '')}` })),
    unmatchedKeep: [...unmatchedKeep],
  };
  const explanation: TrimExplanation = {
    kept: Object.fromEntries(
      [...reach.kept]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([p, r]) => {
          const pkg = tree.get(p)?.pkg;
          return [`/${p}`, { ...r, ...(r.from ? { from: `/${r.from.replace(/^\/+/, '')}` } : {}), ...(pkg ? { pkg } : {}) }];
        }),
    ),
    dropped: Object.fromEntries([...droppedLists].sort(([a], [b]) => (a < b ? -1 : 1))),
    droppedSizes: Object.fromEntries([...droppedSizes].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return { record, explanation };
}

/**
 * The absolute paths kept configuration files name (`file "/usr/share/dns/root.hints";`), kept as the
 * program that reads them would open them: the files under /etc (isConfigFile) of every package
 * something outside the kept areas is left of, and the ones jeos wrote (workload.files). A path
 * kept this way may be another package's, whose configuration is then read in turn, until
 * nothing new is kept.
 */
function keepNamedByConfig(tree: ImageTree, reach: Reach, entries: Array<[string, TreeNode]>): void {
  const read = new Set<string>();
  for (let round = 0; round < 16; round++) {
    const inUse = new Set<string>();
    for (const path of reach.kept.keys()) {
      const node = tree.get(path);
      if (node?.pkg !== undefined && node.kind !== 'dir' && !KEPT_AREAS.includes(path.split('/')[0]!)) inUse.add(nameOf(node.pkg));
    }
    let more = false;
    for (const [path, node] of entries) {
      if (read.has(path) || node.kind !== 'file' || !path.startsWith('etc/') || !reach.kept.has(path)) continue;
      if (node.pkg !== undefined && !inUse.has(nameOf(node.pkg))) continue;
      read.add(path);
      if (!isConfigFile(path, node.data, node.mode)) continue;
      for (const named of pathsInConfig(node.data.toString('utf8'))) if (reach.keepNamed(named, path, true)) more = true;
    }
    reach.run();
    if (!more) return;
  }
}

/**
 * A licence travels with what is left of its package: the copyright files of each package
 * (by name: a Multi-Arch: same package's is shared) that keeps any other file, and, when
 * its /usr/share/doc/<name> links to the directory of another package of the same source
 * (libgcc-s1 → gcc-14-base), that link and the copyright it leads to. A package the trim
 * left nothing of loses its copyright too.
 */
function keepLicences(tree: ImageTree, reach: Reach, licences: Set<string>): void {
  const left = new Set<string>();
  for (const path of reach.kept.keys()) {
    const node = tree.get(path);
    if (node?.pkg !== undefined && node.kind !== 'dir' && !licences.has(path)) left.add(nameOf(node.pkg));
  }
  for (const path of licences) if (left.has(nameOf(tree.get(path)!.pkg!))) reach.keep(path, { why: 'copyright' });
  for (const name of left) {
    const doc = `usr/share/doc/${name}`;
    const copyright = safeResolve(tree, `${doc}/copyright`);
    if (tree.get(doc)?.kind !== 'symlink' || copyright === undefined || !tree.get(copyright)) continue;
    reach.keep(doc, { why: 'copyright' }, false);
    reach.keep(`${doc}/copyright`, { why: 'copyright' });
  }
}

/** A command line's program, the paths among its arguments, and the commands of `sh -c '…'`. */
function keepArgv(reach: Reach, argv: string[], reason: KeepReason): void {
  if (!argv.length) return;
  const program = reach.keepCommand(argv[0]!, reason);
  for (const arg of argv.slice(1)) if (arg.startsWith('/') && reach.findCommand(arg)) reach.keep(arg, reason);
  const c = argv.indexOf('-c');
  if (program && /(^|\/)(sh|bash|dash)$/.test(argv[0]!) && c > 0 && argv[c + 1]) {
    for (const word of shellCommandWords(argv[c + 1]!)) if (reach.findCommand(word)) reach.keepCommand(word, { ...reason, from: program });
  }
}

/**
 * The packages whose own files all stay: the ones the workload asked for, and, for
 * one that ships nothing but documentation (a metapackage such as `postgresql`),
 * the packages it depends on.
 */
function requestedPackages(packages: UnpackedPackage[], specs: string[], tree: ImageTree, documentation: (p: string) => boolean): Set<string> {
  const names = new Set(specs.map((s) => s.split(/[=/]/)[0]!));
  const byName = new Map(packages.map((p) => [p.name, p]));
  const pending = [...names];
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    const pkg = byName.get(name);
    if (!pkg) continue;
    const hasFiles = pkg.paths.some((p) => {
      const node = tree.get(p.replace(/^\/+/, ''));
      return node !== undefined && node.kind !== 'dir' && !documentation(p.replace(/^\/+/, ''));
    });
    if (hasFiles) continue;
    const depends = pkg.control.find(([k]) => k.toLowerCase() === 'depends')?.[1] ?? '';
    for (const clause of depends.split(',')) {
      const first = clause.split('|')[0]!.trim().split(/[\s(:]/)[0]!;
      if (first && byName.has(first) && !names.has(first)) (names.add(first), pending.push(first));
    }
  }
  return names;
}

function safeResolve(tree: ImageTree, path: string): string | undefined {
  try {
    return tree.resolve(path, { followLast: true });
  } catch {
    return undefined;
  }
}

function leadsToProgram(tree: ImageTree, path: string): boolean {
  const target = safeResolve(tree, path);
  const node = target === undefined ? undefined : tree.get(target);
  return (node?.kind === 'file' || node?.kind === 'hardlink') && (node.mode & 0o111) !== 0;
}

function ldCacheOf(tree: ImageTree, architecture: string, packages: UnpackedPackage[]): Map<string, string[]> {
  const cache = new Map<string, string[]>();
  if (!tripletOf(architecture)) return cache;
  for (const e of buildLdCache(tree, architecture, ldconfigGenerator(packages)).entries) {
    const path = e.path.replace(/^\/+/, '');
    cache.set(e.soname, [...(cache.get(e.soname) ?? []), path]);
  }
  return cache;
}

function dedupe(missing: MissingFile[]): MissingFile[] {
  const seen = new Set<string>();
  return missing.filter((m) => {
    const key = `${m.what}\0${m.neededBy}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}
