import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { loadConfig } from '../../config/load.js';
import { hasChanges, lockChanges } from '../../lock/changes.js';
import { createLock, readLock, writeLock } from '../../lock/lock.js';
import { resolveLock } from '../../lock/request.js';
import type { LockedPackage } from '../../lock/types.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printClosure, printSkippedRecommends, rowsOf, skippedRecommendsJson, type ClosureRow } from '../closure-output.js';
import { formatKiB } from '../format.js';
import { lockChangeLines } from '../lock-changes.js';

const lockedRow = ({ neededBy: _neededBy, ...row }: LockedPackage): ClosureRow => row;

export function registerLock(program: Command): void {
  withArchiveOptions(
    program
      .command('lock')
      .argument('[dir]', 'directory holding jeos.yaml', '.')
      .option('--update', 'take the newest versions the archive has now (jeos lock always resolves anew; --update says so) and print what changed against the previous lock')
      .description('resolve the workload of DIR/jeos.yaml and write DIR/jeos.lock (exact versions, hashes, sizes)'),
  )
    .addHelpText('after', '\nExamples:\n  jeos lock examples/nginx\n  jeos lock . --update    # after jeos outdated: take the new versions, print the changes\n  jeos lock . --json')
    .action(async (dir: string, flags: ArchiveFlags & { update?: boolean }) => {
      const loaded = await loadConfig(dir);
      const previous = await readLock(loaded.dir).catch(() => undefined);
      const index = await openArchive(await archiveSettings(flags, loaded.config.debian));
      const resolved = resolveLock(index, loaded.config);
      const { resolution } = resolved;
      const lock = createLock(loaded, index, resolved);
      const path = await writeLock(loaded.dir, lock);
      const changes = previous ? lockChanges(previous, lock) : undefined;
      const kernel = lock.kernel;
      const vmPackages = lock.vmPackages;
      printClosure(rowsOf(resolution), resolution.totalInstalledSize, !!flags.json, {
        lockfile: path,
        ...skippedRecommendsJson(resolution),
        ...(vmPackages ? { vmPackages: vmPackages.map(lockedRow) } : {}),
        ...(kernel ? { kernel } : {}),
        ...(changes ? { changes } : {}),
        ...(resolved.joint ? { joint: resolved.joint } : {}),
      });
      if (!flags.json) printSkippedRecommends(resolution);
      if (vmPackages && kernel && !flags.json) {
        const added = vmPackages.reduce((sum, p) => sum + p.installedSize, 0);
        console.log(`the VM image adds ${vmPackages.length} packages (${formatKiB(added)}): ${vmPackages.map((p) => p.name).join(', ')}`);
        console.log(`kernel for the VM image: ${kernel.name} ${kernel.version} (${kernel.suite}; only its kernel and the modules the image needs are used)`);
        if (resolved.joint) console.log(`note: ${resolved.joint}`);
      }
      if (!flags.json && changes && (flags.update || hasChanges(changes))) for (const line of lockChangeLines(changes)) console.log(line);
      if (!flags.json) console.log(`wrote ${path}`);
    });
}
