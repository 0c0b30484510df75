/**
 * Figures for issue 24: for each common Debian server of its list, the image `jeos init --from PKG`
 * and `jeos build` make with no edits, against `mmdebstrap --variant=minbase --include=PKG` (trixie,
 * trixie-updates, trixie-security from this machine's apt mirrors), side by side in one run.
 *   npm run build && npx tsx bench/servers.ts [--only bind9,nsd,…] [--figures FILE] [--minbase-cache FILE] [--json]
 *
 * Sizes are measured as bench/trim.ts does (bench/trim/size.ts: regular-file bytes, hard links once,
 * plus symlink target lengths): jeos's out/rootfs.tar extracted, and the minbase tree. The ratio is
 * minbase / jeos; the summary gives its median over the servers that built.
 *
 * --minbase-cache FILE: keep each server's minbase figures in FILE (JSON) and reuse them on the next
 * run, so that re-measuring jeos's side after a change does not run mmdebstrap 24 times again.
 *
 * --figures FILE: the JSON lines the live server suites append when JEOS_SERVER_FIGURES names a
 * file (test/support/servers/harness.ts): whether `jeos test --container` and `--vm` passed with the
 * check init wrote, and the time to healthy of each. Without it those columns say "—".
 *   JEOS_SERVER_FIGURES=/tmp/f.jsonl node scripts/run-tests.mjs servers; npx tsx bench/servers.ts --figures /tmp/f.jsonl
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { minbaseWith, type Minbase } from './trim/minbase.js';
import { tarSize } from './trim/size.js';

/** The servers issue 24 names, in its order. */
const SERVERS = [
  'bind9', 'nsd', 'pdns-server', 'knot', 'postfix', 'exim4-daemon-light', 'dovecot-imapd', 'vsftpd', 'chrony',
  'coturn', 'prosody', 'rabbitmq-server', 'caddy', 'kea-dhcp4-server', 'radicale', 'php8.4-fpm', 'etcd-server',
  'nats-server', 'pgbouncer', 'tinyproxy', 'privoxy', 'icecast2', 'slapd', 'valkey-server',
];

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = opt('--only')?.split(',') ?? SERVERS;
const figuresFile = opt('--figures');
const minbaseCacheFile = opt('--minbase-cache');
const minbaseCache: Record<string, Minbase> = minbaseCacheFile && existsSync(minbaseCacheFile) ? JSON.parse(readFileSync(minbaseCacheFile, 'utf8')) : {};
const json = args.includes('--json');
const cli = resolve('dist/jeos.mjs');
const log = (line: string) => (json ? process.stderr : process.stdout).write(line + '\n');
const progress = (line: string) => process.stderr.write(`  · ${line}\n`);
const MB = (b: number | undefined) => (b === undefined ? '—' : (b / 1e6).toFixed(1));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Row {
  server: string;
  /** Where jeos stopped, when it did: init or build, with the error's first line. */
  failed?: string;
  jeos?: { bytes: number; packages: number; initSeconds: number; buildSeconds: number };
  minbase?: Minbase;
  container?: { ok: boolean; readyMs?: number };
  vm?: { ok: boolean; readyMs?: number };
}

/** The live suites' figures: the last container and VM record of each server. */
function liveFigures(): Map<string, Pick<Row, 'container' | 'vm'>> {
  const out = new Map<string, Pick<Row, 'container' | 'vm'>>();
  if (!figuresFile || !existsSync(figuresFile)) return out;
  for (const line of readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean)) {
    const f = JSON.parse(line) as { server: string; step: string; readyMs?: number };
    const row = out.get(f.server) ?? {};
    if (f.step === 'container') row.container = { ok: true, readyMs: f.readyMs };
    if (f.step === 'vm') row.vm = { ok: true, readyMs: f.readyMs };
    out.set(f.server, row);
  }
  return out;
}

function jeos(cwd: string, ...argv: string[]) {
  const began = performance.now();
  const r = spawnSync(process.execPath, [cli, ...argv], { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });
  return { ...r, seconds: (performance.now() - began) / 1000 };
}

