import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bisect, compareUntrimmed, type CheckEvent, type CheckSubject } from './check.js';

/** An image whose "build" writes the paths it keeps into `out`, and whose check passes when `needs` are among them. */
function subject(needs: string[], untrimmedPasses = true) {
  const seen: Array<{ out: string; timeout: number; keep: string[] | 'all' }> = [];
  const s: CheckSubject = {
    what: 'VM',
    async build(out, keep) {
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'kept.json'), JSON.stringify(keep));
    },
    async check(out, timeout) {
      const keep = JSON.parse(await readFile(join(out, 'kept.json'), 'utf8')) as string[] | 'all';
      seen.push({ out, timeout, keep });
      if (keep === 'all') return untrimmedPasses ? 2500 : undefined;
      return needs.every((n) => keep.includes(n)) ? 2000 : undefined;
    },
  };
  return { subject: s, seen };
}

test('an untrimmed build that passes: the dropped paths the trimmed one needs, the waits bounded by the untrimmed time to healthy', async () => {
  const dropped = Array.from({ length: 1500 }, (_, i) => `/usr/lib/f${i}`);
  const { subject: s, seen } = subject(['/usr/lib/f3', '/usr/lib/f1200']);
  const events: CheckEvent[] = [];
  const result = await compareUntrimmed(s, dropped, 90, (e) => events.push(e));
  assert.deepEqual({ ok: result.ok, needed: [...result.needed].sort(), unverified: result.unverified }, { ok: true, needed: ['/usr/lib/f1200', '/usr/lib/f3'], unverified: undefined });
  assert.deepEqual(seen.at(-1)!.keep, result.needed, 'the last rebuild kept exactly the suggestion, and passed');
  assert.equal(seen[1]!.keep.length, 1500, 'every dropped path kept is tested before bisecting');
  assert.equal(seen[0]!.keep, 'all');
  assert.equal(seen[0]!.timeout, 90, 'the untrimmed build gets the health check timeout');
  assert.ok(seen.slice(1).every((c) => c.timeout === 10), 'then 3 x 2.5 s, at least 10 s');
  assert.ok(seen.length < 30, `${seen.length} builds`);
  assert.equal(result.builds, seen.length);
  assert.deepEqual(events.slice(0, 2), [{ type: 'untrimmed-build', what: 'VM' }, { type: 'untrimmed-passes', what: 'VM', dropped: 1500 }]);
  assert.deepEqual(events.slice(2).map((e) => e.type === 'needed' && e.path).sort(), ['/usr/lib/f1200', '/usr/lib/f3']);
  assert.ok(!existsSync(seen[0]!.out), 'the scratch builds are removed');
});

test('an untrimmed build that fails too: the trim is not the cause, nothing is bisected', async () => {
  const { subject: s, seen } = subject(['/x'], false);
  const events: CheckEvent[] = [];
  assert.deepEqual(await compareUntrimmed(s, ['/x', '/y'], 30, (e) => events.push(e)), { ok: false, needed: [], builds: 1 });
  assert.equal(seen.length, 1);
  assert.deepEqual(events, [{ type: 'untrimmed-build', what: 'VM' }, { type: 'untrimmed-fails', what: 'VM' }]);
});

test('bisection finds the dropped paths a check needs, in few rebuilds', async () => {
  const candidates = Array.from({ length: 300 }, (_, i) => `/f${i}`);
  let runs = 0;
  const passes = async (keep: string[]) => (runs++, keep.includes('/f17') && keep.includes('/f250'));
  const found = await bisect(candidates, passes);
  assert.deepEqual({ needed: found.needed.sort(), verified: found.verified }, { needed: ['/f17', '/f250'], verified: true });
  assert.ok(runs < 25, `${runs} checks`);
});

