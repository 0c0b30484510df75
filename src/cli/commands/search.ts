import type { Command } from 'commander';
import { searchPackages } from '../../archive/candidates.js';
import { openArchive } from '../../archive/open.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { formatKiB, printJson, table } from '../format.js';

export function registerSearch(program: Command): void {
  withArchiveOptions(
    program
      .command('search')
      .argument('<words...>', 'words that must all appear in the package name or synopsis')
      .description('find packages by name or description'),
  )
    .option('--limit <n>', 'show at most N results (0: all)', '50')
    .addHelpText('after', '\nExamples:\n  jeos search nginx\n  jeos search redis server --json')
    .action(async (words: string[], flags: ArchiveFlags & { limit: string }) => {
      const index = await openArchive(await archiveSettings(flags));
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