const firstError = (text: string) => (text.split('\n').find((l) => l.startsWith('error[')) ?? text.trim().split('\n').at(-1) ?? '').slice(0, 160);

const work = mkdtempSync(join(tmpdir(), 'jeos-bench-servers-'));
const rows: Row[] = [];
const live = liveFigures();
try {
  for (const server of only) {
    const row: Row = { server, ...live.get(server) };
    rows.push(row);
    progress(`${server}: jeos init --from ${server}, jeos build --format tar`);
    const init = jeos(work, 'init', server, '--from', server, '--outputs', 'tar', '--json');
    if (init.status !== 0) {
      row.failed = `init: ${firstError(init.stderr + init.stdout)}`;
    } else {
      const packages = (JSON.parse(init.stdout).packages as string[]).length;
      const build = jeos(work, 'build', server, '--frozen', '--format', 'tar', '-q');
      if (build.status !== 0) row.failed = `build: ${firstError(build.stderr + build.stdout)}`;
      else {
        const record = JSON.parse(readFileSync(join(work, server, 'out', 'build.json'), 'utf8'));
        row.jeos = {
          bytes: tarSize(join(work, server, 'out', 'rootfs.tar'), work).bytes,
          packages: record.packages?.length ?? packages,
          initSeconds: init.seconds,
          buildSeconds: build.seconds,
        };
      }
    }
    row.minbase = minbaseCache[server];
    if (!row.minbase) progress(`${server}: mmdebstrap --variant=minbase --include=${server}`);
    try {
      row.minbase ??= minbaseCache[server] = await minbaseWith([server], work, server);
      if (minbaseCacheFile) writeFileSync(minbaseCacheFile, JSON.stringify(minbaseCache, null, 1));
    } catch (e) {
      progress(`${server}: ${(e as Error).message.split('\n')[0]}`);
    }
    rmSync(join(work, server), { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const pass = (r?: { ok: boolean; readyMs?: number }) => (r ? `${r.ok ? 'pass' : 'FAIL'}${r.readyMs !== undefined ? ` ${(r.readyMs / 1000).toFixed(1)} s` : ''}` : '—');
  log(`jeos init --from PKG + jeos build vs mmdebstrap --variant=minbase --include=PKG (trixie); ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? '?'} (${cpus().length} CPUs), node ${process.version}`);
  log(`sizes: regular-file bytes + symlink targets of the extracted tree (bench/trim/size.ts), MB = 10^6 bytes${figuresFile ? `; container/VM: from ${figuresFile} (time to healthy)` : ''}`);
  log('server               jeos MB  pkgs   minbase MB  pkgs  minbase/jeos  init s  build s  container      VM');
  for (const r of rows) {
    const ratio = r.jeos && r.minbase ? `${(r.minbase.size.bytes / r.jeos.bytes).toFixed(1)}x` : '—';
    log(
      `${r.server.padEnd(20)} ${MB(r.jeos?.bytes).padStart(7)}  ${String(r.jeos?.packages ?? '—').padStart(4)}   ${MB(r.minbase?.size.bytes).padStart(10)}  ${String(r.minbase?.installed ?? '—').padStart(4)}  ${ratio.padStart(12)}  ${(r.jeos ? r.jeos.initSeconds.toFixed(1) : '—').padStart(6)}  ${(r.jeos ? r.jeos.buildSeconds.toFixed(1) : '—').padStart(7)}  ${pass(r.container).padEnd(13)}  ${pass(r.vm)}` +
        (r.failed ? `\n${''.padEnd(21)}${r.failed}` : ''),
    );
  }
  const ratios = rows.filter((r) => r.jeos && r.minbase).map((r) => r.minbase!.size.bytes / r.jeos!.bytes);
  log(`median minbase/jeos over ${ratios.length} servers that built: ${median(ratios).toFixed(1)}x (target: at least 4x)`);
}
