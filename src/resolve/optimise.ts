import { createRequire } from 'node:module';
import type LogicModule from 'logic-solver';

// MiniSat compiled to JS is slow to load: load it on the first solve, not at start-up,
// so commands that never resolve (build with a current lock, test, show) start fast.
let logic: typeof LogicModule | undefined;
const Logic = new Proxy({} as typeof LogicModule, {
  get: (_, key) => (logic ??= createRequire(import.meta.url)('logic-solver') as typeof LogicModule)[key as keyof typeof LogicModule],
});
import { branchAndBound } from './branch-bound.js';
import type { Cnf } from './clauses.js';
import type { Propagation } from './propagate.js';

export interface Optimum {
  /** Variables (1-based) set true. */
  chosen: Set<number>;
  /** Branch-and-bound nodes visited. */
  searchNodes: number;
  /** MiniSat calls, when the branch and bound gave up and MiniSat took over (0 otherwise). */
  satCalls: number;
  free: number;
  /** True when no set with a smaller exact KiB total exists (proven by an unsatisfiable bound). */
  optimal: boolean;
}

export interface OptimiseOptions {
  /** Work budget of the branch and bound before MiniSat takes over (see SearchOptions.maxWork); 0 skips it. */
  searchWork?: number;
  /** Up to this many open packages, bisect directly on exact KiB weights. */
  exactLimit?: number;
  /** Up to this many open packages, the exact KiB descent after the MiB-scaled optimum runs to a proof. */
  refineLimit?: number;
  /** Above refineLimit: time allowed for the exact descent (default 0: one exact step on gnome-core's 632 open
   *  packages took seconds, so very large requests stop at the MiB optimum, reported as optimal: false). */
  refineMs?: number;
  now?: () => number;
}

const name = (v: number) => `p${v}`;
const lit = (l: number) => (l > 0 ? name(l) : `-${name(-l)}`);

/**
 * Minimise the total Installed-Size: first the exact branch and bound, which follows the
 * shape of the problem and proves the optimum of every workload measured (gnome-core
 * included) in well under a second; if it runs out of its work budget, MiniSat.
 * Returns undefined when there is no model.
 */
export function optimise(cnf: Cnf, prop: Propagation, weightOf: (v: number) => number, options: OptimiseOptions = {}): Optimum | undefined {
  let searchNodes = 0;
  if (options.searchWork !== 0) {
    const found = branchAndBound(cnf, prop, weightOf, { maxWork: options.searchWork });
    if (found.complete) return found.chosen && { chosen: found.chosen, searchNodes: found.nodes, satCalls: 0, free: found.free, optimal: true };
    searchNodes = found.nodes;
  }
  const sat = optimiseWithMiniSat(cnf, prop, weightOf, options);
  return sat && { ...sat, searchNodes };
}

/**
 * Minimise the total Installed-Size with MiniSat. Variables fixed by propagation enter as
 * units and stay out of the sum, so the adder circuit only covers the real choices.
 * Small problems: bisect the bound `sum <= k` on exact KiB weights until the smallest
 * feasible k is proven. Large problems (a desktop task): exact-KiB circuits make MiniSat
 * crawl on loose bounds, so first bisect on MiB weights (ceil, so small packages still
 * cost something), then descend on exact KiB from that near-optimal answer — each step
 * asks for a strictly smaller total — until one step is unsatisfiable (proven optimal) or
 * the refine budget runs out (optimal: false). Returns undefined when there is no model.
 */
