/**
 * When a trimmed image fails its health check: which dropped files does the
 * workload's own output name? Paths, sonames ("libfoo.so.1: cannot open shared
 * object file"), Python modules ("No module named 'foo'") and Perl modules
 * ("Can't locate Foo/Bar.pm") are looked up among what the trim dropped.
 */
import type { TrimExplanation } from './types.js';

export interface TrimSuspect {
  /** The dropped path, as the image would have it. */
  path: string;
  /** The package it belonged to. */
  pkg: string;
  /** What in the output pointed at it. */
  seen: string;
}

const canonical = (p: string): string => p.replace(/^\/(bin|sbin|lib|lib32|lib64|libx32)\//, '/usr/$1/');

export function trimSuspects(explanation: TrimExplanation, output: string, limit = 10): TrimSuspect[] {
  const byPath = new Map<string, { path: string; pkg: string }>();
  const byBase = new Map<string, Array<{ path: string; pkg: string }>>();
  for (const [pkg, paths] of Object.entries(explanation.dropped)) {
    for (const path of paths) {
      const entry = { path: canonical(path), pkg };
      byPath.set(entry.path, entry);
      const base = path.slice(path.lastIndexOf('/') + 1);
      byBase.set(base, [...(byBase.get(base) ?? []), entry]);
    }
  }
  const found = new Map<string, TrimSuspect>();
  const add = (entry: { path: string; pkg: string } | undefined, seen: string): void => {
    if (entry && !found.has(entry.path)) found.set(entry.path, { ...entry, seen });
  };
  for (const m of output.matchAll(/\/[A-Za-z0-9._+@%=,-]+(?:\/[A-Za-z0-9._+@%=,-]+)*/g)) add(byPath.get(canonical(m[0])), m[0]);
  for (const m of output.matchAll(/\b[A-Za-z0-9_+-]+\.so(?:\.[0-9]+)*\b/g)) for (const e of byBase.get(m[0]) ?? []) add(e, m[0]);
  const suffixes: Array<[string, string[]]> = [];
  for (const m of output.matchAll(/No module named '([A-Za-z0-9_.]+)'/g)) {
    const mod = m[1]!.replace(/\./g, '/');
    suffixes.push([m[0], [`/${mod}.py`, `/${mod}/__init__.py`]]);
  }
  for (const m of output.matchAll(/Can't locate ([A-Za-z0-9_/]+\.p[ml])/g)) suffixes.push([m[0], [`/${m[1]}`]]);
  for (const [seen, ends] of suffixes) {
    for (const [path, entry] of byPath) if (ends.some((e) => path.endsWith(e))) add(entry, seen);
  }
  return [...found.values()].slice(0, limit);
}

/** The lines that tell the user what to keep. */
export function describeSuspects(suspects: TrimSuspect[]): string[] {
  if (!suspects.length) return [];
  return [
    'the trim dropped files the workload\'s output names:',
    ...suspects.map((s) => `  ${s.path} (from ${s.pkg}; the output says "${s.seen}")`),
    'keep them with, in jeos.yaml:',
    '  trim:',
    `    keep: [${suspects.map((s) => s.path).join(', ')}]`,
  ];
}
