import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Mirrors, MirrorOrigin } from '../archive/mirrors.js';
import { DEFAULT_KEYRING } from '../archive/signature.js';
import { DEFAULT_TIMEOUTS, type MirrorTimeouts } from '../archive/watchdog.js';
import { DEFAULT_SUITES } from '../config/schema.js';
import { JeosError } from '../errors.js';
import { aptMirrors, withSlash } from './apt-sources.js';
import type { SettingOrigin, Settings, SettingsSources } from './types.js';

const NO_COMPANIONS = new Set(['sid', 'unstable', 'experimental', 'rc-buggy']);

/**
 * A bare release name (trixie) stands for the release with its -updates and
 * -security suites, as a Debian system's sources would list them; anything
 * else (trixie-backports, sid) is taken as written.
 */
export function expandSuites(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    const family = /^[a-z]+$/.test(n) && !NO_COMPANIONS.has(n) ? [n, `${n}-updates`, `${n}-security`] : [n];
    for (const s of family) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** The first value that is set, with where it came from. */
function pick<T>(...candidates: Array<[T | undefined | '', SettingOrigin]>): [T, SettingOrigin] | undefined {
  for (const [value, origin] of candidates) if (value !== undefined && value !== '') return [value as T, origin];
  return undefined;
}

function checkMirrorUrl(url: string, origin: MirrorOrigin): string {
  if (!/^(https?|file):\/\//.test(url)) {
    throw new JeosError('E_MIRROR_URL', `mirror ${url} (from ${ORIGIN_NAMES[origin]}) is not an http(s):// or file:// URL`, {
      hint: 'mirror URLs look like http://HOST/debian/',
    });
  }
  return withSlash(url);
}

const ORIGIN_NAMES: Record<MirrorOrigin, string> = {
  flag: 'the command line',
  environment: 'the environment',
  config: 'jeos.yaml',
  apt: "apt's sources",
  derived: 'the archive mirror',
};

function parseEpoch(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,12}$/.test(text)) {
    throw new JeosError('E_BUILD_SOURCE_DATE_EPOCH', `SOURCE_DATE_EPOCH=${JSON.stringify(text)} is not a number of seconds`, {
      hint: "set it to whole seconds since 1970 (for instance `git log -1 --format=%ct`), or unset it to use the lock's dates",
    });
  }
  return Number(text);
}

/** The environment variables that set how long jeos waits for a mirror, in seconds. */
const TIMEOUT_VARIABLES: Array<[keyof MirrorTimeouts, string]> = [
  ['connectMs', 'JEOS_CONNECT_TIMEOUT'],
  ['stallMs', 'JEOS_STALL_TIMEOUT'],
  ['deadlineMs', 'JEOS_METADATA_DEADLINE'],
];

function parseTimeouts(env: NodeJS.ProcessEnv): MirrorTimeouts {
  const timeouts = { ...DEFAULT_TIMEOUTS };
  for (const [key, name] of TIMEOUT_VARIABLES) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text) || !(value > 0) || value > 86_400) {
      throw new JeosError('E_SETTINGS_TIMEOUT', `${name}=${JSON.stringify(text)} is not a number of seconds between 0 and 86400`, {
        hint: `set ${name} to seconds (for instance 60, or 0.5), or unset it for the default of ${DEFAULT_TIMEOUTS[key] / 1000}`,
      });
    }
    timeouts[key] = Math.round(value * 1000);
  }
  return timeouts;
}

/**
 * Resolve every setting once, in one place. Precedence, highest first:
 *   flags > environment (JEOS_MIRROR, JEOS_SECURITY_MIRROR, JEOS_KEYRING, JEOS_CACHE_DIR,
 *   JEOS_CONNECT_TIMEOUT, JEOS_STALL_TIMEOUT, JEOS_METADATA_DEADLINE, SOURCE_DATE_EPOCH)
 *   > jeos.yaml (debian:) > apt's sources (mirrors only) > defaults.
 * The security mirror falls back to the archive mirror. Mirror URLs are checked here;
 * a missing mirror and a malformed SOURCE_DATE_EPOCH fail only when they are read.
 */
export async function resolveSettings(sources: SettingsSources = {}): Promise<Settings> {
  const flags = sources.flags ?? {};
  const env = sources.env ?? process.env;
  const debian = sources.debian ?? {};

  let archive = pick<string>([flags.mirror, 'flag'], [env.JEOS_MIRROR, 'environment'], [debian.mirror, 'config']);
  let security = pick<string>([flags.securityMirror, 'flag'], [env.JEOS_SECURITY_MIRROR, 'environment'], [debian.securityMirror, 'config']);
  if (!archive || !security) {
    const apt = await aptMirrors(sources.aptEtc);
    archive ??= pick<string>([apt.archive, 'apt']);
    security ??= pick<string>([apt.security, 'apt']);
  }
  if (archive && !security) security = [archive[0], 'derived'];
  const mirrors: Mirrors | undefined =
    archive && security
      ? {
          archive: checkMirrorUrl(archive[0], archive[1] as MirrorOrigin),
          security: checkMirrorUrl(security[0], security[1] as MirrorOrigin),
          from: { archive: archive[1] as MirrorOrigin, security: security[1] as MirrorOrigin },
        }
      : undefined;

  const suites = pick<string[]>([flags.suite?.length ? expandSuites(flags.suite) : undefined, 'flag'], [debian.suites, 'config']) ?? [DEFAULT_SUITES, 'default'];
  const architecture = pick<string>([flags.arch, 'flag'], [debian.architecture, 'config']) ?? ['amd64', 'default'];
  const keyring = pick<string>([flags.keyring, 'flag'], [env.JEOS_KEYRING, 'environment'], [debian.keyring, 'config']) ?? [DEFAULT_KEYRING, 'default'];
  const cacheDir =
    pick<string>([flags.cacheDir, 'flag'], [env.JEOS_CACHE_DIR, 'environment']) ??
    [join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'jeos'), 'default'];
  const epochText = env.SOURCE_DATE_EPOCH;
  const timeouts = parseTimeouts(env);

  return {
    get mirrors(): Mirrors {
      if (!mirrors) {
        throw new JeosError('E_NO_MIRROR', 'no Debian mirror is configured', {
          hint: 'pass --mirror URL, set JEOS_MIRROR, set debian.mirror in jeos.yaml, or add a Debian source to /etc/apt/sources.list.d/',
        });
      }
      return mirrors;
    },
    suites: suites[0],
    components: debian.components ?? ['main'],
    architecture: architecture[0],
    keyring: keyring[0],
    cacheDir: cacheDir[0],
    offline: flags.offline ?? false,
    allowDowngrade: flags.allowDowngrade ?? false,
    timeouts,
    get sourceDateEpoch() {
      return parseEpoch(epochText);
    },
    now: sources.now ?? (() => new Date()),
    ...(sources.onEvent ? { onEvent: sources.onEvent } : {}),
    origins: {
      mirror: archive?.[1] ?? 'none',
      securityMirror: security?.[1] ?? 'none',
      suites: suites[1],
      architecture: architecture[1],
      keyring: keyring[1],
      cacheDir: cacheDir[1],
    },
  };
}
