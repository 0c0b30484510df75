#!/usr/bin/env node
// Runs the test suite with node's own runner. Node 20's `node --test DIR` runs
// nothing, so this expands the file list itself and refuses to run zero files.
//   node scripts/run-tests.mjs                 every tier
//   node scripts/run-tests.mjs --tier hermetic only tests that need no network
// Files named *.live.test.ts talk to the real Debian archive (the "live" tier).
//   node scripts/run-tests.mjs --jobs 2        two test processes side by side (the default on a
//                                              machine with at least 2 CPUs; --jobs 1 runs one)
// With two jobs, the files that boot machines (test/disk, test/vm) run in one process, one at a
// time, and every other file in the other: the boots are what takes longest, and two of them at once
// on two cores would slow each past its timeouts. The first process reports as it goes; the second's
// report follows when it is done (with a line when it finishes), then the totals of both.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const tierAt = args.indexOf('--tier');
const tier = tierAt >= 0 ? args[tierAt + 1] : 'all';
const jobsAt = args.indexOf('--jobs');
const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : Math.min(2, availableParallelism());
const valueAt = new Set([tierAt + 1, jobsAt + 1].filter((i) => i > 0));
const filters = args.filter((a, i) => !a.startsWith('--') && !valueAt.has(i));

function walk(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files = [...walk(join(root, 'src')), ...walk(join(root, 'test'))];
if (tier === 'hermetic') files = files.filter((f) => !f.endsWith('.live.test.ts'));
else if (tier === 'live') files = files.filter((f) => f.endsWith('.live.test.ts'));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files matched (tier ${tier}${filters.length ? `, filter ${filters.join(' ')}` : ''})`);
  process.exit(1);
}
const boots = (f) => f.startsWith('test/disk/') || f.startsWith('test/vm/');
const groups = jobs >= 2 ? [files.filter((f) => !boots(f)), files.filter(boots)].filter((g) => g.length) : [files];
console.log(`running ${files.length} test files (tier: ${tier}) in ${groups.length} process${groups.length > 1 ? 'es' : ''}`);

const scratch = mkdtempSync(join(tmpdir(), 'jeos-tests-'));
/** One node --test process over `group`; the first reports to the terminal, the others to a file. */
function run(group, i) {
  const log = join(scratch, `job-${i}.log`);
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...(i === 0 ? [] : [`--test-reporter-destination=${log}`]), ...group], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    child.on('exit', (code, signal) => {
      if (i > 0) console.log(`# test process ${i + 1} (${group.length} files) finished: ${signal ?? `exit ${code}`}`);
      done({ code: code ?? 1, log: i === 0 ? undefined : log });
    });
  });
}
const results = await Promise.all(groups.map(run));
const totals = {};
for (const [i, r] of results.entries()) {
  if (!r.log) continue;
  const text = readFileSync(r.log, 'utf8');
  console.log(`\n# report of test process ${i + 1}:\n${text}`);
  for (const m of text.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) totals[m[1]] = (totals[m[1]] ?? 0) + Number(m[2]);
}
rmSync(scratch, { recursive: true, force: true });
if (groups.length > 1) console.log(`# totals of the other process${groups.length > 2 ? 'es' : ''}: ${JSON.stringify(totals)} (process 1's are above its report)`);
process.exit(Math.max(...results.map((r) => r.code)));
