import Logic from 'logic-solver';
import type { Cnf } from './clauses.js';
import type { Propagation } from './propagate.js';

export interface Optimum {
  /** Variables (1-based) set true. */
  chosen: Set<number>;
  satCalls: number;
  free: number;
}

const name = (v: number) => `p${v}`;
const lit = (l: number) => (l > 0 ? name(l) : `-${name(-l)}`);

/**
 * Minimise the total Installed-Size (exact KiB weights) with MiniSat: find any model, then
 * binary-search the bound `sum <= k` with solveAssuming until the smallest feasible k is
 * proven. Variables fixed by propagation enter as units and stay out of the sum, so the
 * adder circuit only covers the real choices. Returns undefined when there is no model.
 */
export function optimise(cnf: Cnf, prop: Propagation, weightOf: (v: number) => number): Optimum | undefined {
  return Logic.disablingAssertions(() => {
    const solver = new Logic.Solver();
    const n = cnf.names.length;
    for (let v = 1; v <= n; v++) {
      if (prop.value[v] === 1) solver.require(name(v));
      else if (prop.value[v] === -1) solver.forbid(name(v));
    }
    for (const c of cnf.clauses) {
      // Clauses already satisfied by a forced literal add nothing.
      if (c.lits.some((l) => (l > 0 ? prop.value[l] === 1 : prop.value[-l] === -1))) continue;
      const open = c.lits.filter((l) => prop.value[Math.abs(l)] === 0);
      solver.require(Logic.or(open.map(lit)));
    }
    const terms: string[] = [];
    const weights: number[] = [];
    for (let v = 1; v <= n; v++) {
      if (prop.value[v] !== 0) continue;
      terms.push(name(v));
      weights.push(Math.max(0, Math.round(weightOf(v))));
    }
    let satCalls = 1;
    let best = solver.solve();
    if (!best) return undefined;
    if (terms.length > 0) {
      const sum = Logic.weightedSum(terms, weights);
      let hi = best.getWeightedSum(terms, weights);
      let lo = 0;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        satCalls++;
        const s = solver.solveAssuming(Logic.lessThanOrEqual(sum, Logic.constantBits(mid)));
        if (s) {
          best = s;
          hi = s.getWeightedSum(terms, weights);
        } else {
          lo = mid + 1;
        }
      }
    }
    const chosen = new Set<number>();
    for (const t of best.getTrueVars()) if (/^p\d+$/.test(t)) chosen.add(Number(t.slice(1)));
    return { chosen, satCalls, free: terms.length };
  });
}
