import type { Atom } from '../archive/relations.js';
import { formatAtom } from '../archive/relations.js';
import type { Clause, Cnf } from './clauses.js';
import { REQUEST, type Clash, type Need, type Problem } from './problem.js';
import type { Propagation } from './propagate.js';
import type { Universe } from './universe.js';
import { providedVersions } from './universe.js';

/**
 * The chain of requirements that collide, in plain words, from a propagation conflict:
 * each forced value is explained by the clause that forced it, causes first, e.g.
 * ["the request asks for a", "a needs b", "b conflicts with c", "a needs c"].
 */
export function explainConflict(cnf: Cnf, prop: Propagation, universe: Universe, conflict: number): string[] {
  const lines: string[] = [];
  const done = new Set<number>();
  const explainVar = (x: number) => {
    if (done.has(x)) return;
    done.add(x);
    const r = prop.reason[x]!;
    if (r < 0) return;
    const c = cnf.clauses[r]!;
    for (const l of c.lits) if (Math.abs(l) !== x) explainVar(Math.abs(l));
    const s = sentence(c, universe);
    if (!lines.includes(s)) lines.push(s);
  };
  const last = cnf.clauses[conflict]!;
  for (const l of last.lits) explainVar(Math.abs(l));
  const final = sentence(last, universe);
  const isRequest = last.from.kind === 'need' && last.from.need.owner === REQUEST;
  const rest = lines.filter((l) => l !== final);
  return isRequest ? [final, ...rest] : [...rest, final];
}

function sentence(c: Clause, universe: Universe): string {
  return c.from.kind === 'need' ? needSentence(c.from.need, universe) : clashSentence(c.from.clash);
}

export function needSentence(need: Need, universe: Universe): string {
  const verb = need.field === 'pre-depends' ? 'pre-depends on' : need.field === 'recommends' ? 'recommends' : 'needs';
  const head = need.owner === REQUEST ? `the request asks for ${need.relation}` : `${need.owner} ${verb} ${need.relation}`;
  if (need.satisfiers.length > 0) return head;
  return `${head}, but ${need.alternatives.map((a) => whyNothing(a, universe)).join(', and ')}`;
}

export function clashSentence(clash: Clash): string {
  const verb = clash.field === 'conflicts' ? 'conflicts with' : 'breaks';
  const via = clash.relation.split(/[\s:]/)[0] === clash.other ? '' : ` (which ${clash.other} provides)`;
  return `${clash.owner} ${verb} ${clash.relation}${via}`;
}

/** Why nothing satisfies one atom: "the only libfoo is 1.5 (trixie)", "no package is called or provides foo". */
export function whyNothing(atom: Atom, universe: Universe): string {
  const real = universe.record(atom.name);
  const pin = (name: string) => (universe.isPinned(name) ? ', pinned' : '');
  if (real) {
    if (!universe.archOk(real, atom.arch, 'depends')) {
      return `${real.name} is Multi-Arch: ${real.multiArch ?? 'no'}, so it cannot satisfy ${formatAtom(atom)}`;
    }
    return `the only ${real.name} is ${real.version} (${real.suite}${pin(real.name)})`;
  }
  const offers: string[] = [];
  for (const p of universe.providerNames(atom.name)) {
    const rec = universe.record(p);
    if (!rec) continue;
    for (const v of providedVersions(rec, atom.name)) offers.push(v === null ? `${p} (unversioned)` : `${p} (= ${v})`);
  }
  if (offers.length === 0) return `no package is called or provides ${atom.name}`;
  return `${atom.name} is only provided by ${offers.slice(0, 5).join(', ')}${offers.length > 5 ? ', …' : ''}`;
}

/** When only the search (not propagation) proves there is no answer: name the clashes that limit the choice. */
export function describeHardConflict(problem: Problem, value: Int8Array, varOf: Map<string, number>): string[] {
  const open = (n: string) => value[varOf.get(n)!] !== -1;
  return problem.clashes.filter((c) => open(c.owner) && open(c.other)).map(clashSentence).slice(0, 20);
}
