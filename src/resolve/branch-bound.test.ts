import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeIndex, type Recipe } from '../../test/resolve/fixture.js';
import { branchAndBound } from './branch-bound.js';
import { toCnf } from './clauses.js';
import { optimiseWithMiniSat } from './optimise.js';
import { buildProblem, REQUEST } from './problem.js';
import { propagate } from './propagate.js';
import { dropUnreachable } from './simplify.js';
import { Universe } from './universe.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Archives too big for brute force (20–45 packages, several virtual names), with Conflicts and Breaks. */
function randomArchive(seed: number): Recipe[] {
  const r = rng(seed);
  const n = 20 + Math.floor(r() * 26);
  const pick = () => (r() < 0.15 ? `virt${Math.floor(r() * 3)}` : `p${Math.floor(r() * n)}`);
  return Array.from({ length: n }, (_, i) => {
    const deps = Array.from({ length: Math.floor(r() * 4) }, () => Array.from({ length: 1 + Math.floor(r() * 3) }, pick).join(' | '));
    const recipe: Recipe = { name: `p${i}`, installedSize: Math.floor(r() * 3000) };
    if (deps.length) recipe.depends = deps.join(', ');
    if (r() < 0.2) recipe.conflicts = pick();
    if (r() < 0.1) recipe.breaks = pick();
    if (r() < 0.3) recipe.provides = `virt${Math.floor(r() * 3)}`;
    return recipe;
  });
}

function prepared(recipes: Recipe[]) {
  const universe = new Universe(makeIndex(recipes));
  const need = { owner: REQUEST, field: 'request' as const, relation: 'p0', alternatives: [{ name: 'p0' }], satisfiers: ['p0'] };
  const cnf = toCnf(buildProblem(universe, [need], false));
  const prop = propagate(cnf);
  dropUnreachable(cnf, prop);
  const weight = (v: number) => universe.record(cnf.names[v - 1]!)!.installedSize;
  return { cnf, prop, weight };
}

describe('branch and bound', () => {
  it('finds the same smallest total as MiniSat on 100 random archives', () => {
    let compared = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const { cnf, prop, weight } = prepared(randomArchive(seed));
      if (prop.conflict !== undefined) continue;
      const bb = branchAndBound(cnf, prop, weight);
      const sat = optimiseWithMiniSat(cnf, prop, weight);
      const total = (s: Set<number> | undefined) => (s ? [...s].reduce((t, v) => t + weight(v), 0) : undefined);
      assert.equal(bb.complete, true);
      assert.equal(total(bb.chosen), total(sat?.chosen), `seed ${seed}`);
      if (bb.chosen && bb.free > 0) compared++;
    }
    assert.ok(compared > 25, `only ${compared} archives left a choice to make`);
  });

  it('stops when its work budget runs out', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { cnf, prop, weight } = prepared(randomArchive(seed));
      if (prop.conflict !== undefined) continue;
      if (branchAndBound(cnf, prop, weight).nodes < 3) continue;
      const r = branchAndBound(cnf, prop, weight, { maxWork: 1 });
      assert.equal(r.complete, false);
      return;
    }
    assert.fail('no archive needed a search');
  });
});
