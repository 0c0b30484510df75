import { REQUEST, type Clash, type Need, type Problem } from './problem.js';

/** A CNF clause over package variables (literal +v / -v for variable v-1), and where it came from. */
export interface Clause {
  lits: number[];
  from: { kind: 'need'; need: Need } | { kind: 'clash'; clash: Clash };
}

export interface Cnf {
  names: string[];
  varOf: Map<string, number>;
  clauses: Clause[];
}

/** need: owner → one of the satisfiers; clash: not both. Variables are numbered in name order. */
export function toCnf(problem: Problem): Cnf {
  const varOf = new Map(problem.names.map((n, i) => [n, i + 1]));
  const v = (name: string) => varOf.get(name)!;
  const clauses: Clause[] = [];
  for (const need of problem.needs) {
    const lits = need.satisfiers.map(v);
    if (need.owner !== REQUEST) lits.unshift(-v(need.owner));
    clauses.push({ lits, from: { kind: 'need', need } });
  }
  for (const clash of problem.clashes) {
    clauses.push({ lits: [-v(clash.owner), -v(clash.other)], from: { kind: 'clash', clash } });
  }
  return { names: problem.names, varOf, clauses };
}
