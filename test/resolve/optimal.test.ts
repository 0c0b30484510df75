import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JeosError } from '../../src/errors.js';
import { resolve } from '../../src/resolve/index.js';
import { Universe } from '../../src/resolve/universe.js';
import { checkSet } from '../../src/resolve/verify.js';
import { makeIndex, type Recipe } from './fixture.js';

/** Small seeded PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomUniverse(seed: number): Recipe[] {
  const r = rng(seed);
  const n = 4 + Math.floor(r() * 6);
  const name = (i: number) => `p${i}`;
  const pick = () => name(Math.floor(r() * n));
  const recipes: Recipe[] = [];
  for (let i = 0; i < n; i++) {
    const deps: string[] = [];
    for (let d = Math.floor(r() * 3); d > 0; d--) {
      const alts = Array.from({ length: 1 + Math.floor(r() * 3) }, () => (r() < 0.2 ? 'virt' : pick()));
      deps.push(alts.join(' | '));
    }
    const recipe: Recipe = { name: name(i), installedSize: 1 + Math.floor(r() * 1000) };
    if (deps.length) recipe.depends = deps.join(', ');
    if (r() < 0.3) recipe.conflicts = pick();
    if (r() < 0.15) recipe.breaks = 'virt';
    if (r() < 0.3) recipe.provides = 'virt';
    recipes.push(recipe);
  }
  return recipes;
}

describe('resolve is optimal and complete (brute force over small random archives)', () => {
  it('matches exhaustive search on 300 random archives', () => {
    let solved = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const recipes = randomUniverse(seed);
      const index = makeIndex(recipes);
      const universe = new Universe(index);
      const all = recipes.map((x) => x.name);
      // Exhaustive: the smallest valid subset containing p0.
      let best = Infinity;
      for (let mask = 0; mask < 1 << all.length; mask++) {
        if (!(mask & 1)) continue;
        const set = all.filter((_, i) => mask & (1 << i));
        const size = set.reduce((t, n) => t + index.byName.get(n)![0]!.installedSize, 0);
        if (size < best && checkSet(universe, set).length === 0) best = size;
      }
      let got: number | undefined;
      try {
        got = resolve(index, { packages: ['p0'] }).totalInstalledSize;
        solved++;
      } catch (e) {
        if (!(e instanceof JeosError && e.code === 'E_UNSATISFIABLE')) throw e;
      }
      assert.equal(got ?? Infinity, best, `seed ${seed}: ${JSON.stringify(recipes)}`);
    }
    assert.ok(solved > 100, `only ${solved} of 300 random archives were solvable; the generator is too harsh`);
  });
});
