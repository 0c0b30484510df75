/**
 * Figures for issue 3: per workload, the resolve time (median of several runs after the
 * index is loaded) and the total Installed-Size of jeos's set against apt's own closure
 * for the same request without Recommends (`apt-get install -s --no-install-recommends`
 * against a private apt configuration for trixie with an empty dpkg status). Then one
 * large request. Mirrors come from apt's configuration (or JEOS_MIRROR / JEOS_SECURITY_MIRROR).
 * --no-apt skips apt (times only). --sets FILE writes every chosen set (name=version) as JSON;
 * --against FILE compares them with such a file from an earlier run and lists what changed.
 *   npx tsx bench/resolve.ts [--runs N] [--only nginx,curl] [--no-apt] [--sets FILE] [--against FILE]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openArchive } from '../src/archive/open.js';
import { resolveSettings } from '../src/settings/index.js';
import type { ArchiveIndex } from '../src/archive/client.js';
import { resolve, type Resolution } from '../src/resolve/index.js';
import { LARGE_REQUEST, WORKLOAD_LIST } from '../test/resolve/workloads.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const runs = Number(opt('--runs', '5'));
const only = opt('--only', '');
const workloads = only ? only.split(',') : WORKLOAD_LIST;
const useApt = !args.includes('--no-apt');
const setsFile = opt('--sets', '');
const againstFile = opt('--against', '');
const cacheDir = process.env.JEOS_CACHE_DIR ?? join(tmpdir(), 'jeos-cache');
const aptDir = process.env.JEOS_APT_DIR ?? join(tmpdir(), 'jeos-bench-apt');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** A private apt for trixie: its own sources, lists, cache and an empty dpkg status. */
async function privateApt(): Promise<string[]> {
  const { mirrors } = await resolveSettings();
  for (const d of ['state/lists/partial', 'cache/archives/partial', 'etc/sources.list.d', 'etc/preferences.d', 'etc/apt.conf.d']) {
    mkdirSync(join(aptDir, d), { recursive: true });
  }
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  writeFileSync(
    join(aptDir, 'etc/sources.list'),
    `deb [signed-by=${keyring}] ${mirrors.archive} trixie main\ndeb [signed-by=${keyring}] ${mirrors.archive} trixie-updates main\ndeb [signed-by=${keyring}] ${mirrors.security} trixie-security main\n`,
  );
  writeFileSync(join(aptDir, 'status'), '');
  const o = (k: string, v: string) => ['-o', `${k}=${v}`];
  const aptArgs = [
    ...o('Dir::Etc', join(aptDir, 'etc')),
    ...o('Dir::Etc::SourceList', join(aptDir, 'etc/sources.list')),
    ...o('Dir::Etc::SourceParts', join(aptDir, 'etc/sources.list.d')),
    ...o('Dir::Etc::Parts', join(aptDir, 'etc/apt.conf.d')),
    ...o('Dir::Etc::PreferencesParts', join(aptDir, 'etc/preferences.d')),
    ...o('Dir::State', join(aptDir, 'state')),
    ...o('Dir::State::status', join(aptDir, 'status')),
    ...o('Dir::Cache', join(aptDir, 'cache')),
    ...o('APT::Architecture', 'amd64'),
    ...o('APT::Architectures', 'amd64'),
    ...o('Acquire::Languages', 'none'),
    ...o('APT::Sandbox::User', 'root'),
    ...o('Debug::NoLocking', 'true'),
  ];
  const up = spawnSync('apt-get', [...aptArgs, '-qq', 'update'], { encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`apt-get update failed: ${up.stderr}`);
  return aptArgs;
}

/** apt's closure: the packages `apt-get install -s --no-install-recommends` would install. */
function aptClosure(aptArgs: string[], pkgs: string[]): Array<{ name: string; version: string }> | string {
  const r = spawnSync('apt-get', [...aptArgs, 'install', '-s', '--no-install-recommends', ...pkgs], { encoding: 'utf8', maxBuffer: 64e6 });
  if (r.status !== 0) return (r.stderr || r.stdout).trim().split('\n').slice(-1)[0]!;
  const out: Array<{ name: string; version: string }> = [];
  for (const m of r.stdout.matchAll(/^Inst (\S+) \((\S+) /gm)) out.push({ name: m[1]!.replace(/:amd64$/, ''), version: m[2]! });
  return out;
}

function sizeOf(index: ArchiveIndex, name: string, version: string): number {
  return index.byName.get(name)?.find((p) => p.version === version)?.installedSize ?? 0;
}

const sets: Record<string, { totalInstalledSize: number; packages: string[] }> = {};
const record = (key: string, r: Resolution) => {
  sets[key] = { totalInstalledSize: r.totalInstalledSize, packages: r.packages.map((p) => `${p.record.name}=${p.record.version}`) };
};

const index = await openArchive(await resolveSettings({ flags: { cacheDir } }));
const aptArgs = useApt ? await privateApt() : [];
console.log(`index: ${index.packages.length} packages (${index.suites.map((s) => s.suite).join(', ')}); ${runs} runs per workload, median shown`);
console.log('apt = apt-get install -s --no-install-recommends, empty dpkg status (its set includes the Essential packages apt adds itself);');
console.log('jeos+E = jeos for the same request plus the Essential packages in apt\'s set (the like-for-like comparison).\n');
const head = ['workload', 'jeos pkgs', 'jeos KiB', 'apt pkgs', 'apt KiB', 'jeos/apt', 'jeos+E KiB', 'jeos+E/apt', 'jeos ms', 'nodes', 'proven'];
const rows: string[][] = [];
let worse = 0;
const times: number[] = [];
for (const w of workloads) {
  let r = resolve(index, { packages: [w] });
  const ms = median(Array.from({ length: runs }, () => time(() => (r = resolve(index, { packages: [w] })))));
  times.push(ms);
  record(w, r);
  const apt = useApt ? aptClosure(aptArgs, [w]) : 'not run';
  if (typeof apt === 'string') {
    rows.push([w, String(r.packages.length), String(r.totalInstalledSize), '-', `apt: ${apt}`, '', '', '', ms.toFixed(1), String(r.stats.searchNodes), String(r.stats.optimal)]);
    continue;
  }
  const aptKiB = apt.reduce((t, p) => t + sizeOf(index, p.name, p.version), 0);
  const essential = apt.filter((p) => index.byName.get(p.name)?.some((x) => x.essential)).map((p) => p.name);
  const withE = resolve(index, { packages: [w, ...essential] });
  if (r.totalInstalledSize > aptKiB || withE.totalInstalledSize > aptKiB) worse++;
  rows.push([
    w,
    String(r.packages.length),
    String(r.totalInstalledSize),
    String(apt.length),
    String(aptKiB),
    (r.totalInstalledSize / aptKiB).toFixed(2),
    String(withE.totalInstalledSize),
    (withE.totalInstalledSize / aptKiB).toFixed(3),
    ms.toFixed(1),
    String(r.stats.searchNodes),
    String(r.stats.optimal),
  ]);
}
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
console.log(`\nworkloads: ${workloads.length}; jeos larger than apt: ${worse}; resolve time median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms (target <= 100 ms)`);

let large = resolve(index, { packages: LARGE_REQUEST });
const largeMs = median(Array.from({ length: 3 }, () => time(() => (large = resolve(index, { packages: LARGE_REQUEST })))));
record(LARGE_REQUEST.join(' '), large);
const aptLarge = useApt ? aptClosure(aptArgs, LARGE_REQUEST) : 'apt not run';
const aptLargeKiB = typeof aptLarge === 'string' ? NaN : aptLarge.reduce((t, p) => t + sizeOf(index, p.name, p.version), 0);
console.log(
  `large request ${LARGE_REQUEST.join(' ')}: ${large.packages.length} packages (closure ${large.stats.closure}, ${large.stats.free} open), ` +
    `${large.totalInstalledSize} KiB, proven optimal: ${large.stats.optimal} (${large.stats.searchNodes} search nodes, ${large.stats.satCalls} SAT calls); ${typeof aptLarge === 'string' ? aptLarge : `apt ${aptLarge.length} packages, ${aptLargeKiB} KiB`}; ` +
    `${largeMs.toFixed(0)} ms median of 3 (target < 2000 ms)`,
);

if (setsFile) writeFileSync(setsFile, `${JSON.stringify(sets, null, 1)}\n`);
if (againstFile) {
  const earlier = JSON.parse(readFileSync(againstFile, 'utf8')) as typeof sets;
  let same = 0;
  for (const [key, now] of Object.entries(sets)) {
    const then = earlier[key];
    if (!then) continue;
    if (then.packages.join(' ') === now.packages.join(' ')) {
      same++;
      continue;
    }
    const gone = then.packages.filter((p) => !now.packages.includes(p));
    const added = now.packages.filter((p) => !then.packages.includes(p));
    console.log(`${key}: ${then.totalInstalledSize} -> ${now.totalInstalledSize} KiB; out: ${gone.join(' ') || '-'}; in: ${added.join(' ') || '-'}`);
  }
  console.log(`sets identical to ${againstFile}: ${same} of ${Object.keys(sets).filter((k) => earlier[k]).length}`);
}
