import { formatAlternatives, parseRelations, type Alternatives } from '../archive/relations.js';
import type { Universe } from './universe.js';
import type { ResolutionEdge } from './types.js';

export type DepField = ResolutionEdge['field'];

/** One `a | b | c` a chosen package (or the request) needs, with the packages that satisfy it. */
export interface Need {
  /** A package name, or '(request)'. */
  owner: string;
  field: DepField;
  relation: string;
  alternatives: Alternatives;
  satisfiers: string[];
}

/** Two packages that may not be installed together, and which relationship says so. */
export interface Clash {
  /** The package whose Conflicts/Breaks field names the other. */
  owner: string;
  other: string;
  field: 'conflicts' | 'breaks';
  relation: string;
}

/** The pruned problem: only packages reachable from the request, with their needs and clashes. */
export interface Problem {
  names: string[];
  needs: Need[];
  clashes: Clash[];
  /** Recommends of reachable packages that no package satisfies (skipped, as apt skips them). */
  unmet: Need[];
}

export const REQUEST = '(request)';

const FIELDS: Array<[DepField, 'depends' | 'preDepends' | 'recommends']> = [
  ['pre-depends', 'preDepends'],
  ['depends', 'depends'],
  ['recommends', 'recommends'],
];

/**
 * Walk every Depends/Pre-Depends (and Recommends when asked) from the request lines,
 * visiting every satisfier of every alternative: the reachable closure. Only these
 * packages can be part of a minimal answer, so the solver sees nothing else.
 */
export function buildProblem(universe: Universe, requestNeeds: Need[], recommends: boolean): Problem {
  const needs: Need[] = [...requestNeeds];
  const unmet: Need[] = [];
  const seen = new Set<string>();
  const queue: string[] = [];
  const visit = (name: string) => {
    if (!seen.has(name)) {
      seen.add(name);
      queue.push(name);
    }
  };
  for (const n of requestNeeds) n.satisfiers.forEach(visit);
  while (queue.length) {
    const name = queue.shift()!;
    const rec = universe.record(name)!;
    for (const [field, prop] of FIELDS) {
      if (field === 'recommends' && !recommends) continue;
      for (const alternatives of parseRelations(rec[prop])) {
        const sat = new Set<string>();
        for (const atom of alternatives) for (const s of universe.satisfiers(atom, 'depends')) sat.add(s);
        const satisfiers = [...sat].sort();
        const need: Need = { owner: name, field, relation: formatAlternatives(alternatives), alternatives, satisfiers };
        // An unsatisfiable Recommends is skipped, as apt skips it; a Depends is not.
        if (field === 'recommends' && sat.size === 0) {
          unmet.push(need);
          continue;
        }
        needs.push(need);
        satisfiers.forEach(visit);
      }
    }
  }
  const names = [...seen].sort();
  return { names, needs, clashes: findClashes(universe, names, seen), unmet };
}

function findClashes(universe: Universe, names: string[], inClosure: Set<string>): Clash[] {
  const out: Clash[] = [];
  for (const name of names) {
    const rec = universe.record(name)!;
    for (const [field, text] of [['conflicts', rec.conflicts], ['breaks', rec.breaks]] as const) {
      for (const alternatives of parseRelations(text)) {
        for (const atom of alternatives) {
          for (const other of universe.satisfiers(atom, 'conflicts')) {
            // A package never conflicts with itself, even through a name it Provides.
            if (other === name || !inClosure.has(other)) continue;
            out.push({ owner: name, other, field, relation: formatAlternatives([atom]) });
          }
        }
      }
    }
  }
  return out;
}
