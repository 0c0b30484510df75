import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printJson, table } from '../format.js';

export function registerUpdate(program: Command): void {
  withArchiveOptions(
    program
      .command('update')
      .description('fetch and verify the archive metadata into the cache (what apt-get update is to apt)'),
  ).action(async (flags: ArchiveFlags) => {
    const index = await openArchive(await archiveSettings(flags));
    const suites = index.suites.map((s) => ({
      suite: s.suite,
      mirror: s.mirror,
      codename: s.release.codename ?? null,
      date: s.release.date?.toISOString() ?? null,
      validUntil: s.release.validUntil?.toISOString() ?? null,
      indices: s.indices,
      packages: s.indices.reduce((n, i) => n + i.packages, 0),
    }));
    if (flags.json) return printJson({ architecture: index.architecture, packages: index.packages.length, suites });
    console.log(
      table([
        ['suite', 'packages', 'date', 'valid until', 'mirror'],
        ...suites.map((s) => [s.suite, String(s.packages), s.date ?? '-', s.validUntil ?? '-', s.mirror]),
      ]),
    );
    console.log(`${index.packages.length} packages for ${index.architecture}; every InRelease signature and index hash verified`);
  });
}