/** A subject whose check passes when `passes(keep)` says so; the untrimmed build always passes in 2 s. */
function custom(passes: (keep: string[]) => boolean, onBuild: () => void = () => {}) {
  const seen: Array<string[] | 'all'> = [];
  const s: CheckSubject = {
    what: 'image',
    async build(out, keep) {
      onBuild();
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'kept.json'), JSON.stringify(keep));
    },
    async check(out) {
      const keep = JSON.parse(await readFile(join(out, 'kept.json'), 'utf8')) as string[] | 'all';
      seen.push(keep);
      return keep === 'all' || passes(keep) ? 2000 : undefined;
    },
  };
  return { subject: s, seen };
}

test('keeping every dropped path does not fix it (an emptied directory, say): no bisection, nothing suggested', async () => {
  const { subject: s, seen } = custom(() => false);
  const events: CheckEvent[] = [];
  const result = await compareUntrimmed(s, ['/a', '/b', '/c'], 30, (e) => events.push(e));
  assert.deepEqual(result, { ok: true, needed: [], builds: 2, unverified: { paths: [], reason: 'dropped-not-the-cause' } });
  assert.equal(seen.length, 2);
  assert.deepEqual(events.at(-1), { type: 'dropped-not-the-cause', what: 'image' });
});

test('a workload that needs more paths than the limit: the keeps tried are reported unverified, never suggested', async () => {
  const candidates = Array.from({ length: 64 }, (_, i) => `/f${i}`);
  // Needs 10 of them together (a whole directory, file by file).
  const needs = candidates.slice(20, 30);
  const { subject: s } = custom((keep) => needs.every((n) => keep.includes(n)));
  const events: CheckEvent[] = [];
  const result = await compareUntrimmed(s, candidates, 30, (e) => events.push(e));
  assert.deepEqual(result.needed, []);
  assert.equal(result.unverified?.reason, 'limit');
  assert.equal(result.unverified?.paths.length, 4);
  assert.ok(!events.some((e) => e.type === 'needed'), 'no path is announced as needed');
});

test('a found path is re-tested on its own: when that rebuild fails, the search goes on and only a set that passed is suggested', async () => {
  const candidates = Array.from({ length: 100 }, (_, i) => `/f${i}`);
  // /f40 helps only together with some other file (a library and the data it reads, say).
  const { subject: s, seen } = custom((keep) => keep.includes('/f40') && keep.length > 1);
  const result = await compareUntrimmed(s, candidates, 30);
  assert.deepEqual(result.needed, ['/f40', '/f0']);
  assert.equal(result.unverified, undefined);
  assert.ok(seen.some((k) => Array.isArray(k) && k.length === 1 && k[0] === '/f40'), '/f40 alone was rebuilt and failed');
  assert.deepEqual(seen.at(-1), ['/f40', '/f0'], 'the suggestion is the last rebuild, which passed');
});

test('the comparison stops at its budget of time and rebuilds, and suggests nothing unverified', async () => {
  const candidates = Array.from({ length: 4096 }, (_, i) => `/f${i}`);
  let clock = 0;
  // Each rebuild and check takes a minute of the fake clock.
  const { subject: s, seen } = custom((keep) => keep.includes('/f5') && keep.includes('/f4000'), () => (clock += 60_000));
  const events: CheckEvent[] = [];
  const result = await compareUntrimmed(s, candidates, 30, (e) => events.push(e), { builds: 100, ms: 8 * 60_000, now: () => clock });
  assert.equal(seen.length, 8, 'eight one-minute rebuilds fit in eight minutes');
  assert.deepEqual(result.needed, []);
  assert.equal(result.unverified?.reason, 'budget');
  assert.equal(events.at(-1)?.type, 'unverified');

  const capped = custom(() => false);
  const r2 = await compareUntrimmed(capped.subject, candidates, 30, () => {}, { builds: 1, ms: 60_000 });
  assert.deepEqual([r2.builds, r2.unverified?.reason], [1, 'budget'], 'the untrimmed build alone spends a budget of one rebuild');
});
