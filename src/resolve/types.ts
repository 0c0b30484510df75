import type { PackageRecord } from '../archive/packages.js';

/** What to resolve: the workload's packages and how far to follow relationships. */
export interface ResolveRequest {
  /**
   * Package specs: `nginx`, `nginx=1.26.3-3` (exact), `nginx=1.26.*` (glob on the version),
   * `nginx/trixie-security` (newest version in that suite). A pin replaces the candidate
   * (the newest version across suites) for that package only. A name that no package has
   * but some package Provides is a virtual request: the smallest provider is chosen.
   */
  packages: string[];
  /**
   * Follow Recommends as well. Default false. Recommends are soft, as in apt: one that nothing
   * satisfies, or that cannot be installed together with what is required (a Conflicts/Breaks,
   * its own unsatisfiable Depends), is skipped and listed in `Resolution.skippedRecommends`.
   */
  recommends?: boolean;
  /** 'minbase' also requests every Essential: yes and Priority: required package. Default 'none'. */
  profile?: 'none' | 'minbase';
}

export interface ResolvedPackage {
  record: PackageRecord;
  /** Names of the chosen packages whose relationship this package satisfies; '(request)' for a requested one. */
  requestedBy: string[];
}

/** One relationship the chosen set relies on: `from` needs `relation`, and `to` satisfies it. */
export interface ResolutionEdge {
  /** A package name, or '(request)'. */
  from: string;
  to: string;
  field: 'request' | 'depends' | 'pre-depends' | 'recommends';
  /** The relationship as written, e.g. `libssl3t64 (>= 3.0.0)` or `awk | mawk`. */
  relation: string;
}

export interface Resolution {
  /** The chosen packages, sorted by name. */
  packages: ResolvedPackage[];
  /** Sum of Installed-Size over `packages`, in KiB (as in the Packages index). */
  totalInstalledSize: number;
  /** The packages that satisfy the request lines themselves (roots of every why-path), sorted. */
  roots: string[];
  /** Every satisfied relationship between chosen packages, sorted; what `whyPaths` walks. */
  edges: ResolutionEdge[];
  stats: ResolveStats;
  /** Recommends of chosen packages that were skipped (only with `recommends: true`), sorted by owner and relation. */
  skippedRecommends: SkippedRecommends[];
}

/** A Recommends left out: `owner` recommends `relation`, and why it could not be satisfied. */
export interface SkippedRecommends {
  owner: string;
  relation: string;
  /** In plain words, e.g. "app recommends helper; helper conflicts with core; the request asks for core". */
  reason: string;
}

/** What whyPaths walks: the roots, the edges and the names in the set (a Resolution, or one rebuilt from a lock). */
export type DependencyGraph = Pick<Resolution, 'roots' | 'edges'> & { packages: ReadonlyArray<{ record: { name: string } }> };

export interface ResolveStats {
  /** Packages reachable from the request (the pruned problem). */
  closure: number;
  /** Packages fixed by unit propagation before the search. */
  forced: number;
  /** Packages left to the search. */
  free: number;
  clauses: number;
  /** Nodes of the branch-and-bound search. */
  searchNodes: number;
  /** SAT calls made by MiniSat (first solution + bound tightening), only when the branch and bound ran out of budget. */
  satCalls: number;
  /** Whether the KiB optimum was proven; false only when the branch and bound ran out of budget and MiniSat's
   *  refine time ran out too (then within MiB rounding). */
  optimal: boolean;
}
