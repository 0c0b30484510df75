import type { ArchiveIndex } from '../archive/client.js';
import type { PackageRecord } from '../archive/packages.js';
import { JeosError } from '../errors.js';
import { toCnf } from './clauses.js';
import { describeHardConflict, explainConflict } from './explain.js';
import { dropUnneeded } from './minimal.js';
import { optimise } from './optimise.js';
import { buildProblem, REQUEST, type Need } from './problem.js';
import { propagate } from './propagate.js';
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
 * proven optimum. Throws E_UNSATISFIABLE with the chain of colliding requirements when no
 * such set exists.
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

  const problem = buildProblem(universe, requestNeeds, request.recommends ?? false);
  const cnf = toCnf(problem);
  const prop = propagate(cnf);
  const subject = specs.map((s) => s.text).join(', ') || '(nothing)';
  if (prop.conflict !== undefined) {
    const chain = explainConflict(cnf, prop, universe, prop.conflict);
    throw new JeosError('E_UNSATISFIABLE', `cannot install ${subject}: ${chain.join('; ')}`, {
      hint: 'change the request or a pin, or add a suite that has what is missing',
      details: chain,
    });
  }
  dropUnreachable(cnf, prop);
  const weight = (v: number) => universe.record(cnf.names[v - 1]!)!.installedSize || 0;
  const best = optimise(cnf, prop, weight);
  if (!best) {
    const clashes = describeHardConflict(problem, prop.value, cnf.varOf);
    throw new JeosError(
      'E_UNSATISFIABLE',
      `cannot install ${subject}: every combination of alternatives runs into a conflict (${clashes.slice(0, 3).join('; ')})`,
      { hint: 'change the request or a pin', details: clashes },
    );
  }
  const chosen = dropUnneeded(new Set([...best.chosen].map((v) => cnf.names[v - 1]!)), problem.needs);
  const violations = checkSet(universe, chosen);
  if (violations.length) throw new Error(`resolver bug: the chosen set is inconsistent: ${violations.join('; ')}`);
  return assemble(universe, chosen, problem.needs, {
    closure: problem.names.length,
    forced: prop.value.reduce((n, x, i) => (i > 0 && x !== 0 ? n + 1 : n), 0),
    free: best.free,
    clauses: cnf.clauses.length,
    searchNodes: best.searchNodes,
    satCalls: best.satCalls,
    optimal: best.optimal,
  });
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

function assemble(universe: Universe, chosen: Set<string>, needs: Need[], stats: Resolution['stats']): Resolution {
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
