import { JeosError } from '../errors.js';

export type RelationOp = '<<' | '<=' | '=' | '>=' | '>>';

/** One package in a relationship field: `name[:arch] [(op version)]`. */
export interface Atom {
  name: string;
  /** `any`, `native` or an architecture name, when the field had `name:arch`. */
  arch?: string;
  op?: RelationOp;
  version?: string;
}

/** `a | b | c`: satisfied by any one atom. A field is a list of these, all required. */
export type Alternatives = Atom[];

const ATOM = /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^\s)]+)\s*\))?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>)?\s*$/;

const cache = new Map<string, Alternatives[]>();

/**
 * Parse a Depends-style field (Debian Policy §7.1). Architecture restrictions
 * `[...]` and build profiles `<...>` (source-only syntax) are ignored. Results
 * are memoised: the same strings recur across thousands of packages.
 */
export function parseRelations(field: string | undefined): Alternatives[] {
  if (!field) return [];
  const hit = cache.get(field);
  if (hit) return hit;
  const out: Alternatives[] = [];
  for (const group of field.split(',')) {
    const trimmed = group.trim();
    if (!trimmed) continue;
    out.push(trimmed.split('|').map((a) => parseAtom(a.trim(), field)));
  }
  cache.set(field, out);
  return out;
}

function parseAtom(text: string, field: string): Atom {
  const m = ATOM.exec(text);
  if (!m) {
    throw new JeosError('E_RELATION_SYNTAX', `cannot parse relation "${text}" in "${field}"`, {
      hint: 'a relation looks like "name", "name (>= 1.0)" or "name:any"',
    });
  }
  const atom: Atom = { name: m[1]! };
  if (m[2]) atom.arch = m[2];
  if (m[3]) {
    // `<` and `>` are obsolete spellings of `<=` and `>=` (Policy §7.1).
    atom.op = m[3] === '<' ? '<=' : m[3] === '>' ? '>=' : (m[3] as RelationOp);
    atom.version = m[4]!;
  }
  return atom;
}

export function formatAtom(atom: Atom): string {
  return `${atom.name}${atom.arch ? `:${atom.arch}` : ''}${atom.op ? ` (${atom.op} ${atom.version})` : ''}`;
}

export function formatAlternatives(alts: Alternatives): string {
  return alts.map(formatAtom).join(' | ');
}
