import type { Config } from '../config/schema.js';
import { DEFAULT_SUITES } from '../config/schema.js';
import { loadArchive, type ArchiveEvent, type ArchiveIndex } from './client.js';
import { defaultCacheDir } from './cache.js';
import type { Fetcher } from './http.js';
import { discoverMirrors } from './mirrors.js';
import { DEFAULT_KEYRING } from './signature.js';

/** Everything that decides which archive is read; each field may come from a flag, jeos.yaml or the environment. */
export interface ArchiveSettings {
  debian?: Partial<Config['debian']>;
  /** Override the config's suites (a bare release name expands, see expandSuites). */
  suites?: string[];
  architecture?: string;
  mirror?: string;
  securityMirror?: string;
  keyring?: string;
  cacheDir?: string;
  offline?: boolean;
  env?: NodeJS.ProcessEnv;
  aptEtc?: string;
  fetcher?: Fetcher;
  now?: () => Date;
  onEvent?: (event: ArchiveEvent) => void;
}

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

/** Discover mirrors, then load and verify the archive index. The one entry point the CLI uses. */
export async function openArchive(settings: ArchiveSettings = {}): Promise<ArchiveIndex> {
  const env = settings.env ?? process.env;
  const debian = settings.debian ?? {};
  const mirrors = await discoverMirrors({
    env: {
      ...env,
      ...(settings.mirror ? { JEOS_MIRROR: settings.mirror } : {}),
      ...(settings.securityMirror ? { JEOS_SECURITY_MIRROR: settings.securityMirror } : {}),
    },
    config: { mirror: debian.mirror, securityMirror: debian.securityMirror },
    aptEtc: settings.aptEtc,
  });
  return loadArchive({
    mirrors,
    suites: settings.suites?.length ? expandSuites(settings.suites) : (debian.suites ?? DEFAULT_SUITES),
    components: debian.components ?? ['main'],
    architecture: settings.architecture ?? debian.architecture ?? 'amd64',
    keyring: settings.keyring ?? env.JEOS_KEYRING ?? debian.keyring ?? DEFAULT_KEYRING,
    cacheDir: settings.cacheDir ?? defaultCacheDir(env),
    offline: settings.offline,
    fetcher: settings.fetcher,
    now: settings.now,
    onEvent: settings.onEvent,
  });
}
