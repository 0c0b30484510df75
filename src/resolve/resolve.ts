import type { ArchiveIndex } from '../archive/client.js';
import type { PackageRecord } from '../archive/packages.js';
import { JeosError } from '../errors.js';
import { toCnf, type Cnf } from './clauses.js';
import { describeHardConflict, explainConflict, needSentence } from './explain.js';
import { dropUnneeded } from './minimal.js';
import { optimise, type Optimum } from './optimise.js';
import { buildProblem, REQUEST, type Need, type Problem } from './problem.js';
import { propagate, type Propagation } from './propagate.js';
import { hasRecommends, selectRecommends, type SkippedNeed } from './recommends.js';
import { dropUnreachable } from './simplify.js';
import { isPin, parseSpec, selectPinned, type RequestSpec } from './request.js';
import type { Resolution, ResolutionEdge, ResolveRequest } from './types.js';
import { Universe } from './universe.js';
import { checkSet } from './verify.js';

/**
 * The smallest set of packages (by total Installed-Size) that satisfies the request:
 * every Pre-Depends/Depends met inside the set, no Conflicts/Breaks between members,
 * one version per package (the pin, else the newest across suites). Complete and exact:
 * branch and bound (MiniSat if that runs out of budget) over the reachable closure, with a
 * proven optimum. Recommends (when asked for) are soft: those that cannot be satisfied together
 * with what is required are skipped (see selectRecommends) and listed. Throws E_UNSATISFIABLE
 * with the chain of colliding requirements when no such set exists.
 */
