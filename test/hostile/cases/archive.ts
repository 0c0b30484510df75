// Hostile mirrors and a hostile disk: an archive rolled back or dated in the future, a mirror
// that hangs or trickles, and an output directory on a full file system.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, statfs, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ArchiveCache } from '../../../src/archive/cache.js';
import { releaseDate, type SignedRepo } from '../../fixtures/signed-repo.js';
import { serveDirectory, type Served } from '../../fixtures/serve.js';
import type { HostileCase, HostileContext } from '../harness.js';

const DAY = 86400_000;
const SIGNED = ['Release', 'InRelease', 'Release.gpg'];

/** The shared repository's trixie suite, re-dated by `shift` ms and signed again; returns how to put it back. */
async function redateTrixie(repo: SignedRepo, shift: number): Promise<() => Promise<void>> {
  const dir = join(repo.root, 'dists', 'trixie');
  const saved = await Promise.all(SIGNED.map((name) => readFile(join(dir, name))));
  const text = saved[0]!.toString('utf8');
  const date = Date.parse(/^Date: (.*)$/m.exec(text)![1]!.replace(/UTC$/, 'GMT'));
  await writeFile(join(dir, 'Release'), text.replace(/^Date: .*$/m, `Date: ${releaseDate(new Date(date + shift))}`));
  await repo.resign('trixie');
  return async () => {
    for (const [i, name] of SIGNED.entries()) await writeFile(join(dir, name), saved[i]!);
  };
}

/** What a case started in plant and must stop in restore (a server, a planted change), by name. */
const running = new Map<string, { url?: string; close(): Promise<void> }>();
const urlOf = (name: string) => running.get(name)!.url!;

/** A copy of the shared repository whose trixie is a day older: a stale mirror of the same archive. */
async function staleMirror(ctx: HostileContext): Promise<Served> {
  const put = await redateTrixie(ctx.h.repo, -DAY);
  const root = join(ctx.decoy, '..', 'stale-mirror');
  try {
    await cp(ctx.h.repo.root, root, { recursive: true });
  } finally {
    await put();
  }
  return serveDirectory(root);
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((ok) => (sockets.forEach((s) => s.destroy()), server.close(() => ok()))),
  };
}

/** Answers every request with a body of a MiB, one byte every 200 ms. */
async function tricklingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-length': 1 << 20 });
    res.flushHeaders();
    const t = setInterval(() => res.write('-'), 200);
    res.on('close', () => clearInterval(t));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok()))),
  };
}

const lockWith = (url: string) => (ctx: HostileContext) => ['lock', ctx.project, '--mirror', url, '--security-mirror', url];

