import type { Cnf } from './clauses.js';
import type { Propagation } from './propagate.js';

export interface SearchResult {
  /** False when the work budget ran out before the search finished (then `chosen` proves nothing). */
  complete: boolean;
  /** Variables (1-based) set true in the best set, forced ones included; undefined when there is none. */
  chosen: Set<number> | undefined;
  /** Search nodes visited. */
  nodes: number;
  /** Work done, in the units of SearchOptions.maxWork. */
  work: number;
  /** Open variables the search worked on. */
  free: number;
}

export interface SearchOptions {
  /** Give up (complete: false) after this much work: propagation steps, needs scanned and implied-set members
   *  visited, a deterministic stand-in for time (10–25 ns each on large problems here). Without Recommends,
   *  gnome-core needs 0.8 million and lxqt 2 million; with them, gnome-core 7 million. The default, 40 million,
   *  is about half a second; lxqt with Recommends runs out of it and goes to MiniSat. */
  maxWork?: number;
}

/**
 * Exact branch and bound over the open part of the problem, shaped like the problem is:
 * start from what propagation forced, and while some chosen package (or the request) has
 * a need no chosen package meets, branch on which satisfier meets it — cheapest first by
 * what it pulls in, then by name, each later branch with the earlier satisfiers excluded.
 * The need to branch on is the one where a wrong turn costs most (its second-cheapest
 * option is dearest). Packages nothing pulls in stay out. Unit propagation follows every step (a need with
 * one satisfier left, Conflicts/Breaks partners out). A branch is cut when the cost so far
 * plus a lower bound on the needs still open cannot beat the best set found; only a
 * strictly smaller set replaces the best, so ties go to the first set in that order.
 *
 * The lower bound: each open need must get some satisfier s, and with it everything s
 * pulls in by needs that have one satisfier left (its implied set). Share every package's
 * size equally among the open needs whose implied sets can hold it; any answer pays at
 * least, for each need, the smallest shared cost of one of its satisfiers' implied sets.
 * Stops (complete: false) when the work budget runs out.
 */
