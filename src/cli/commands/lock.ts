import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { loadConfig } from '../../config/load.js';
import { createLock, writeLock } from '../../lock/lock.js';
import { lockKernel, lockRequest } from '../../lock/request.js';
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
      const resolution = resolve(index, lockRequest(loaded.config));
      const kernel = loaded.config.outputs.includes('vm') ? lockKernel(index, loaded.config.vm.kernel) : undefined;
      const lock = createLock(loaded, index, resolution, kernel);
      const path = await writeLock(loaded.dir, lock);
      printClosure(rowsOf(resolution), resolution.totalInstalledSize, !!flags.json, { lockfile: path, ...(kernel ? { kernel } : {}) });
      if (kernel && !flags.json) {
        console.log(`kernel for the VM image: ${kernel.name} ${kernel.version} (${kernel.suite}; only its kernel and the modules the image needs are used)`);
      }
      if (!flags.json) console.log(`wrote ${path}`);
    });
}
