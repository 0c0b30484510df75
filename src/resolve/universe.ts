import type { ArchiveIndex } from '../archive/client.js';
import { candidateOf } from '../archive/candidates.js';
import type { PackageRecord } from '../archive/packages.js';
import { parseRelations, type Atom } from '../archive/relations.js';
import { satisfiesRelation } from '../archive/version.js';

export type MatchKind = 'depends' | 'conflicts';

interface IndexTables {
  candidates: Map<string, PackageRecord | null>;
  /** Virtual (or real) name → names of packages whose some version Provides it, sorted. */
  providers: Map<string, string[]>;
}

const tablesOf = new WeakMap<ArchiveIndex, IndexTables>();

function tables(index: ArchiveIndex): IndexTables {
  let t = tablesOf.get(index);
  if (t) return t;
  const sets = new Map<string, Set<string>>();
  for (const p of index.packages) {
    if (!p.provides || (p.architecture !== index.architecture && p.architecture !== 'all')) continue;
    for (const piece of p.provides.split(',')) {
      const name = piece.trim().split(/[\s(:]/)[0];
      if (!name) continue;
      const s = sets.get(name);
      if (s) s.add(p.name);
      else sets.set(name, new Set([p.name]));
    }
  }
  const providers = new Map<string, string[]>();
  for (const [k, s] of sets) providers.set(k, [...s].sort());
  t = { candidates: new Map(), providers };
  tablesOf.set(index, t);
  return t;
}

/**
 * The packages one request may use: for each name exactly one version — the pinned one,
 * else apt's candidate (newest across the configured suites) — and which of them satisfy
 * a relationship. Provides and Multi-Arch qualifiers follow dpkg's rules for one native
 * architecture (foreign satisfies any qualifier; `:any` needs Multi-Arch: allowed).
 */
export class Universe {
  private readonly t: IndexTables;
  private readonly memo = new Map<string, string[]>();

  constructor(readonly index: ArchiveIndex, private readonly pins: ReadonlyMap<string, PackageRecord> = new Map()) {
    this.t = tables(index);
  }

  record(name: string): PackageRecord | undefined {
    const pinned = this.pins.get(name);
    if (pinned) return pinned;
    let c = this.t.candidates.get(name);
    if (c === undefined) {
      c = candidateOf(this.index, name) ?? null;
      this.t.candidates.set(name, c);
    }
    return c ?? undefined;
  }

  isPinned(name: string): boolean {
    return this.pins.has(name);
  }

  providerNames(name: string): string[] {
    return this.t.providers.get(name) ?? [];
  }

  /** Names of the packages (one version each) that satisfy `atom`, sorted. */
  satisfiers(atom: Atom, kind: MatchKind): string[] {
    const key = `${kind}\0${atom.name}\0${atom.arch ?? ''}\0${atom.op ?? ''}\0${atom.version ?? ''}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const out = new Set<string>();
    const real = this.record(atom.name);
    if (real && this.archOk(real, atom.arch, kind) && (!atom.op || satisfiesRelation(real.version, atom.op, atom.version!))) {
      out.add(real.name);
    }
    for (const pname of this.providerNames(atom.name)) {
      const rec = this.record(pname);
      if (!rec || !this.archOk(rec, atom.arch, kind)) continue;
      if (providedVersions(rec, atom.name).some((v) => versionMatches(v, atom))) out.add(pname);
    }
    const list = [...out].sort();
    this.memo.set(key, list);
    return list;
  }

  /** dpkg's deparchsatisfied() for a single native architecture (Architecture: all counts as native). */
  archOk(rec: PackageRecord, qualifier: string | undefined, kind: MatchKind): boolean {
    if (rec.multiArch === 'foreign') return true;
    if (!qualifier || qualifier === 'native') return true;
    if (qualifier === 'any') return kind === 'conflicts' || rec.multiArch === 'allowed';
    return qualifier === this.index.architecture;
  }
}

/** The versions under which `rec` Provides `name`: null for an unversioned Provides. */
export function providedVersions(rec: PackageRecord, name: string): Array<string | null> {
  const out: Array<string | null> = [];
  let rels;
  try {
    rels = parseRelations(rec.provides);
  } catch {
    return out;
  }
  for (const group of rels) for (const a of group) if (a.name === name) out.push(a.op === '=' ? a.version! : null);
  return out;
}

/** An unversioned Provides satisfies only unversioned relations (Policy §7.5). */
function versionMatches(provided: string | null, atom: Atom): boolean {
  if (!atom.op) return true;
  return provided !== null && satisfiesRelation(provided, atom.op, atom.version!);
}
