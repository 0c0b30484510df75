/**
 * `jeos outdated`: the locked packages the archive now has newer versions of, which of those
 * come from a security suite, and the CVEs their changelogs name (from the newer .deb, fetched
 * into the package cache by the Packages index's hash).
 */
import { candidateOf, isSecuritySuite, type ArchiveIndex } from '../../archive/index.js';
import { compareVersions } from '../../archive/version.js';
import { allLocked, type Lock } from '../../lock/index.js';
import { lockedPackageOf } from '../../lock/lock.js';
import { upgradeNotes, type FetchDebs, type UpgradeNotes } from './diff.js';

export interface OutdatedPackage extends UpgradeNotes {
  security: boolean;
}

export interface OutdatedResult {
  /** Every locked package (image, VM, kernel). */
  checked: number;
  outdated: OutdatedPackage[];
  security: number;
  cves: string[];
  /** The signed Release dates the comparison was made against. */
  suites: Array<{ suite: string; date: string | null }>;
}

export async function outdated(lock: Lock, index: ArchiveIndex, fetchDebs: FetchDebs): Promise<OutdatedResult> {
  const found = [];
  for (const p of allLocked(lock)) {
    const c = candidateOf(index, p.name);
    if (c && compareVersions(c.version, p.version) > 0) found.push({ pkg: lockedPackageOf(c), from: p.version });
  }
  const notes = await upgradeNotes(found, fetchDebs);
  const list = notes.map((n) => ({ ...n, security: isSecuritySuite(n.suite) }));
  return {
    checked: allLocked(lock).length,
    outdated: list,
    security: list.filter((n) => n.security).length,
    cves: [...new Set(list.flatMap((n) => n.cves))].sort(),
    suites: index.suites.map((s) => ({ suite: s.suite, date: s.release.date?.toISOString() ?? null })),
  };
}
