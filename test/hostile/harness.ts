// The hostile-input suite's harness: each case plants one bad input into a copy of a
// project that built once (so out/ and the cache hold a previous build), runs the CLI, and
// checks that jeos refused it with the expected code — a coded error, never the
// internal-error path — and that nothing changed in out/, in the cache or on the host paths
// the input points at.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DebRecipe } from '../fixtures/debs.js';
import { cli, runProgram, startHarness, trixieRepo, type Harness, type RunResult } from '../cli/harness.js';

export interface HostileContext {
  h: Harness;
  /** A fresh copy of the project, built once: out/ holds that build. */
  project: string;
  /** This case's cache (a copy of the warm one). */
  cacheDir: string;
  /** A directory outside the project, out/ and the cache, for plants to point at. */
  decoy: string;
  /** The CLI with this case's cache, in the project's parent directory. */
  jeos(...args: string[]): Promise<RunResult>;
}

export interface HostileCase {
  name: string;
  /** The error code jeos must refuse with; `ok` for a planted input jeos must build past without touching it. */
  code: string | 'ok';
  /** What the message must name (the path, the package, the key). */
  mention?: RegExp;
  /** Exit status (default 1; 2 for usage errors). */
  exit?: number;
  /** Plant the hostile input. */
  plant(ctx: HostileContext): Promise<void>;
  /** The command (default: build the project). */
  args?(ctx: HostileContext): string[];
  /** Extra environment for the run. */
  env?(ctx: HostileContext): NodeJS.ProcessEnv;
  /** New entries in the cache are allowed (a verified .deb fetched before the refusal); changed or removed ones never are. */
  cacheMayGrow?: boolean;
  /** The peak resident memory of jeos must stay under this many MiB (default 1024). */
  maxRssMiB?: number;
  /** Undo what plant changed outside the case's own copies (the shared repository). */
  restore?(ctx: HostileContext): Promise<void>;
}

/** The fixture repository: webd (a program) and libweb. */
export const REPO_PACKAGES: DebRecipe[] = [
  {
    name: 'webd',
    version: '1.0-1',
    depends: 'libweb',
    files: { '/usr/sbin/webd': { content: '#!/bin/sh\necho webd\n', mode: 0o755 }, '/etc/webd/webd.conf': 'port 8080\n' },
  },
  { name: 'libweb', version: '2.0-1', files: { '/usr/lib/x86_64-linux-gnu/libweb.so.2': 'ELF-ish\n' } },
];

export const PROJECT_YAML = `name: webd
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd]
  files:
    - { path: /srv/index.html, source: site/index.html }
  ports: [8080]
trim:
  keep: [/usr/lib/x86_64-linux-gnu/libweb.so.2]
`;

/** type, mode, owner, content or link target of every entry under dir (missing dir: empty). */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string, rel: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    const meta = `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.set(rel, `${meta} -> ${await readlink(path)}`);
    else if (st.isFile()) out.set(rel, `${meta} ${createHash('sha256').update(await readFile(path)).digest('hex')}`);
    else if (st.isDirectory()) {
      out.set(rel, meta);
      for (const name of await readdir(path)) await walk(join(path, name), `${rel}/${name}`);
    } else out.set(rel, `${meta} special`);
  };
  await walk(dir, '');
  return out;
}

export interface Suite {
  h: Harness;
  /** Run one case in its own copies of the project and the cache. */
  run(c: HostileCase, index: number): Promise<void>;
  close(): Promise<void>;
}

/** A signed repository on loopback and a project built once, which each case copies. */
export async function startSuite(): Promise<Suite> {
  const h = await startHarness(trixieRepo(REPO_PACKAGES, []));
  const base = join(h.work, 'base');
  await mkdir(join(base, 'site'), { recursive: true });
  await writeFile(join(base, 'jeos.yaml'), PROJECT_YAML);
  await writeFile(join(base, 'site/index.html'), 'hello\n');
  const built = await runProgram([process.execPath, cli, 'build', base, '--quiet'], { env: h.env, cwd: h.work });
  assert.equal(built.code, 0, built.stderr);
  return {
    h,
    async run(c, index) {
      const dir = join(h.work, `case-${index}`);
      const ctx: HostileContext = {
        h,
        project: join(dir, 'project'),
        cacheDir: join(dir, 'cache'),
        decoy: join(dir, 'decoy'),
        jeos: (...args) => runProgram(['/usr/bin/time', '-f', 'maxrss-kib=%M', process.execPath, cli, ...args], { env: { ...h.env, JEOS_CACHE_DIR: ctx.cacheDir, ...c.env?.(ctx) }, cwd: dir }),
      };
      await cp(base, ctx.project, { recursive: true });
      await cp(h.env.JEOS_CACHE_DIR!, ctx.cacheDir, { recursive: true });
      await mkdir(ctx.decoy);
      await writeFile(join(ctx.decoy, 'secret'), 'host secret\n', { mode: 0o600 });
      try {
        await c.plant(ctx);
        const watched = [join(ctx.project, 'out'), ctx.decoy];
        const before = await Promise.all(watched.map(snapshot));
        const cacheBefore = await snapshot(ctx.cacheDir);
        const r = await ctx.jeos(...(c.args?.(ctx) ?? ['build', ctx.project]));
        const rss = Number(/maxrss-kib=(\d+)/.exec(r.stderr)?.[1]);
        const stderr = r.stderr.replace(/^maxrss-kib=\d+\n?/m, '').replace(/^Command exited with non-zero status \d+\n?/m, '');
        const after = await Promise.all(watched.map(snapshot));
        if (c.code === 'ok') {
          assert.equal(r.code, 0, stderr);
        } else {
          assert.equal(r.code, c.exit ?? 1, `exit status\n${stderr}`);
          const line = stderr.split('\n').find((l) => l.startsWith('error'));
          assert.match(line ?? '', new RegExp(`^error\\[${c.code}\\]: `), stderr);
          if (c.mention) assert.match(line!, c.mention);
          assert.doesNotMatch(stderr, /internal error|\n\s+at /, 'a coded error, not a stack');
          assert.match(stderr, /^hint: /m, 'every refusal has a hint');
          assert.deepEqual(after[0], before[0], 'out/ is as it was');
        }
        assert.deepEqual(after[1], before[1], 'the host paths the input names are as they were');
        const cacheAfter = await snapshot(ctx.cacheDir);
        for (const [path, entry] of cacheBefore) assert.equal(cacheAfter.get(path), entry, `cache entry ${path} is as it was`);
        if (!c.cacheMayGrow) assert.deepEqual([...cacheAfter.keys()].filter((k) => !cacheBefore.has(k)), [], 'nothing new in the cache');
        assert.ok(Number.isFinite(rss) && rss / 1024 < (c.maxRssMiB ?? 1024), `peak memory ${Math.round(rss / 1024)} MiB`);
      } finally {
        await c.restore?.(ctx);
        await rm(dir, { recursive: true, force: true });
      }
    },
    close: () => h.close(),
  };
}
