/**
 * `jeos diff A B`: packages added, removed, upgraded; for each upgrade the changelog entries
 * between the two versions and the CVEs they name (from the new .deb, fetched into the
 * package cache); files added, removed and changed when both sides have a manifest; sizes.
 */
import { readFile } from 'node:fs/promises';
import { JeosError } from '../../errors.js';
import { allLocked, lockChanges, type LockChanges, type LockedPackage } from '../../lock/index.js';
import type { ImageManifest, ManifestEntry } from '../../record/index.js';
import { changelogOfDeb, entriesBetween, parseChangelog, type ChangelogEntry } from './changelog.js';
import type { Side } from './sides.js';

/** Fetches .debs into the verified package cache; returns each one's path by package name. Passed in by the caller. */
export type FetchDebs = (pkgs: LockedPackage[]) => Promise<Map<string, string>>;

export interface UpgradeNotes {
  name: string;
  from: string;
  to: string;
  suite: string;
  entries: ChangelogEntry[];
  cves: string[];
  /** Why there are no entries (no changelog in the package, or the .deb could not be read). */
  note?: string;
}

export interface FileChanges {
  tree: 'image' | 'vm';
  added: string[];
  removed: string[];
  changed: string[];
  bytes: { before: number; after: number };
}

export interface DiffResult {
  a: string;
  b: string;
  packages: LockChanges;
  upgrades: UpgradeNotes[];
  cves: string[];
  files?: FileChanges[];
  /** Why files are not compared. */
  filesNote?: string;
  /** Installed-Size over every locked package, KiB. */
  installedKiB: { before: number; after: number };
}

/** The changelog entries an upgrade brings, with their CVEs; from the new version's .deb. */
export async function upgradeNotes(upgrades: Array<{ pkg: LockedPackage; from: string }>, fetchDebs: FetchDebs): Promise<UpgradeNotes[]> {
  if (!upgrades.length) return [];
  let paths = new Map<string, string>();
  let fetchError: string | undefined;
  try {
    paths = await fetchDebs(upgrades.map((u) => u.pkg));
  } catch (e) {
    // The comparison still stands without changelogs: say why they are missing.
    if (!(e instanceof JeosError)) throw e;
    fetchError = `${e.code}: ${e.message}`;
  }
  const notes: UpgradeNotes[] = [];
  for (const { pkg, from } of upgrades) {
    const base = { name: pkg.name, from, to: pkg.version, suite: pkg.suite };
    const path = paths.get(pkg.name);
    if (!path) {
      notes.push({ ...base, entries: [], cves: [], note: `its .deb was not fetched${fetchError ? ` (${fetchError})` : ''}` });
      continue;
    }
    let text: string | undefined;
    try {
      text = await changelogOfDeb(await readFile(path), pkg.name, `${pkg.name}_${pkg.version}`);
    } catch (e) {
      if (!(e instanceof JeosError)) throw e;
      notes.push({ ...base, entries: [], cves: [], note: `its .deb could not be read: ${e.message}` });
      continue;
    }
    if (text === undefined) {
      notes.push({ ...base, entries: [], cves: [], note: `the package has no usr/share/doc/${pkg.name}/changelog.Debian.gz (its documentation may be another package's)` });
      continue;
    }
    const entries = entriesBetween(parseChangelog(text), from, pkg.version);
    notes.push({ ...base, entries, cves: [...new Set(entries.flatMap((e) => e.cves))].sort() });
  }
  return notes;
}

function fileChanges(tree: 'image' | 'vm', a: ManifestEntry[], b: ManifestEntry[]): FileChanges {
  const before = new Map(a.map((e) => [e.path, e]));
  const after = new Map(b.map((e) => [e.path, e]));
  const same = (x: ManifestEntry, y: ManifestEntry) =>
    x.type === y.type && x.sha256 === y.sha256 && x.mode === y.mode && x.uid === y.uid && x.gid === y.gid && x.target === y.target && x.device === y.device;
  const bytes = (m: ManifestEntry[]) => m.reduce((n, e) => n + (e.type === 'file' ? e.size ?? 0 : 0), 0);
  return {
    tree,
    added: [...after.keys()].filter((p) => !before.has(p)),
    removed: [...before.keys()].filter((p) => !after.has(p)),
    changed: [...after].filter(([p, e]) => before.has(p) && !same(before.get(p)!, e)).map(([p]) => p),
    bytes: { before: bytes(a), after: bytes(b) },
  };
}

function manifestChanges(a: ImageManifest, b: ImageManifest): FileChanges[] {
  const out = [fileChanges('image', a.trees.image, b.trees.image)];
  if (a.trees.vm && b.trees.vm) out.push(fileChanges('vm', a.trees.vm, b.trees.vm));
  return out;
}

export async function diffSides(a: Side, b: Side, fetchDebs: FetchDebs): Promise<DiffResult> {
  const packages = lockChanges(a.lock, b.lock);
  const newer = new Map(allLocked(b.lock).map((p) => [p.name, p]));
  const upgrades = await upgradeNotes(packages.upgraded.map((u) => ({ pkg: newer.get(u.name)!, from: u.from })), fetchDebs);
  const kib = (s: Side) => allLocked(s.lock).reduce((n, p) => n + p.installedSize, 0);
  return {
    a: a.label,
    b: b.label,
    packages,
    upgrades,
    cves: [...new Set(upgrades.flatMap((u) => u.cves))].sort(),
    ...(a.manifest && b.manifest
      ? { files: manifestChanges(a.manifest, b.manifest) }
      : { filesNote: `files are compared when both sides have a build: ${a.manifest ? b.label : a.label}: ${(a.manifest ? b.noManifest : a.noManifest) ?? 'no manifest'}` }),
    installedKiB: { before: kib(a), after: kib(b) },
  };
}