export function optimiseWithMiniSat(
  cnf: Cnf,
  prop: Propagation,
  weightOf: (v: number) => number,
  options: OptimiseOptions = {},
): Omit<Optimum, 'searchNodes'> | undefined {
  const exactLimit = options.exactLimit ?? 200;
  const refineLimit = options.refineLimit ?? 400;
  const refineMs = options.refineMs ?? 0;
  const now = options.now ?? (() => performance.now());
  return Logic.disablingAssertions(() => {
    const solver = new Logic.Solver();
    const n = cnf.names.length;
    for (let v = 1; v <= n; v++) {
      if (prop.value[v] === 1) solver.require(name(v));
      else if (prop.value[v] === -1) solver.forbid(name(v));
    }
    const used = new Set<number>();
    for (const c of cnf.clauses) {
      // Clauses already satisfied by a forced literal add nothing.
      if (c.lits.some((l) => (l > 0 ? prop.value[l] === 1 : prop.value[-l] === -1))) continue;
      const open = c.lits.filter((l) => prop.value[Math.abs(l)] === 0);
      for (const l of open) used.add(Math.abs(l));
      solver.require(Logic.or(open.map(lit)));
    }
    // An open variable no remaining clause mentions is unconstrained: leaving it out is optimal.
    for (let v = 1; v <= n; v++) if (prop.value[v] === 0 && !used.has(v)) solver.forbid(name(v));
    const terms: string[] = [];
    const exact: number[] = [];
    for (let v = 1; v <= n; v++) {
      if (prop.value[v] !== 0 || !used.has(v)) continue;
      terms.push(name(v));
      exact.push(Math.max(0, Math.round(weightOf(v))));
    }
    const calls = { n: 1 };
    let best = solver.solve();
    if (!best) return undefined;
    let optimal = true;
    if (terms.length > 0 && terms.length <= exactLimit) {
      best = bisect(solver, best, terms, exact, calls);
    } else if (terms.length > 0) {
      const coarse = exact.map((w) => Math.ceil(w / 1024));
      best = bisect(solver, best, terms, coarse, calls);
      const sum = Logic.weightedSum(terms, exact);
      const deadline = terms.length <= refineLimit ? Infinity : now() + refineMs;
      optimal = false;
      while (now() < deadline) {
        const cost = best.getWeightedSum(terms, exact);
        if (cost === 0) {
          optimal = true;
          break;
        }
        calls.n++;
        const s = solver.solveAssuming(Logic.lessThanOrEqual(sum, Logic.constantBits(cost - 1)));
        if (!s) {
          optimal = true;
          break;
        }
        best = s;
      }
    }
    const chosen = new Set<number>();
    for (const t of best.getTrueVars()) if (/^p\d+$/.test(t)) chosen.add(Number(t.slice(1)));
    return { chosen, satCalls: calls.n, free: terms.length, optimal };
  });
}

/** Smallest feasible `sum <= k` by bisection between 0 and the current cost. */
function bisect(solver: LogicModule.Solver, start: LogicModule.Solution, terms: string[], weights: number[], calls: { n: number }): LogicModule.Solution {
  let best = start;
  const sum = Logic.weightedSum(terms, weights);
  let hi = best.getWeightedSum(terms, weights);
  let lo = 0;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    calls.n++;
    const s = solver.solveAssuming(Logic.lessThanOrEqual(sum, Logic.constantBits(mid)));
    if (s) {
      best = s;
      hi = s.getWeightedSum(terms, weights);
    } else {
      lo = mid + 1;
    }
  }
  return best;
}

/**
 * Incremental satisfiability for choosing which Recommends to keep: every clause of `cnf`
 * holds except the `optional` ones (clause indices), each of which holds only when it is
 * switched on. The returned function answers "is there a model with these optional clauses
 * (indices into `optional`) on?" with one MiniSat instance reused across calls.
 */
export function optionalClauseOracle(cnf: Cnf, optional: number[]): (on: number[]) => boolean {
  return Logic.disablingAssertions(() => {
    const solver = new Logic.Solver();
    const selector = (i: number) => `r${i}`;
    const slot = new Map(optional.map((c, i) => [c, i]));
    cnf.clauses.forEach((c, ci) => {
      const lits = c.lits.map(lit);
      const i = slot.get(ci);
      solver.require(Logic.or(i === undefined ? lits : [`-${selector(i)}`, ...lits]));
    });
    return (on: number[]) =>
      Logic.disablingAssertions(() => (on.length ? solver.solveAssuming(Logic.and(on.map(selector))) : solver.solve()) !== null);
  });
}
