// Live tier: jeos search /PATH against the real archive's Contents index (mirrors from apt's
// configuration, checked against the signed Release); the built CLI, through test/live.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runJeosLive, test } from '../live.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-search-'));
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(work, 'cache');
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('the package that ships /usr/sbin/nginx is nginx, and /sbin/ip (merged /usr) is iproute2\'s', async () => {
  const r = await runJeosLive(cacheDir, 'search', '/usr/sbin/nginx', '/sbin/ip', '--json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const files = JSON.parse(r.stdout).files as Array<{ path: string; packages: Array<{ name: string; version: string | null; suite: string | null }> }>;
  const nginx = files[0]!.packages.find((p) => p.name === 'nginx');
  assert.ok(nginx?.version && nginx.suite?.startsWith('trixie'), JSON.stringify(files[0]));
  assert.ok(files[1]!.packages.some((p) => p.name === 'iproute2'), JSON.stringify(files[1]));
});
