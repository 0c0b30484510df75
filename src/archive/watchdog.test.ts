// A hanging mirror is noticed: real loopback servers that accept and never answer, that
// trickle, that stall after a good start, or that are merely too slow for the deadline.
// The limits here are fractions of a second; the assertions allow many times that.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cli, runProgram } from '../../test/cli/harness.js';
import { JeosError } from '../errors.js';
import { resolveSettings } from '../settings/index.js';
import type { ArchiveEvent } from './client.js';
import { fetchBytes } from './http.js';
import { openArchive } from './open.js';
import { STALL_BYTES, type MirrorTimeouts, type Waiting } from './watchdog.js';

const QUICK: MirrorTimeouts = { connectMs: 500, stallMs: 500, deadlineMs: 60_000 };
/** Generous: a 0.5 s limit must have fired long before this. */
const BOUND_MS = 10_000;

interface Loopback {
  url: string;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Accepts every connection and never sends a byte. */
async function silentServer(): Promise<Loopback> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    state.connections++;
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const state: Loopback = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    connections: 0,
    close: () => new Promise<void>((ok) => (sockets.forEach((s) => s.destroy()), server.close(() => ok()))),
  };
  return state;
}

/** Answers every request with `answer(res, n)` (n counts requests from 1). */
async function httpServer(answer: (res: ServerResponse, n: number) => void): Promise<Loopback> {
  const timers = new Set<NodeJS.Timeout>();
  const server = createHttpServer((_req, res) => {
    state.connections++;
    res.on('close', () => timers.forEach((t) => clearInterval(t)));
    answer(res, state.connections);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const state: Loopback = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    connections: 0,
    close: () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok()))),
  };
  return state;
}

/** Every `everyMs`, write `bytes` bytes of a body announced as `length` long. */
function drip(res: ServerResponse, bytes: number, everyMs: number, length = 1 << 20): void {
  res.writeHead(200, { 'content-length': length });
  res.flushHeaders();
  const t = setInterval(() => res.write(Buffer.alloc(bytes, 0x61)), everyMs);
  res.on('close', () => clearInterval(t));
}

async function timesOut(run: () => Promise<unknown>, message: RegExp): Promise<{ error: JeosError; ms: number }> {
  const started = performance.now();
  try {
    await run();
  } catch (e) {
    const ms = performance.now() - started;
    assert.ok(e instanceof JeosError, String((e as Error)?.stack ?? e));
    assert.equal(e.code, 'E_MIRROR_TIMEOUT', e.message);
    assert.match(e.message, message);
    assert.match(e.hint ?? '', /--mirror.*--offline.*JEOS_CONNECT_TIMEOUT/);
    assert.ok(ms < BOUND_MS, `gave up after ${Math.round(ms)} ms`);
    return { error: e, ms };
  }
  assert.fail('expected E_MIRROR_TIMEOUT, but it succeeded');
}

/** A throwaway public keyring (the archive reads the keyring before it asks the mirror). */
async function keyringIn(dir: string): Promise<string> {
  const openpgp = await import('openpgp');
  const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'jeos test' }], format: 'binary' });
  const path = join(dir, 'keyring.gpg');
  await writeFile(path, publicKey);
  return path;
}

