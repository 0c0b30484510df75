import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { resolve } from '../../resolve/index.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printClosure, printSkippedRecommends, rowsOf, skippedRecommendsJson } from '../closure-output.js';

export interface ResolveFlags extends ArchiveFlags {
  recommends?: boolean;
  profile?: 'none' | 'minbase';
}

export function registerResolve(program: Command): void {
  withArchiveOptions(
    program
      .command('resolve')
      .argument('<packages...>', 'package requests: name, name=version (globs allowed), name/suite')
      .description('the smallest package set that installs the named packages (no config, no file written)'),
  )
    .option('--recommends', 'follow Recommends too (one that cannot be installed with what is required is skipped and listed)')
    .option('--profile <profile>', 'none, or minbase to add every Essential and required package', 'none')
    .addHelpText('after', '\nExamples:\n  jeos resolve nginx\n  jeos resolve redis-server curl --json\n  jeos resolve nginx=1.26.* --suite trixie')
    .action(async (packages: string[], flags: ResolveFlags) => {
      const index = await openArchive(await archiveSettings(flags));
      const started = performance.now();
      const resolution = resolve(index, { packages, recommends: !!flags.recommends, profile: flags.profile === 'minbase' ? 'minbase' : 'none' });
      const ms = Math.round(performance.now() - started);
      printClosure(rowsOf(resolution), resolution.totalInstalledSize, !!flags.json, { optimal: resolution.stats.optimal, ...skippedRecommendsJson(resolution) });
      if (!flags.json) printSkippedRecommends(resolution);
      if (!flags.json && !flags.quiet) process.stderr.write(`resolved in ${ms} ms${resolution.stats.optimal ? ' (smallest possible)' : ''}\n`);
    });
}