export function branchAndBound(cnf: Cnf, prop: Propagation, weightOf: (v: number) => number, options: SearchOptions = {}): SearchResult {
  const maxWork = options.maxWork ?? 40_000_000;
  const n = cnf.names.length;
  const val = Int8Array.from(prop.value);
  const fixedTrue = (l: number) => (l > 0 ? val[l] === 1 : val[-l] === -1);

  // Open needs (owner 0 = already in the set) and open clashes, as flat arrays.
  const owners: number[] = [];
  const satStart: number[] = [0];
  const sats: number[] = [];
  const clashPairs: number[] = [];
  const used = new Uint8Array(n + 1);
  for (const c of cnf.clauses) {
    if (c.lits.some(fixedTrue)) continue;
    if (c.from.kind === 'clash') {
      const [a, b] = c.lits.map(Math.abs) as [number, number];
      if (val[a] === 0 && val[b] === 0) clashPairs.push(a, b);
      continue;
    }
    let owner = 0;
    for (const l of c.lits) {
      if (l < 0) owner = -l;
      else if (val[l] === 0) {
        sats.push(l);
        used[l] = 1;
      }
    }
    owners.push(owner);
    satStart.push(sats.length);
  }
  const needCount = owners.length;
  const weight = new Float64Array(n + 1);
  let free = 0;
  for (let v = 1; v <= n; v++) {
    if (val[v] !== 0) continue;
    weight[v] = Math.max(0, Math.round(weightOf(v)));
    if (used[v]) free++;
  }
  const csr = (pairs: Array<[number, number]>): [Int32Array, Int32Array] => {
    const start = new Int32Array(n + 2);
    for (const [v] of pairs) start[v + 1]!++;
    for (let v = 1; v <= n + 1; v++) start[v]! += start[v - 1]!;
    const fill = start.slice(0, n + 1);
    const list = new Int32Array(pairs.length);
    for (const [v, x] of pairs) list[fill[v]!++] = x;
    return [start, list];
  };
  const ownedPairs: Array<[number, number]> = [];
  const inPairs: Array<[number, number]> = [];
  for (let i = 0; i < needCount; i++) {
    if (owners[i]) ownedPairs.push([owners[i]!, i]);
    for (let k = satStart[i]!; k < satStart[i + 1]!; k++) inPairs.push([sats[k]!, i]);
  }
  const clashList: Array<[number, number]> = [];
  for (let k = 0; k < clashPairs.length; k += 2) {
    clashList.push([clashPairs[k]!, clashPairs[k + 1]!], [clashPairs[k + 1]!, clashPairs[k]!]);
  }
  const [ownStart, ownList] = csr(ownedPairs);
  const [inStart, inList] = csr(inPairs);
  const [clashStart, clashWith] = csr(clashList);

  // Search state: per need, satisfiers chosen and satisfiers still open.
  const satCount = new Int32Array(needCount);
  const openCount = new Int32Array(needCount);
  for (let i = 0; i < needCount; i++) openCount[i] = satStart[i + 1]! - satStart[i]!;
  const ownerIn = (i: number) => owners[i] === 0 || val[owners[i]!] === 1;
  const trail: number[] = [];
  let cost = 0;
  const queue: number[] = [];

  const lastOpen = (i: number) => {
    for (let k = satStart[i]!; k < satStart[i + 1]!; k++) if (val[sats[k]!] === 0) return sats[k]!;
    return 0;
  };
  /** Assign the literal and everything unit propagation derives; false on a conflict (state left for undo). */
  const assign = (lit: number): boolean => {
    queue.length = 0;
    queue.push(lit);
    for (let q = 0; q < queue.length; q++) {
      const l = queue[q]!;
      const v = l > 0 ? l : -l;
      if (val[v] !== 0) {
        if ((val[v] === 1) !== l > 0) return false;
        continue;
      }
      trail.push(v);
      work += inStart[v + 1]! - inStart[v]! + clashStart[v + 1]! - clashStart[v]! + ownStart[v + 1]! - ownStart[v]!;
      if (l > 0) {
        val[v] = 1;
        cost += weight[v]!;
        for (let k = inStart[v]!; k < inStart[v + 1]!; k++) {
          const i = inList[k]!;
          satCount[i]!++;
          openCount[i]!--;
        }
        for (let k = clashStart[v]!; k < clashStart[v + 1]!; k++) {
          const u = clashWith[k]!;
          if (val[u] === 1) return false;
          if (val[u] === 0) queue.push(-u);
        }
        for (let k = ownStart[v]!; k < ownStart[v + 1]!; k++) {
          const i = ownList[k]!;
          if (satCount[i] !== 0) continue;
          if (openCount[i] === 0) return false;
          if (openCount[i] === 1) queue.push(lastOpen(i));
        }
      } else {
        val[v] = -1;
        for (let k = inStart[v]!; k < inStart[v + 1]!; k++) {
          const i = inList[k]!;
          openCount[i]!--;
          if (satCount[i] !== 0 || !ownerIn(i)) continue;
          if (openCount[i] === 0) return false;
          if (openCount[i] === 1) queue.push(lastOpen(i));
        }
      }
    }
    return true;
  };
  const undo = (mark: number) => {
    while (trail.length > mark) {
      const v = trail.pop()!;
      if (val[v] === 1) {
        cost -= weight[v]!;
        for (let k = inStart[v]!; k < inStart[v + 1]!; k++) {
          satCount[inList[k]!]!--;
          openCount[inList[k]!]!++;
        }
      } else {
        for (let k = inStart[v]!; k < inStart[v + 1]!; k++) openCount[inList[k]!]!++;
      }
      val[v] = 0;
    }
  };

  // Implied sets, recomputed per node: members of the set of satisfier s are implied[impStart[s]..impEnd[s]).
  const stamp = new Int32Array(n + 1);
  let stampNo = 0;
  const impliedOf = new Map<number, number[] | null>();
  /** What choosing v pulls in by needs with one open satisfier (v first); null when that clashes or runs dry. */
  const implied = (v: number): number[] | null => {
    let hit = impliedOf.get(v);
    if (hit !== undefined) return hit;
    const mark = ++stampNo;
    const set = [v];
    stamp[v] = mark;
    let bad = false;
    for (let q = 0; q < set.length && !bad; q++) {
      const x = set[q]!;
      for (let k = clashStart[x]!; k < clashStart[x + 1]!; k++) {
        const u = clashWith[k]!;
        if (val[u] === 1 || stamp[u] === mark) bad = true;
      }
      for (let k = ownStart[x]!; k < ownStart[x + 1]!; k++) {
        const i = ownList[k]!;
        if (satCount[i] !== 0) continue;
        work += satStart[i + 1]! - satStart[i]!;
        let only = 0;
        let count = 0;
        for (let j = satStart[i]!; j < satStart[i + 1]!; j++) {
          const s = sats[j]!;
          if (stamp[s] === mark) {
            count = -1;
            break;
          }
          if (val[s] === 0) {
            count++;
            only = s;
          }
        }
        if (count === 0) bad = true;
        else if (count === 1) {
          stamp[only] = mark;
          set.push(only);
        }
      }
    }
    work += set.length;
    hit = bad ? null : set;
    impliedOf.set(v, hit);
    return hit;
  };

  const share = new Float64Array(n + 1);
  const holders = new Int32Array(n + 1);
  const seenBy = new Int32Array(n + 1).fill(-1);
  let best = Infinity;
  let bestSet: Set<number> | undefined;
  let nodes = 0;
  let work = 0;
  let gaveUp = false;

  const search = (): void => {
    nodes++;
    work += needCount;
    if (work > maxWork) {
      gaveUp = true;
      return;
    }
    const open: number[] = [];
    for (let i = 0; i < needCount; i++) if (satCount[i] === 0 && ownerIn(i)) open.push(i);
    if (open.length === 0) {
      if (cost < best) {
        best = cost;
        bestSet = new Set();
        for (let v = 1; v <= n; v++) if (val[v] === 1) bestSet.add(v);
      }
      return;
    }
    // Lower bound; also drops satisfiers whose implied set is impossible.
    impliedOf.clear();
    const touched: number[] = [];
    for (const i of open) {
      for (let k = satStart[i]!; k < satStart[i + 1]!; k++) {
        const s = sats[k]!;
        if (val[s] !== 0) continue;
        const set = implied(s);
        if (!set) continue;
        work += set.length;
        for (const p of set) {
          if (seenBy[p] === i) continue;
          if (seenBy[p] === -1 && holders[p] === 0) touched.push(p);
          seenBy[p] = i;
          holders[p]!++;
        }
      }
    }
    for (const p of touched) {
      share[p] = weight[p]! / holders[p]!;
      seenBy[p] = -1;
    }
    let bound = 0;
    let branchNeed = -1;
    let branchOptions = Infinity;
    let branchScore = -Infinity;
    for (const i of open) {
      let least = Infinity;
      let second = Infinity;
      let options = 0;
      for (let k = satStart[i]!; k < satStart[i + 1]!; k++) {
        const s = sats[k]!;
        if (val[s] !== 0) continue;
        const set = implied(s);
        if (!set) continue;
        options++;
        work += set.length;
        let c = 0;
        for (const p of set) c += share[p]!;
        if (c < least) {
          second = least;
          least = c;
        } else if (c < second) second = c;
      }
      if (options === 0) {
        bound = Infinity;
        break;
      }
      bound += least;
      // Branch where a wrong turn costs most: the need whose second-cheapest option is dearest
      // (a need with one option left first, as it is forced); then fewer options, then need order.
      const score = options === 1 ? Infinity : second;
      if (score > branchScore || (score === branchScore && options < branchOptions)) {
        branchScore = score;
        branchOptions = options;
        branchNeed = i;
      }
    }
    for (const p of touched) holders[p] = 0;
    // Integer costs: only a total of best - 1 or less is worth finding.
    if (cost + bound > best - 1 + 1e-6) return;

    const i = branchNeed;
    const choices: Array<{ s: number; c: number }> = [];
    for (let k = satStart[i]!; k < satStart[i + 1]!; k++) {
      const s = sats[k]!;
      if (val[s] !== 0) continue;
      const set = implied(s);
      let c = Infinity;
      if (set) {
        c = 0;
        for (const p of set) c += weight[p]!;
      }
      choices.push({ s, c });
    }
    choices.sort((a, b) => a.c - b.c || a.s - b.s);
    const start = trail.length;
    for (const { s, c } of choices) {
      if (c !== Infinity) {
        const mark = trail.length;
        if (assign(s)) search();
        undo(mark);
        if (gaveUp) break;
      }
      if (!assign(-s)) break;
    }
    undo(start);
  };

  search();
  return { complete: !gaveUp, chosen: bestSet, nodes, work, free };
}