describe('metadata from a mirror that hangs', { timeout: 60_000 }, () => {
  test('a server that accepts and never answers fails after the connect limit, once (not retried), reporting while it waits', async () => {
    const server = await silentServer();
    const waits: Waiting[] = [];
    try {
      const url = `${server.url}dists/trixie/InRelease`;
      await timesOut(() => fetchBytes(url, { timeouts: QUICK, onWaiting: (w) => waits.push(w) }), /dists\/trixie\/InRelease did not answer within 0\.5 s$/);
      assert.equal(server.connections, 1, 'a mirror that never answered is not asked again');
      const reports = waits.filter((w) => !w.gaveUp);
      assert.ok(reports.length >= 1, 'waiting was reported');
      assert.ok(reports.every((w) => w.url === url && w.phase === 'connect' && w.limitMs === 500 && w.waitedMs < 500));
      assert.deepEqual(waits.slice(-1).map((w) => w.gaveUp), [true], 'the last report says it gave up, so a status line can be cleared');
    } finally {
      await server.close();
    }
  });

  test('a server that trickles a byte at a time fails after the stall limit, though bytes keep coming', async () => {
    const server = await httpServer((res) => drip(res, 1, 50));
    const waits: Waiting[] = [];
    try {
      await timesOut(() => fetchBytes(`${server.url}x`, { timeouts: QUICK, onWaiting: (w) => waits.push(w) }), /stalled: less than 1024 bytes in 0\.5 s \(\d+ bytes received\)/);
      assert.equal(server.connections, 1, 'a trickle is not retried');
      assert.ok(waits.some((w) => w.phase === 'stall'), 'the stall was reported while it lasted');
    } finally {
      await server.close();
    }
  });

  test('a transfer that moves but too slowly for the whole file fails at the deadline', async () => {
    // 2 KiB every 100 ms never stalls; the deadline ends it.
    const server = await httpServer((res) => drip(res, 2 * STALL_BYTES, 100, 64 << 20));
    try {
      await timesOut(() => fetchBytes(`${server.url}x`, { timeouts: { ...QUICK, deadlineMs: 1000 } }), /did not arrive within 1 s, the deadline for a metadata file/);
    } finally {
      await server.close();
    }
  });

  test('a transfer that stalls after real progress is retried, and the retry succeeds', async () => {
    const body = Buffer.alloc(8 * STALL_BYTES, 0x62);
    const server = await httpServer((res, n) => {
      res.writeHead(200, { 'content-length': body.length });
      if (n === 1) res.write(body.subarray(0, 4 * STALL_BYTES)); // then nothing
      else res.end(body);
    });
    try {
      assert.deepEqual(await fetchBytes(`${server.url}x`, { timeouts: QUICK }), body);
      assert.equal(server.connections, 2);
    } finally {
      await server.close();
    }
  });

  test('loadArchive: the timeouts come from the settings (JEOS_CONNECT_TIMEOUT), and waiting is an archive event naming the suite', async () => {
    const server = await silentServer();
    const cacheDir = await mkdtemp(join(tmpdir(), 'jeos-hang-'));
    const events: ArchiveEvent[] = [];
    try {
      const settings = await resolveSettings({
        flags: { mirror: server.url, securityMirror: server.url, cacheDir, keyring: await keyringIn(cacheDir) },
        env: { JEOS_CONNECT_TIMEOUT: '0.5' },
        aptEtc: '/nonexistent',
        debian: { suites: ['trixie'] },
        onEvent: (e) => events.push(e),
      });
      assert.deepEqual(settings.timeouts, { connectMs: 500, stallMs: 30_000, deadlineMs: 600_000 });
      await timesOut(() => openArchive(settings), /InRelease did not answer within 0\.5 s/);
      const waiting = events.find((e) => e.kind === 'waiting');
      assert.ok(waiting?.kind === 'waiting' && waiting.suite === 'trixie' && waiting.url.endsWith('/dists/trixie/InRelease'), JSON.stringify(events));
    } finally {
      await server.close();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  test('timeouts that are not seconds are refused when settings are resolved', async () => {
    for (const value of ['0', '-1', 'soon', '1e3', '100000']) {
      await assert.rejects(
        resolveSettings({ env: { JEOS_STALL_TIMEOUT: value }, aptEtc: '/nonexistent' }),
        (e: JeosError) => e.code === 'E_SETTINGS_TIMEOUT' && e.message.includes('JEOS_STALL_TIMEOUT') && !!e.hint,
        value,
      );
    }
    const s = await resolveSettings({ env: { JEOS_STALL_TIMEOUT: '2.5', JEOS_METADATA_DEADLINE: '90' }, aptEtc: '/nonexistent' });
    assert.deepEqual(s.timeouts, { connectMs: 30_000, stallMs: 2500, deadlineMs: 90_000 });
  });

  test('the CLI shows what it waits for, as plain lines when stderr is not a terminal, then the coded error', { skip: !existsSync(cli) && 'dist/jeos.mjs is missing: run npm run build' }, async () => {
    const server = await silentServer();
    const work = await mkdtemp(join(tmpdir(), 'jeos-hang-cli-'));
    try {
      const r = await runProgram([process.execPath, cli, 'update', '--suite', 'sid', '--mirror', server.url, '--keyring', await keyringIn(work)], {
        cwd: work,
        env: { PATH: process.env.PATH, HOME: work, JEOS_CACHE_DIR: join(work, 'cache'), JEOS_CONNECT_TIMEOUT: '1', NO_COLOR: '1' },
      });
      assert.equal(r.code, 1, r.stderr);
      const url = `${server.url}dists/sid/InRelease`;
      assert.match(r.stderr, new RegExp(`^waiting for ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no answer for [\\d.]+ s \\(giving up at 1 s\\)$`, 'm'));
      assert.match(r.stderr, /^error\[E_MIRROR_TIMEOUT\]: .*did not answer within 1 s$/m);
      assert.match(r.stderr, /^hint: /m);
      assert.doesNotMatch(r.stderr, /\r|\x1b\[/, 'no terminal control sequences in a plain log');
    } finally {
      await server.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
