import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { loadConfig } from '../../config/load.js';
import { outdated } from '../../lifecycle/diff/index.js';
import { LOCK_FILE, readLock } from '../../lock/index.js';
import { JeosError } from '../../errors.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printJson } from '../format.js';
import { debFetcher, printUpgrade } from './diff.js';

export function registerOutdated(program: Command): void {
  withArchiveOptions(
    program
      .command('outdated')
      .argument('[dir]', 'directory holding jeos.yaml and jeos.lock', '.')
      .description('locked packages the archive has newer versions of, which are security updates, and the CVEs their changelogs name'),
  )
    .addHelpText(
      'after',
      `
Exit status 0 when the lock is current, 1 when updates exist (for a scheduled CI job).
jeos lock --update takes them.

Examples:
  jeos outdated examples/nginx
  jeos outdated . --json`,
    )
    .action(async (dir: string, flags: ArchiveFlags) => {
      const loaded = await loadConfig(dir);
      const lock = await readLock(loaded.dir);
      if (!lock) throw new JeosError('E_OUTDATED_NO_LOCK', `${dir} has no ${LOCK_FILE}`, { hint: 'run jeos lock first: outdated compares a lock with the archive' });
      const settings = await archiveSettings(flags, loaded.config.debian);
      const index = await openArchive(settings);
      const r = await outdated(lock, index, debFetcher(async () => settings));
      if (flags.json) printJson({ ok: true, current: r.outdated.length === 0, ...r });
      else if (!r.outdated.length) console.log(`${LOCK_FILE} is current: none of its ${r.checked} packages has a newer version`);
      else {
        console.log(`${r.outdated.length} of ${r.checked} locked packages have newer versions (${r.security} from a security suite):`);
        for (const u of r.outdated) printUpgrade(u);
        if (r.cves.length) console.log(`CVEs named: ${r.cves.join(' ')}`);
        console.log('take them: jeos lock --update, then build');
      }
      process.exitCode = r.outdated.length ? 1 : 0;
    });
}
