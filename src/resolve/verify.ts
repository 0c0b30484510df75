import { formatAlternatives, parseRelations } from '../archive/relations.js';
import type { Universe } from './universe.js';

/**
 * Check a chosen set directly against the package fields, independently of the CNF:
 * every Pre-Depends/Depends has a satisfier inside the set, and no Conflicts/Breaks
 * names another member. Returns the violations in words (empty when the set is sound).
 */
export function checkSet(universe: Universe, names: Iterable<string>): string[] {
  const set = new Set(names);
  const problems: string[] = [];
  for (const name of [...set].sort()) {
    const rec = universe.record(name);
    if (!rec) {
      problems.push(`${name} is not in the archive`);
      continue;
    }
    for (const [label, text] of [['pre-depends on', rec.preDepends], ['needs', rec.depends]] as const) {
      for (const alts of parseRelations(text)) {
        if (!alts.some((a) => universe.satisfiers(a, 'depends').some((s) => set.has(s)))) {
          problems.push(`${name} ${label} ${formatAlternatives(alts)}, which the set does not contain`);
        }
      }
    }
    for (const [label, text] of [['conflicts with', rec.conflicts], ['breaks', rec.breaks]] as const) {
      for (const alts of parseRelations(text)) {
        for (const a of alts) {
          const hit = universe.satisfiers(a, 'conflicts').filter((s) => s !== name && set.has(s));
          if (hit.length) problems.push(`${name} ${label} ${formatAlternatives([a])}, but the set contains ${hit.join(', ')}`);
        }
      }
    }
  }
  return problems;
}
