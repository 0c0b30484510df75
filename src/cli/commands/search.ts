import type { Command } from 'commander';
import { candidateOf, searchPackages } from '../../archive/candidates.js';
import type { ArchiveIndex } from '../../archive/client.js';
import { openArchive } from '../../archive/open.js';
import { JeosError } from '../../errors.js';
import { contentsOwners } from '../../init/index.js';
import type { Settings } from '../../settings/index.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { formatKiB, printJson, table } from '../format.js';

type SearchFlags = ArchiveFlags & { limit: string };

export function registerSearch(program: Command): void {
  withArchiveOptions(
    program
      .command('search')
      .argument('<words...>', 'words that must all appear in the package name or synopsis, or absolute paths (/usr/sbin/nginx) to find the package that ships each')
      .description('find packages by name or description, or the package that ships a file'),
  )
    .option('--limit <n>', 'show at most N results (0: all)', '50')
    .addHelpText(
      'after',
      `
An argument starting with / is a path: the archive's Contents index (Contents-<arch>.gz,
listed in the signed Release, read once into the cache) tells which packages ship it.
/bin/X and /usr/bin/X find each other (Debian's /usr is merged).

Examples:
  jeos search nginx
  jeos search redis server --json
  jeos search /usr/sbin/nginx
  jeos search /usr/bin/curl /usr/lib/x86_64-linux-gnu/libssl.so.3 --json`,
    )
    .action(async (words: string[], flags: SearchFlags) => {
      const paths = words.filter((w) => w.startsWith('/'));
      if (paths.length && paths.length !== words.length) {
        throw new JeosError('E_SEARCH_MIXED', `search for words or for paths, not both: ${words.join(' ')}`, {
          hint: `jeos search ${paths[0]} finds the package that ships a file; jeos search WORDS finds packages by name or description`,
        });
      }
      const settings = await archiveSettings(flags);
      const index = await openArchive(settings);
      if (paths.length) return searchPaths(index, paths, flags, settings);
      const all = searchPackages(index, words.join(' '));
      const limit = Number(flags.limit) || all.length;
      const shown = all.slice(0, limit);
      if (flags.json) {
        return printJson({
          query: words.join(' '),
          total: all.length,
          results: shown.map((p) => ({ name: p.name, version: p.version, suite: p.suite, installedSize: p.installedSize, description: p.description ?? '' })),
        });
      }
      if (!shown.length) {
        console.log(`no package matches "${words.join(' ')}"`);
        return;
      }
      console.log(table(shown.map((p) => [p.name, p.version, formatKiB(p.installedSize), p.description ?? ''])));
      if (all.length > shown.length) console.log(`… ${all.length - shown.length} more (use --limit 0 to see all)`);
    });
}

/** Which packages ship each path, from the Contents index of every loaded suite. */
async function searchPaths(index: ArchiveIndex, paths: string[], flags: SearchFlags, settings: Settings): Promise<void> {
  let found: Map<string, string[]>;
  try {
    found = await contentsOwners(
      {
        index,
        cacheDir: settings.cacheDir,
        offline: settings.offline,
        onProgress: flags.json || flags.quiet ? undefined : (m) => process.stderr.write(`${m}\n`),
      },
      paths,
    );
  } catch (e) {
    if (!(e instanceof JeosError && e.code === 'E_INIT_NO_CONTENTS')) throw e;
    throw new JeosError('E_SEARCH_NO_CONTENTS', `the archive publishes no Contents-${index.architecture}.gz index to find ${paths.join(', ')} in`, {
      hint: 'use a mirror that publishes Contents indices (Debian\'s do), or list a package\'s files with dpkg-deb --contents',
    });
  }
  const files = paths.map((path) => ({
    path,
    packages: (found.get(path) ?? []).map((name) => {
      const p = candidateOf(index, name);
      return { name, version: p?.version ?? null, suite: p?.suite ?? null };
    }),
  }));
  if (flags.json) return printJson({ query: paths.join(' '), files });
  const rows = files.flatMap((f) => f.packages.map((p) => [f.path, p.name, p.version ? `${p.version} (${p.suite})` : '(not in the loaded indices)']));
  if (rows.length) console.log(table(rows));
  const suites = index.suites.map((s) => s.suite).join(', ');
  for (const f of files) if (!f.packages.length) console.log(`no package in ${suites} ships ${f.path}`);
}
