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
  assert.deepEqual({ ok: result.ok, needed: [...result.needed].sort() }, { ok: true, needed: ['/usr/lib/f1200', '/usr/lib/f3'] });
  assert.equal(seen[0]!.keep, 'all');
  assert.equal(seen[0]!.timeout, 90, 'the untrimmed build gets the health check timeout');
  assert.ok(seen.slice(1).every((c) => c.timeout === 10), 'then 3 x 2.5 s, at least 10 s');
  assert.ok(seen.length < 30, `${seen.length} builds`);
  assert.deepEqual(events.slice(0, 2), [{ type: 'untrimmed-build', what: 'VM' }, { type: 'untrimmed-passes', what: 'VM', dropped: 1500 }]);
  assert.deepEqual(events.slice(2).map((e) => e.type === 'needed' && e.path).sort(), ['/usr/lib/f1200', '/usr/lib/f3']);
  assert.ok(!existsSync(seen[0]!.out), 'the scratch builds are removed');
});

test('an untrimmed build that fails too: the trim is not the cause, nothing is bisected', async () => {
  const { subject: s, seen } = subject(['/x'], false);
  const events: CheckEvent[] = [];
  assert.deepEqual(await compareUntrimmed(s, ['/x', '/y'], 30, (e) => events.push(e)), { ok: false, needed: [] });
  assert.equal(seen.length, 1);
  assert.deepEqual(events, [{ type: 'untrimmed-build', what: 'VM' }, { type: 'untrimmed-fails', what: 'VM' }]);
});

test('bisection finds the dropped paths a check needs, in few rebuilds', async () => {
  const candidates = Array.from({ length: 300 }, (_, i) => `/f${i}`);
  let runs = 0;
  const passes = async (keep: string[]) => (runs++, keep.includes('/f17') && keep.includes('/f250'));
  assert.deepEqual((await bisect(candidates, passes)).sort(), ['/f17', '/f250']);
  assert.ok(runs < 25, `${runs} checks`);
});
