import type { ArchiveIndex, SuiteMetadata } from '../../src/archive/client.js';
import type { PackageRecord } from '../../src/archive/packages.js';

export type Recipe = Partial<PackageRecord> & { name: string };

/** An in-memory ArchiveIndex from recipes: version 1, amd64, suite trixie and 100 KiB unless given. */
export function makeIndex(recipes: Recipe[], suites: string[] = ['trixie', 'trixie-security']): ArchiveIndex {
  const packages: PackageRecord[] = recipes.map((r) => ({
    version: '1',
    architecture: 'amd64',
    suite: suites[0]!,
    component: 'main',
    installedSize: 100,
    size: 1000,
    filename: `pool/main/${r.name[0]}/${r.name}/${r.name}_${r.version ?? '1'}_${r.architecture ?? 'amd64'}.deb`,
    sha256: '0'.repeat(64),
    ...r,
  }));
  const byName = new Map<string, PackageRecord[]>();
  for (const p of packages) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const meta = suites.map((suite) => ({ suite, mirror: 'http://mirror.invalid/debian/', indices: [] }) as unknown as SuiteMetadata);
  return { suites: meta, architecture: 'amd64', packages, byName };
}
