import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ArchiveSettings } from '../archive/open.js';
import { CONFIG_FILE, loadConfig } from '../config/load.js';
import { archiveProgress } from './progress.js';

export interface ArchiveFlags {
  suite?: string[];
  arch?: string;
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  cacheDir?: string;
  offline?: boolean;
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
    .option('-C, --config <dir>', `read the debian: settings of DIR/${CONFIG_FILE} (default: ./${CONFIG_FILE} when present)`)
    .option('--json', 'print machine-readable JSON on stdout')
    .option('-q, --quiet', 'no progress output');
}

/**
 * Turn flags into archive settings. The debian: settings come from `loaded` when the
 * command has read jeos.yaml already, else from -C DIR or ./jeos.yaml when present.
 */
export async function archiveSettings(flags: ArchiveFlags, loaded?: ArchiveSettings['debian']): Promise<ArchiveSettings> {
  let debian = loaded;
  const dir = flags.config ?? '.';
  if (!debian && (flags.config !== undefined || (await stat(join(resolve(dir), CONFIG_FILE)).catch(() => undefined)))) {
    debian = (await loadConfig(dir)).config.debian;
  }
  return {
    debian,
    suites: flags.suite,
    architecture: flags.arch,
    mirror: flags.mirror,
    securityMirror: flags.securityMirror,
    keyring: flags.keyring,
    cacheDir: flags.cacheDir,
    offline: flags.offline,
    onEvent: archiveProgress(!!(flags.json || flags.quiet)),
  };
}
