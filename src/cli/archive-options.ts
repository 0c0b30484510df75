import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { resolveSettings, type Settings, type SettingsFlags } from '../settings/index.js';
import { archiveProgress } from './progress.js';

/** The flags of every command that reads the archive: the settings' flags, -C DIR, --json, --quiet. */
export interface ArchiveFlags extends SettingsFlags {
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The flags every command that reads the archive takes. */
export function withArchiveOptions(cmd: Command): Command {
  return cmd
    .option('--suite <name>', 'suite to read (repeatable; a release name like trixie includes its -updates and -security suites)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--arch <arch>', 'Debian architecture (default: from jeos.yaml, else amd64)')
    .option('--mirror <url>', 'Debian archive URL (default: JEOS_MIRROR, jeos.yaml, or apt\'s sources)')
    .option('--security-mirror <url>', 'Debian security archive URL (default: JEOS_SECURITY_MIRROR, jeos.yaml, or apt\'s sources)')
    .option('--keyring <path>', 'OpenPGP keyring the archive must be signed with (default: JEOS_KEYRING or debian-archive-keyring)')
    .option('--cache-dir <dir>', 'metadata cache (default: JEOS_CACHE_DIR, else $XDG_CACHE_HOME/jeos)')
    .option('--offline', 'use only the cache; fail naming anything missing')
    .option('--allow-downgrade', 'accept archive metadata older than the newest seen for its suite (a deliberate rollback or an old snapshot; refused otherwise)')
    .option('-C, --config <dir>', `read the debian: settings of DIR/${CONFIG_FILE} (default: ./${CONFIG_FILE} when present)`)
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-q, --quiet', 'no progress output');
}

/**
 * Resolve the settings of a command from its flags, the environment, jeos.yaml and apt's
 * configuration (src/settings says in which order). The debian: settings come from
 * `debian` when the command has read jeos.yaml already, else from -C DIR or ./jeos.yaml
 * when present.
 */
export async function archiveSettings(flags: ArchiveFlags, debian?: Partial<Config['debian']>): Promise<Settings> {
  const dir = flags.config ?? '.';
  if (!debian && (flags.config !== undefined || (await stat(join(resolve(dir), CONFIG_FILE)).catch(() => undefined)))) {
    debian = (await loadConfig(dir, { sources: false })).config.debian;
  }
  return resolveSettings({
    flags,
    debian,
    onEvent: archiveProgress(!!(flags.json || flags.quiet)),
  });
}
