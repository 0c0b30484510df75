import type { Cnf } from './clauses.js';

/** Result of unit propagation: value per variable (1 true, -1 false, 0 open) and the clause that forced it. */
export interface Propagation {
  value: Int8Array;
  reason: Int32Array;
  /** Index of a clause whose literals all became false, when propagation alone proves there is no answer. */
  conflict: number | undefined;
}

/**
 * Unit propagation over the whole CNF. It fixes most of a typical closure (a package whose
 * need has one satisfier), which shrinks the optimisation to the real choices, and it
 * records why each value was forced — the raw material of the "why not" explanation.
 */
export function propagate(cnf: Cnf): Propagation {
  const n = cnf.names.length;
  const value = new Int8Array(n + 1);
  const reason = new Int32Array(n + 1).fill(-1);
  const occurs: number[][] = Array.from({ length: n + 1 }, () => []);
  cnf.clauses.forEach((c, i) => {
    for (const l of c.lits) occurs[Math.abs(l)]!.push(i);
  });
  const litValue = (l: number) => (l > 0 ? value[l]! : -value[-l]!);
  const queue: number[] = [];
  const assign = (l: number, why: number) => {
    const x = Math.abs(l);
    value[x] = l > 0 ? 1 : -1;
    reason[x] = why;
    queue.push(x);
  };
  // Returns the index of a falsified clause, if any.
  const check = (i: number): number | undefined => {
    let open = 0;
    let last = 0;
    for (const l of cnf.clauses[i]!.lits) {
      const lv = litValue(l);
      if (lv === 1) return undefined;
      if (lv === 0) {
        open++;
        last = l;
        if (open > 1) return undefined;
      }
    }
    if (open === 0) return i;
    assign(last, i);
    return undefined;
  };
  for (let i = 0; i < cnf.clauses.length; i++) {
    if (cnf.clauses[i]!.lits.length <= 1) {
      const bad = check(i);
      if (bad !== undefined) return { value, reason, conflict: bad };
    }
  }
  while (queue.length) {
    const x = queue.shift()!;
    for (const i of occurs[x]!) {
      const bad = check(i);
      if (bad !== undefined) return { value, reason, conflict: bad };
    }
  }
  return { value, reason, conflict: undefined };
}
