import type { Cnf } from './clauses.js';
import type { Propagation } from './propagate.js';
import { REQUEST } from './problem.js';

/**
 * Beyond propagation: keep open only the packages some still-open need can reach from
 * the packages already forced in (or from an open request line), and set the rest
 * false. Why this keeps the optimum: from any valid set, keeping only what is reachable
 * from the roots — following, for a need already met by a forced package, that package —
 * is still valid (each kept package's needs are met by a kept package, removing packages
 * never breaks a Conflicts/Breaks) and no larger, because sizes are non-negative.
 * Mutates `prop.value` (reason -2 marks "not reachable through an open need").
 */
export function dropUnreachable(cnf: Cnf, prop: Propagation): void {
  const { value } = prop;
  const n = cnf.names.length;
  const sat = (lits: number[]) => lits.some((l) => (l > 0 ? value[l] === 1 : value[-l] === -1));
  // Open need clauses, by owner (0 for the request).
  const byOwner: number[][] = Array.from({ length: n + 1 }, () => []);
  cnf.clauses.forEach((c, i) => {
    if (c.from.kind !== 'need' || sat(c.lits)) return;
    const owner = c.from.need.owner === REQUEST ? 0 : cnf.varOf.get(c.from.need.owner)!;
    byOwner[owner]!.push(i);
  });
  const reached = new Uint8Array(n + 1);
  const stack: number[] = [0];
  for (let v = 1; v <= n; v++) if (value[v] === 1) stack.push(v);
  for (const v of stack) reached[v] = 1;
  while (stack.length) {
    const owner = stack.pop()!;
    for (const i of byOwner[owner]!) {
      for (const l of cnf.clauses[i]!.lits) {
        if (l > 0 && value[l] === 0 && !reached[l]) {
          reached[l] = 1;
          stack.push(l);
        }
      }
    }
  }
  for (let v = 1; v <= n; v++) {
    if (value[v] === 0 && !reached[v]) {
      value[v] = -1;
      prop.reason[v] = -2;
    }
  }
}
