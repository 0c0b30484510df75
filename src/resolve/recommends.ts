import type { Cnf } from './clauses.js';
import { explainConflict } from './explain.js';
import { optionalClauseOracle } from './optimise.js';
import type { Need } from './problem.js';
import { propagate } from './propagate.js';
import type { Universe } from './universe.js';

/** A Recommends left out of the answer, and why in plain words. */
export interface SkippedNeed {
  need: Need;
  reason: string;
}

const isRecommends = (c: Cnf['clauses'][number]) => c.from.kind === 'need' && c.from.need.field === 'recommends';

export function hasRecommends(cnf: Cnf): boolean {
  return cnf.clauses.some(isRecommends);
}

/**
 * Recommends are soft, as in apt: keep each one that can be satisfied together with
 * everything required, skip the others. The rule that makes this deterministic when two
 * Recommends exclude each other: Recommends are taken in the order of `cnf.clauses` — the
 * order buildProblem met them, breadth-first from the request, so a requested package's
 * Recommends come before those of the packages it pulls in, and one package's in the order
 * its field lists them — and each is kept when it is satisfiable together with every
 * required clause and every Recommends kept before it, else skipped. The kept set is
 * maximal: adding any skipped Recommends makes the problem unsatisfiable.
 *
 * Returns undefined when the required clauses alone are unsatisfiable (then the request
 * fails for reasons that have nothing to do with Recommends), else the CNF without the
 * skipped Recommends and the skipped ones with a reason.
 */
export function selectRecommends(cnf: Cnf, universe: Universe): { cnf: Cnf; skipped: SkippedNeed[] } | undefined {
  const recs: number[] = [];
  cnf.clauses.forEach((c, i) => {
    if (isRecommends(c)) recs.push(i);
  });
  const sat = optionalClauseOracle(cnf, recs);
  if (!sat([])) return undefined;
  const kept: number[] = [];
  const skippedAt: Array<{ slot: number; before: number[] }> = [];
  let rest = recs.map((_, i) => i); // indices into recs
  // The greedy rule above, with the first Recommends that fails found by bisection on the
  // prefix of the rest (satisfiability only drops as the prefix grows): a few SAT calls per
  // skipped Recommends instead of one per Recommends.
  while (rest.length) {
    if (sat([...kept, ...rest])) {
      kept.push(...rest);
      break;
    }
    let lo = 0;
    let hi = rest.length - 1; // kept + rest[0..hi] is unsatisfiable
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sat([...kept, ...rest.slice(0, mid + 1)])) lo = mid + 1;
      else hi = mid;
    }
    kept.push(...rest.slice(0, lo));
    skippedAt.push({ slot: rest[lo]!, before: [...kept] });
    rest = rest.slice(lo + 1);
  }
  const keptClauses = new Set(kept.map((i) => recs[i]!));
  const required = cnf.clauses.filter((c) => !isRecommends(c));
  const skipped = skippedAt.map(({ slot, before }) => {
    const clause = cnf.clauses[recs[slot]!]!;
    const need = (clause.from as { need: Need }).need;
    const earlier = new Set(before.map((i) => recs[i]!));
    const trial: Cnf = { ...cnf, clauses: [...required, ...cnf.clauses.filter((_, i) => earlier.has(i)), clause] };
    const prop = propagate(trial);
    const reason =
      prop.conflict !== undefined
        ? explainConflict(trial, prop, universe, prop.conflict).join('; ')
        : `${need.owner} recommends ${need.relation}, which no choice of alternatives installs together with what is required`;
    return { need, reason };
  });
  return { cnf: { ...cnf, clauses: cnf.clauses.filter((c, i) => !isRecommends(c) || keptClauses.has(i)) }, skipped };
}
