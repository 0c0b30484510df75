import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { loadConfig } from '../../config/load.js';
import { createLock, writeLock } from '../../lock/lock.js';
import { resolve } from '../../resolve/index.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printClosure, rowsOf } from '../closure-output.js';

export function registerLock(program: Command): void {
  withArchiveOptions(
    program
      .command('lock')
      .argument('[dir]', 'directory holding jeos.yaml', '.')
      .description('resolve the workload of DIR/jeos.yaml and write DIR/jeos.lock (exact versions, hashes, sizes)'),
  )
    .addHelpText('after', '\nExamples:\n  jeos lock examples/nginx\n  jeos lock . --json')
    .action(async (dir: string, flags: ArchiveFlags) => {
      const loaded = await loadConfig(dir);
      const index = await openArchive(await archiveSettings(flags, loaded.config.debian));
      const w = loaded.config.workload;
      const resolution = resolve(index, { packages: w.packages, recommends: w.recommends, profile: w.profile });
      const lock = createLock(loaded, index, resolution);
      const path = await writeLock(loaded.dir, lock);
      printClosure(rowsOf(resolution), resolution.totalInstalledSize, !!flags.json, { lockfile: path });
      if (!flags.json) console.log(`wrote ${path}`);
    });
}
