import type { ArchiveIndex } from './client.js';
import type { PackageRecord } from './packages.js';
import { compareVersions } from './version.js';

/** Packages of a name installable on the index's architecture (its own or `all`), newest first. */
export function versionsOf(index: ArchiveIndex, name: string): PackageRecord[] {
  const list = (index.byName.get(name) ?? []).filter(
    (p) => p.architecture === index.architecture || p.architecture === 'all',
  );
  // Newest first; for the same version, the suite listed first in the config wins (deterministic).
  const order = new Map(index.suites.map((s, i) => [s.suite, i]));
  return list.sort((a, b) => compareVersions(b.version, a.version) || (order.get(a.suite)! - order.get(b.suite)!));
}

/** apt's candidate: the newest version across the configured suites. */
export function candidateOf(index: ArchiveIndex, name: string): PackageRecord | undefined {
  return versionsOf(index, name)[0];
}

/** Packages whose name or synopsis contains every word of the query (case-insensitive), candidates only. */
export function searchPackages(index: ArchiveIndex, query: string): PackageRecord[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const seen = new Set<string>();
  const out: PackageRecord[] = [];
  for (const p of index.packages) {
    if (seen.has(p.name)) continue;
    const hay = `${p.name} ${p.description ?? ''}`.toLowerCase();
    if (!words.every((w) => hay.includes(w))) continue;
    seen.add(p.name);
    const best = candidateOf(index, p.name);
    if (best) out.push(best);
  }
  // Exact name first, then names starting with the query, then alphabetical.
  const q = words[0] ?? '';
  const rank = (p: PackageRecord) => (p.name === q ? 0 : p.name.startsWith(q) ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Names of packages that Provide `name` (the candidate version of each provider). */
export function providersOf(index: ArchiveIndex, name: string): PackageRecord[] {
  const out: PackageRecord[] = [];
  const seen = new Set<string>();
  for (const p of index.packages) {
    if (!p.provides || seen.has(p.name)) continue;
    if (!p.provides.split(',').some((x) => x.trim().split(/[\s(:]/)[0] === name)) continue;
    seen.add(p.name);
    const c = candidateOf(index, p.name);
    if (c) out.push(c);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
