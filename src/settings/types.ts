import type { ArchiveEvent } from '../archive/client.js';
import type { Mirrors } from '../archive/mirrors.js';
import type { MirrorTimeouts } from '../archive/watchdog.js';
import type { Config } from '../config/schema.js';

/** Where a setting's value came from, highest precedence first. */
export type SettingOrigin = 'flag' | 'environment' | 'config' | 'apt' | 'derived' | 'default';

/** The command-line flags that decide settings (every command that reads the archive takes them). */
export interface SettingsFlags {
  /** --suite, repeatable; a bare release name expands to its -updates and -security suites. */
  suite?: string[];
  arch?: string;
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  cacheDir?: string;
  offline?: boolean;
  /** --allow-downgrade: accept a Release older than the newest seen for its suite. */
  allowDowngrade?: boolean;
}

/** What settings are resolved from. Nothing else is read: no stage looks at the environment itself. */
export interface SettingsSources {
  flags?: SettingsFlags;
  /**
   * Default: process.env, read here and nowhere else in the library. Besides the JEOS_*
   * mirrors, keyring and cache: JEOS_CONNECT_TIMEOUT, JEOS_STALL_TIMEOUT and
   * JEOS_METADATA_DEADLINE (seconds) and SOURCE_DATE_EPOCH.
   */
  env?: NodeJS.ProcessEnv;
  /** jeos.yaml's debian: section, when there is a jeos.yaml. */
  debian?: Partial<Config['debian']>;
  /** apt's configuration directory (default /etc/apt), where mirrors come from last. */
  aptEtc?: string;
  /** The clock every stage reads (Valid-Until, Release dates in the future). Default: the system clock. */
  now?: () => Date;
  /** Progress of reading the archive's metadata. */
  onEvent?: (event: ArchiveEvent) => void;
}

/**
 * Every setting a command runs with, resolved once (see resolveSettings) and passed to
 * each stage, which takes the fields it needs. Precedence, highest first: command-line
 * flags, the environment (JEOS_*), jeos.yaml, apt's configuration, built-in defaults.
 */
export interface Settings {
  /**
   * The archive and security mirrors. Reading it throws E_NO_MIRROR when none is
   * configured anywhere, so commands that never reach the network do not fail for it.
   */
  readonly mirrors: Mirrors;
  suites: string[];
  components: string[];
  architecture: string;
  /** OpenPGP keyring every InRelease must be signed with. */
  keyring: string;
  /** The jeos cache: archive metadata, .debs, layers, kernels. */
  cacheDir: string;
  /** Use only the cache; fail naming anything missing. */
  offline: boolean;
  /** Accept a Release older than the newest seen for its suite (else E_RELEASE_ROLLBACK). */
  allowDowngrade: boolean;
  /** How long to wait for a mirror: an answer, data, a whole metadata file. */
  timeouts: MirrorTimeouts;
  /**
   * SOURCE_DATE_EPOCH from the environment, when set (reading it throws when it is not
   * a number of seconds); a build without it takes the lock's newest Release date.
   */
  readonly sourceDateEpoch: number | undefined;
  now: () => Date;
  onEvent?: (event: ArchiveEvent) => void;
  /** Where each value came from (for messages and `--json` reports). */
  origins: {
    mirror: SettingOrigin | 'none';
    securityMirror: SettingOrigin | 'none';
    suites: SettingOrigin;
    architecture: SettingOrigin;
    keyring: SettingOrigin;
    cacheDir: SettingOrigin;
  };
}
