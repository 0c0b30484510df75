import { REQUEST, type Need } from './problem.js';

/**
 * Drop chosen packages nothing needs (a zero-size package the optimiser had no reason to
 * leave out). Removing a package can only break a need it alone satisfies, never a
 * Conflicts/Breaks, so the set stays valid. Deterministic: names in order, to a fixpoint.
 */
export function dropUnneeded(chosen: Set<string>, needs: Need[]): Set<string> {
  const set = new Set(chosen);
  const bySatisfier = new Map<string, Need[]>();
  for (const n of needs) {
    for (const s of n.satisfiers) {
      const list = bySatisfier.get(s);
      if (list) list.push(n);
      else bySatisfier.set(s, [n]);
    }
  }
  const required = (name: string) =>
    (bySatisfier.get(name) ?? []).some(
      (n) =>
        (n.owner === REQUEST || (n.owner !== name && set.has(n.owner))) &&
        !n.satisfiers.some((s) => s !== name && set.has(s)),
    );
  let changed = true;
  while (changed) {
    changed = false;
    for (const name of [...set].sort()) {
      if (!required(name)) {
        set.delete(name);
        changed = true;
      }
    }
  }
  return set;
}
