import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { loadConfig } from '../../config/load.js';
import { JeosError } from '../../errors.js';
import { lockAsResolution, lockStatus } from '../../lock/lock.js';
import { lockRequest } from '../../lock/request.js';
import { resolve, whyPaths, type DependencyGraph } from '../../resolve/index.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printJson } from '../format.js';

export function registerWhy(program: Command): void {
  withArchiveOptions(
    program
      .command('why')
      .argument('<package>', 'a package of the image')
      .argument('[dir]', 'directory holding jeos.yaml (and jeos.lock)', '.')
      .description('show the dependency paths from the workload to a package (from jeos.lock when it is current)'),
  )
    .addHelpText('after', '\nExamples:\n  jeos why libssl3t64 examples/nginx\n  jeos why zlib1g --json')
    .action(async (name: string, dir: string, flags: ArchiveFlags) => {
      const loaded = await loadConfig(dir);
      const status = await lockStatus(loaded);
      let graph: DependencyGraph;
      let source: 'lock' | 'resolved';
      if (status.state === 'fresh') {
        graph = lockAsResolution(status.lock);
        source = 'lock';
      } else {
        if (!flags.quiet && !flags.json) {
          process.stderr.write(
            status.state === 'stale'
              ? `note: ${status.reason}; answering from a fresh resolution\n`
              : `note: no jeos.lock in ${loaded.dir}; answering from a fresh resolution (jeos lock writes one)\n`,
          );
        }
        const index = await openArchive(await archiveSettings(flags, loaded.config.debian));
        graph = resolve(index, lockRequest(loaded.config));
        source = 'resolved';
      }
      const paths = whyPaths(graph, name);
      if (!paths.length) {
        throw new JeosError('E_NOT_IN_IMAGE', `${name} is not in the image of ${loaded.path}`, {
          hint: `nothing the workload needs pulls it in; jeos show ${name} tells what it is`,
        });
      }
      if (flags.json) return printJson({ package: name, source, lockState: status.state, paths });
      for (const p of paths) console.log(p.join(' → '));
    });
}