/** Whether this machine lets the tests mount a tmpfs (root, or CAP_SYS_ADMIN); the reason when not. */
function tmpfsUnavailable(): string | undefined {
  const probe = spawnSync('sh', ['-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `cannot mount a tmpfs here (${(probe.stderr || probe.error?.message || 'mount failed').trim()}); the full-disk case needs one`;
}

function mount(dir: string, size: string): void {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr}`);
}

/** Bytes still free for a file on the file system of `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

const FULL_DISK = 'an output directory on a file system with too little room for the new outputs';

const fullDisk: HostileCase = {
  name: FULL_DISK,
  code: 'E_OUTPUT_IO',
  mention: /cannot write the \w+ output in \S+\/disk\/out: ENOSPC/,
  // The output directory is inside the decoy, which the harness checks is unchanged: the
  // previous build's outputs, the filler, and no staging left behind.
  args: (ctx) => ['build', ctx.project, '--out', join(ctx.decoy, 'disk', 'out')],
  plant: async (ctx) => {
    const disk = join(ctx.decoy, 'disk');
    await mkdir(disk);
    mount(disk, '8m');
    running.set(FULL_DISK, { close: async () => void spawnSync('umount', ['-l', disk]) });
    const first = await ctx.jeos('build', ctx.project, '--out', join(disk, 'out'), '--quiet');
    assert.equal(first.code, 0, first.stderr);
    // Leave less room than one output needs (a rootfs.tar of this project is tens of KiB),
    // but some: the first writes succeed and one comes up short, as on a real disk.
    await writeFile(join(disk, 'filler'), Buffer.alloc(Math.max(0, (await freeBytes(disk)) - 24 * 1024)));
  },
};

export const archiveCases: HostileCase[] = [
  {
    name: 'the mirror serves an older (validly signed) InRelease than the one seen before: jeos lock does not downgrade',
    code: 'E_RELEASE_ROLLBACK',
    mention: /InRelease of trixie from http:\/\/127\.0\.0\.1:\d+\/ is dated \S+, older than the newest Release jeos has seen for trixie of JEOS Fixtures: \S+, from http/,
    args: (ctx) => ['lock', ctx.project],
    plant: async (ctx) => {
      running.set('rollback in place', { close: await redateTrixie(ctx.h.repo, -DAY) });
    },
    restore: async () => {
      await running.get('rollback in place')?.close();
      running.delete('rollback in place');
    },
  },
  {
    name: 'another mirror of the same archive, a day behind (--mirror): whichever mirror serves it, it is a rollback',
    code: 'E_RELEASE_ROLLBACK',
    mention: /from http:\/\/127\.0\.0\.1:\d+\/ is dated .* from http:\/\/127\.0\.0\.1:\d+\//,
    // Its other suites are as new as the ones seen before, so their InRelease files are cached;
    // the rolled-back trixie is not, and no entry that was there changes.
    cacheMayGrow: true,
    args: (ctx) => lockWith(urlOf('stale mirror'))(ctx),
    plant: async (ctx) => {
      running.set('stale mirror', await staleMirror(ctx));
    },
    restore: async () => {
      await running.get('stale mirror')?.close();
      running.delete('stale mirror');
    },
  },
  {
    name: 'the stale mirror with --allow-downgrade: accepted on purpose, and the newest date seen is not lowered (the cache keeps every entry)',
    code: 'ok',
    cacheMayGrow: true,
    args: (ctx) => [...lockWith(urlOf('stale mirror, allowed'))(ctx), '--allow-downgrade'],
    plant: async (ctx) => {
      running.set('stale mirror, allowed', await staleMirror(ctx));
    },
    restore: async () => {
      await running.get('stale mirror, allowed')?.close();
      running.delete('stale mirror, allowed');
    },
  },
  {
    name: 'offline, the cache holds an older (validly signed) InRelease than the newest seen',
    code: 'E_RELEASE_ROLLBACK',
    mention: /InRelease of trixie \(cached from http/,
    args: (ctx) => ['lock', ctx.project, '--offline'],
    plant: async (ctx) => {
      const put = await redateTrixie(ctx.h.repo, -DAY);
      try {
        const older = await readFile(join(ctx.h.repo.root, 'dists', 'trixie', 'InRelease'));
        await writeFile(new ArchiveCache(ctx.cacheDir).inReleasePath(ctx.h.served.url, 'trixie'), older);
      } finally {
        await put();
      }
    },
  },
  {
    name: 'a Release dated a year ahead (it would become the image timestamp)',
    code: 'E_RELEASE_FUTURE',
    mention: /InRelease of trixie from http:\S+ is dated \S+, 36[56] days ahead of this machine's clock/,
    args: (ctx) => ['lock', ctx.project],
    plant: async (ctx) => {
      running.set('future', { close: await redateTrixie(ctx.h.repo, 365 * DAY) });
    },
    restore: async () => {
      await running.get('future')?.close();
      running.delete('future');
    },
  },
  {
    name: 'a mirror that accepts connections and never answers (JEOS_CONNECT_TIMEOUT=1)',
    code: 'E_MIRROR_TIMEOUT',
    mention: /InRelease did not answer within 1 s$/,
    env: () => ({ JEOS_CONNECT_TIMEOUT: '1' }),
    args: (ctx) => lockWith(urlOf('silent'))(ctx),
    plant: async () => {
      running.set('silent', await silentServer());
    },
    restore: async () => {
      await running.get('silent')?.close();
      running.delete('silent');
    },
  },
  {
    name: 'a mirror that trickles a byte at a time (JEOS_STALL_TIMEOUT=1)',
    code: 'E_MIRROR_TIMEOUT',
    mention: /InRelease stalled: less than 1024 bytes in 1 s/,
    env: () => ({ JEOS_STALL_TIMEOUT: '1' }),
    args: (ctx) => lockWith(urlOf('trickle'))(ctx),
    plant: async () => {
      running.set('trickle', await tricklingServer());
    },
    restore: async () => {
      await running.get('trickle')?.close();
      running.delete('trickle');
    },
  },
];

const noTmpfs = tmpfsUnavailable();
if (noTmpfs) test(`E_OUTPUT_IO: ${FULL_DISK}`, { skip: noTmpfs }, () => undefined);
else {
  archiveCases.push({
    ...fullDisk,
    restore: async () => {
      await running.get(FULL_DISK)?.close();
      running.delete(FULL_DISK);
    },
  });
}
