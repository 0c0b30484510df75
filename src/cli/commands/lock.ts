import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { loadConfig } from '../../config/load.js';
import { createLock, writeLock } from '../../lock/lock.js';
import { resolveLock } from '../../lock/request.js';
import type { LockedPackage } from '../../lock/types.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printClosure, printSkippedRecommends, rowsOf, skippedRecommendsJson, type ClosureRow } from '../closure-output.js';
import { formatKiB } from '../format.js';

const lockedRow = ({ neededBy: _neededBy, ...row }: LockedPackage): ClosureRow => row;

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
      const resolved = resolveLock(index, loaded.config);
      const { resolution } = resolved;
      const lock = createLock(loaded, index, resolved);
      const path = await writeLock(loaded.dir, lock);
      const kernel = lock.kernel;
      const vmPackages = lock.vmPackages;
      printClosure(rowsOf(resolution), resolution.totalInstalledSize, !!flags.json, {
        lockfile: path,
        ...skippedRecommendsJson(resolution),
        ...(vmPackages ? { vmPackages: vmPackages.map(lockedRow) } : {}),
        ...(kernel ? { kernel } : {}),
      });
      if (!flags.json) printSkippedRecommends(resolution);
      if (vmPackages && kernel && !flags.json) {
        const added = vmPackages.reduce((sum, p) => sum + p.installedSize, 0);
        console.log(`the VM image adds ${vmPackages.length} packages (${formatKiB(added)}): ${vmPackages.map((p) => p.name).join(', ')}`);
        console.log(`kernel for the VM image: ${kernel.name} ${kernel.version} (${kernel.suite}; only its kernel and the modules the image needs are used)`);
      }
      if (!flags.json) console.log(`wrote ${path}`);
    });
}
