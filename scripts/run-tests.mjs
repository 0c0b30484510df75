#!/usr/bin/env node
// Runs the test suite with node's own runner. Node 20's `node --test DIR` runs
// nothing, so this expands the file list itself and refuses to run zero files.
//   node scripts/run-tests.mjs                 every tier
//   node scripts/run-tests.mjs --tier hermetic only tests that need no network
// Files named *.live.test.ts talk to the real Debian archive (the "live" tier).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const tierAt = args.indexOf('--tier');
const tier = tierAt >= 0 ? args[tierAt + 1] : 'all';
const filters = args.filter((a, i) => !a.startsWith('--') && (tierAt < 0 || i !== tierAt + 1));

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
console.log(`running ${files.length} test files (tier: ${tier})`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_NO_WARNINGS: '1' },
});
process.exit(r.status ?? 1);
