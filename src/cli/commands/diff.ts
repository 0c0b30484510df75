import type { Command } from 'commander';
import { fetchPackages } from '../../fetch/index.js';
import { diffSides, readSide, type DiffResult, type FetchDebs, type UpgradeNotes } from '../../lifecycle/diff/index.js';
import type { Settings } from '../../settings/index.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { formatBytes, formatKiB, printJson } from '../format.js';

/** .debs into the verified package cache, with the command's settings (mirrors, cache, offline, timeouts). */
export function debFetcher(settings: () => Promise<Settings>): FetchDebs {
  return async (pkgs) => {
    const s = await settings();
    const fetched = await fetchPackages({ packages: pkgs }, { cacheDir: s.cacheDir, mirrors: s.mirrors, offline: s.offline, timeouts: s.timeouts });
    return new Map(fetched.map((f) => [f.pkg.name, f.path]));
  };
}

export function printUpgrade(u: UpgradeNotes & { security?: boolean }, indent = '  '): void {
  console.log(`${indent}${u.name} ${u.from} → ${u.to} (${u.suite}${u.security ? ', security' : ''})${u.cves.length ? `  ${u.cves.join(' ')}` : ''}`);
  if (u.note) console.log(`${indent}  (${u.note})`);
  for (const e of u.entries) for (const line of e.text.split('\n')) console.log(`${indent}  | ${line}`.trimEnd());
}

function printDiff(d: DiffResult): void {
  const p = d.packages;
  console.log(`${d.a} → ${d.b}`);
  console.log(`packages: ${p.upgraded.length} upgraded, ${p.added.length} added, ${p.removed.length} removed${p.downgraded.length ? `, ${p.downgraded.length} downgraded` : ''}`);
  for (const a of p.added) console.log(`  + ${a.name} ${a.version}`);
  for (const r of p.removed) console.log(`  - ${r.name} ${r.version}`);
  for (const x of p.downgraded) console.log(`  ↓ ${x.name} ${x.from} → ${x.to}`);
  for (const u of d.upgrades) printUpgrade(u);
  if (d.cves.length) console.log(`CVEs named: ${d.cves.join(' ')}`);
  for (const f of d.files ?? []) {
    console.log(`files (${f.tree}): ${f.added.length} added, ${f.removed.length} removed, ${f.changed.length} changed; ${formatBytes(f.bytes.before)} → ${formatBytes(f.bytes.after)}`);
    for (const [mark, list] of [['+', f.added], ['-', f.removed], ['~', f.changed]] as const) {
      for (const path of list.slice(0, 50)) console.log(`  ${mark} ${path}`);
      if (list.length > 50) console.log(`  ${mark} … ${list.length - 50} more (--json lists them all)`);
    }
  }
  if (d.filesNote) console.log(d.filesNote);
  console.log(`installed size: ${formatKiB(d.installedKiB.before)} → ${formatKiB(d.installedKiB.after)}`);
}

export function registerDiff(program: Command): void {
  withArchiveOptions(
    program
      .command('diff')
      .argument('<a>', 'a jeos.lock, a project directory, or CHANNEL_DIR@VERSION')
      .argument('<b>', 'the same, for the newer side')
      .description('what changed from A to B: packages, the changelog entries and CVEs of each upgrade, files, sizes'),
  )
    .addHelpText(
      'after',
      `
Exit status 0 whenever the comparison ran, whatever it found. The changelogs come from
the upgraded packages' .debs, fetched into the package cache (--offline: the cache only).

Examples:
  jeos diff old/jeos.lock examples/nginx
  jeos diff /srv/updates/web/stable@1.4 /srv/updates/web/stable@1.5 --json`,
    )
    .action(async (a: string, b: string, flags: ArchiveFlags) => {
      const d = await diffSides(await readSide(a), await readSide(b), debFetcher(() => archiveSettings(flags)));
      if (flags.json) return printJson({ ok: true, ...d });
      printDiff(d);
    });
}