export function resolve(index: ArchiveIndex, request: ResolveRequest): Resolution {
  const specs = dedupe(request.packages.map(parseSpec));
  const pins = new Map<string, PackageRecord>();
  for (const spec of specs) {
    if (!isPin(spec)) continue;
    if (pins.has(spec.name)) {
      throw new JeosError('E_REQUEST_CONFLICT', `${spec.name} is pinned twice in the request`, { hint: 'keep one pin per package' });
    }
    pins.set(spec.name, selectPinned(index, spec));
  }
  const universe = new Universe(index, pins);
  const requestNeeds = specs.map((spec) => requestNeed(universe, spec));
  if (request.profile === 'minbase') requestNeeds.push(...minbaseNeeds(universe, new Set(specs.map((s) => s.name))));

  const recommends = request.recommends ?? false;
  const subject = specs.map((s) => s.text).join(', ') || '(nothing)';
  let problem = buildProblem(universe, requestNeeds, recommends);
  let cnf = toCnf(problem);
  let skipped: SkippedNeed[] = problem.unmet.map((need) => ({ need, reason: needSentence(need, universe) }));
  let run = solveCnf(cnf, problem, universe, subject);
  if (run instanceof JeosError && hasRecommends(cnf)) {
    // Recommends are soft: keep those that fit with what is required, skip the rest.
    const kept = selectRecommends(cnf, universe);
    if (kept) {
      cnf = kept.cnf;
      skipped = [...skipped, ...kept.skipped];
    } else {
      // The request fails without any Recommends too: explain it as it would be without them.
      problem = buildProblem(universe, requestNeeds, false);
      cnf = toCnf(problem);
      skipped = [];
    }
    run = solveCnf(cnf, problem, universe, subject);
  }
  if (run instanceof JeosError) throw run;
  const { prop, best } = run;
  const skippedNeeds = new Set(skipped.map((s) => s.need));
  const needs = problem.needs.filter((n) => !skippedNeeds.has(n));
  const chosen = dropUnneeded(new Set([...best.chosen].map((v) => cnf.names[v - 1]!)), needs);
  const violations = checkSet(universe, chosen);
  if (violations.length) throw new Error(`resolver bug: the chosen set is inconsistent: ${violations.join('; ')}`);
  const skippedRecommends = skipped
    .filter((s) => chosen.has(s.need.owner))
    .map((s) => ({ owner: s.need.owner, relation: s.need.relation, reason: s.reason }))
    .sort((a, b) => cmp(a.owner, b.owner) || cmp(a.relation, b.relation));
  const resolution = assemble(universe, chosen, needs, {
    closure: problem.names.length,
    forced: prop.value.reduce((n, x, i) => (i > 0 && x !== 0 ? n + 1 : n), 0),
    free: best.free,
    clauses: cnf.clauses.length,
    searchNodes: best.searchNodes,
    satCalls: best.satCalls,
    optimal: best.optimal,
  });
  return { ...resolution, skippedRecommends };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Propagate and optimise one CNF: the optimum, or the E_UNSATISFIABLE error that explains why there is none. */
function solveCnf(cnf: Cnf, problem: Problem, universe: Universe, subject: string): { prop: Propagation; best: Optimum } | JeosError {
  const prop = propagate(cnf);
  if (prop.conflict !== undefined) {
    const chain = explainConflict(cnf, prop, universe, prop.conflict);
    return new JeosError('E_UNSATISFIABLE', `cannot install ${subject}: ${chain.join('; ')}`, {
      hint: 'change the request or a pin, or add a suite that has what is missing',
      details: chain,
    });
  }
  dropUnreachable(cnf, prop);
  const weight = (v: number) => universe.record(cnf.names[v - 1]!)!.installedSize || 0;
  const best = optimise(cnf, prop, weight);
  if (!best) {
    const clashes = describeHardConflict(problem, prop.value, cnf.varOf);
    return new JeosError(
      'E_UNSATISFIABLE',
      `cannot install ${subject}: every combination of alternatives runs into a conflict (${clashes.slice(0, 3).join('; ')})`,
      { hint: 'change the request or a pin', details: clashes },
    );
  }
  return { prop, best };
}

function dedupe(specs: RequestSpec[]): RequestSpec[] {
  const byText = new Map(specs.map((s) => [s.text, s]));
  return [...byText.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}

/** A request line: the real package of that name, else any provider of it (a virtual request). */
function requestNeed(universe: Universe, spec: RequestSpec): Need {
  const atom = { name: spec.name };
  const satisfiers = universe.record(spec.name) ? [spec.name] : universe.satisfiers(atom, 'depends');
  return { owner: REQUEST, field: 'request', relation: spec.text, alternatives: [atom], satisfiers };
}

/** minbase: every package whose candidate is Essential: yes or Priority: required. */
function minbaseNeeds(universe: Universe, already: Set<string>): Need[] {
  const out: Need[] = [];
  const names = [...new Set(universe.index.packages.map((p) => p.name))].sort();
  for (const name of names) {
    if (already.has(name)) continue;
    const rec = universe.record(name);
    if (!rec || !(rec.essential || rec.priority === 'required')) continue;
    out.push({ owner: REQUEST, field: 'request', relation: name, alternatives: [{ name }], satisfiers: [name] });
  }
  return out;
}

function assemble(universe: Universe, chosen: Set<string>, needs: Need[], stats: Resolution['stats']): Omit<Resolution, 'skippedRecommends'> {
  const edges: ResolutionEdge[] = [];
  const roots = new Set<string>();
  for (const n of needs) {
    if (n.owner !== REQUEST && !chosen.has(n.owner)) continue;
    for (const s of n.satisfiers) {
      if (!chosen.has(s)) continue;
      edges.push({ from: n.owner, to: s, field: n.field, relation: n.relation });
      if (n.owner === REQUEST) roots.add(s);
    }
  }
  const key = (e: ResolutionEdge) => `${e.from}\0${e.to}\0${e.field}\0${e.relation}`;
  const unique = [...new Map(edges.map((e) => [key(e), e])).values()].sort((a, b) => (key(a) < key(b) ? -1 : 1));
  const requestedBy = new Map<string, Set<string>>();
  for (const e of unique) {
    if (e.from === e.to) continue;
    const s = requestedBy.get(e.to) ?? new Set<string>();
    s.add(e.from);
    requestedBy.set(e.to, s);
  }
  const names = [...chosen].sort();
  const packages = names.map((name) => ({
    record: universe.record(name)!,
    requestedBy: [...(requestedBy.get(name) ?? [])].sort(),
  }));
  const totalInstalledSize = packages.reduce((t, p) => t + (p.record.installedSize || 0), 0);
  return { packages, totalInstalledSize, roots: [...roots].sort(), edges: unique, stats };
}
