import { REQUEST } from './problem.js';
import type { DependencyGraph } from './types.js';

/**
 * Dependency paths from a requested package to `name` over the chosen edges: every
 * shortest path (at most `limit`), each starting at a root, e.g.
 * [['nginx', 'libssl3t64', 'openssl-provider-legacy']]. [] when `name` is not in the set.
 */
export function whyPaths(resolution: DependencyGraph, name: string, limit = 20): string[][] {
  if (!resolution.packages.some((p) => p.record.name === name)) return [];
  const next = new Map<string, string[]>();
  for (const e of resolution.edges) {
    if (e.from === REQUEST || e.from === e.to) continue;
    const list = next.get(e.from);
    if (list) {
      if (!list.includes(e.to)) list.push(e.to);
    } else next.set(e.from, [e.to]);
  }
  // Breadth-first from all roots at once; parents[x] = the nodes one step closer to a root.
  const depth = new Map<string, number>();
  const parents = new Map<string, string[]>();
  let frontier = [...resolution.roots].sort();
  for (const r of frontier) depth.set(r, 0);
  for (let d = 1; frontier.length && !depth.has(name); d++) {
    const following: string[] = [];
    for (const x of frontier) {
      for (const y of next.get(x) ?? []) {
        if (depth.has(y) && depth.get(y)! < d) continue;
        if (!depth.has(y)) {
          depth.set(y, d);
          following.push(y);
        }
        parents.set(y, [...(parents.get(y) ?? []), x]);
      }
    }
    frontier = following.sort();
  }
  if (!depth.has(name)) return [];
  const out: string[][] = [];
  const walk = (node: string, suffix: string[]) => {
    if (out.length >= limit) return;
    if (depth.get(node) === 0) {
      out.push([node, ...suffix]);
      return;
    }
    for (const p of [...(parents.get(node) ?? [])].sort()) walk(p, [node, ...suffix]);
  };
  walk(name, []);
  return out;
}
