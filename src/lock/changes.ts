/**
 * What changed between two locks, package by package: the image's packages, the VM's and its
 * kernel together (an image version boots all of them). Versions are compared as Debian does.
 */
import { compareVersions } from '../archive/version.js';
import type { Lock, LockedPackage } from './types.js';

export interface PackageChange {
  name: string;
  from: string;
  to: string;
  /** The suite the new version comes from (`trixie-security`). */
  suite: string;
}

export interface LockChanges {
  added: Array<{ name: string; version: string; suite: string }>;
  removed: Array<{ name: string; version: string }>;
  upgraded: PackageChange[];
  downgraded: PackageChange[];
}

/** Every package a lock decides: the image's, the VM's, the kernel. */
export function allLocked(lock: Pick<Lock, 'packages' | 'vmPackages' | 'kernel'>): LockedPackage[] {
  return [...lock.packages, ...(lock.vmPackages ?? []), ...(lock.kernel ? [lock.kernel] : [])];
}

export function lockChanges(before: Pick<Lock, 'packages' | 'vmPackages' | 'kernel'> | undefined, after: Pick<Lock, 'packages' | 'vmPackages' | 'kernel'>): LockChanges {
  const old = new Map((before ? allLocked(before) : []).map((p) => [p.name, p]));
  const now = new Map(allLocked(after).map((p) => [p.name, p]));
  const changes: LockChanges = { added: [], removed: [], upgraded: [], downgraded: [] };
  for (const [name, p] of [...now].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const o = old.get(name);
    if (!o) changes.added.push({ name, version: p.version, suite: p.suite });
    else {
      const c = compareVersions(p.version, o.version);
      if (c > 0) changes.upgraded.push({ name, from: o.version, to: p.version, suite: p.suite });
      if (c < 0) changes.downgraded.push({ name, from: o.version, to: p.version, suite: p.suite });
    }
  }
  for (const [name, o] of [...old].sort(([a], [b]) => (a < b ? -1 : 1))) if (!now.has(name)) changes.removed.push({ name, version: o.version });
  return changes;
}

export function hasChanges(c: LockChanges): boolean {
  return c.added.length + c.removed.length + c.upgraded.length + c.downgraded.length > 0;
}
