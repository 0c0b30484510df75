import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import { parseDeb822, field } from './deb822.js';

/** Where the Debian archive and the security archive are fetched from. */
export interface Mirrors {
  archive: string;
  security: string;
  /** Where each URL came from, for messages. */
  from: { archive: MirrorOrigin; security: MirrorOrigin };
}
export type MirrorOrigin = 'environment' | 'config' | 'apt' | 'derived';

/** One `deb` source line/stanza from apt's configuration. */
export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  file: string;
}

// Debian's release names and aliases. A source whose suite is not one of these
// (a vendor repository, say) is not taken for the Debian archive.
const DEBIAN_SUITES = new Set([
  'buzz', 'rex', 'bo', 'hamm', 'slink', 'potato', 'woody', 'sarge', 'etch', 'lenny', 'squeeze', 'wheezy',
  'jessie', 'stretch', 'buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid',
  'oldoldstable', 'oldstable', 'stable', 'testing', 'unstable', 'experimental', 'rc-buggy',
]);

function suiteBase(suite: string): string {
  return suite.replace(/\/updates$/, '').replace(/-(security|updates|backports|backports-sloppy|proposed-updates)$/, '');
}

export function isDebianSuite(suite: string): boolean {
  return DEBIAN_SUITES.has(suiteBase(suite));
}

export function isSecuritySuite(suite: string): boolean {
  return suite.endsWith('-security') || suite.endsWith('/updates');
}

function withSlash(uri: string): string {
  return uri.endsWith('/') ? uri : uri + '/';
}

/** Parse a one-line-style sources.list. */
export function parseSourcesList(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const withoutOptions = line.replace(/\[[^\]]*\]/, ' ');
    const [type, uri, suite, ...components] = withoutOptions.split(/\s+/).filter(Boolean);
    if (type !== 'deb' || !uri || !suite) continue;
    out.push({ uri: withSlash(uri), suites: [suite], components, file });
  }
  return out;
}

/** Parse a deb822-style .sources file. */
export function parseSourcesDeb822(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of parseDeb822(text)) {
    const types = (field(stanza, 'Types') ?? '').split(/\s+/);
    if (!types.includes('deb')) continue;
    if ((field(stanza, 'Enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const suites = (field(stanza, 'Suites') ?? '').split(/\s+/).filter(Boolean);
    const components = (field(stanza, 'Components') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of (field(stanza, 'URIs') ?? '').split(/\s+/).filter(Boolean)) {
      out.push({ uri: withSlash(uri), suites, components, file });
    }
  }
  return out;
}

/** Read every source apt itself would read (sources.list and sources.list.d/*.list|*.sources). */
export async function readAptSources(aptEtc = '/etc/apt'): Promise<AptSource[]> {
  const sources: AptSource[] = [];
  const main = join(aptEtc, 'sources.list');
  const text = await readFile(main, 'utf8').catch(() => undefined);
  if (text !== undefined) sources.push(...parseSourcesList(text, main));
  const dir = join(aptEtc, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const path = join(dir, name);
    if (name.endsWith('.list')) sources.push(...parseSourcesList(await readFile(path, 'utf8'), path));
    else if (name.endsWith('.sources')) sources.push(...parseSourcesDeb822(await readFile(path, 'utf8'), path));
  }
  return sources;
}

export interface MirrorSettings {
  env?: NodeJS.ProcessEnv;
  config?: { mirror?: string; securityMirror?: string };
  aptEtc?: string;
}

/**
 * Decide the mirrors: JEOS_MIRROR / JEOS_SECURITY_MIRROR win, then jeos.yaml,
 * then the machine's apt configuration. No host name is built in.
 */
export async function discoverMirrors(settings: MirrorSettings = {}): Promise<Mirrors> {
  const env = settings.env ?? process.env;
  let archive: string | undefined;
  let security: string | undefined;
  const from: Partial<Mirrors['from']> = {};
  if (env.JEOS_MIRROR) [archive, from.archive] = [env.JEOS_MIRROR, 'environment'];
  if (env.JEOS_SECURITY_MIRROR) [security, from.security] = [env.JEOS_SECURITY_MIRROR, 'environment'];
  if (!archive && settings.config?.mirror) [archive, from.archive] = [settings.config.mirror, 'config'];
  if (!security && settings.config?.securityMirror) [security, from.security] = [settings.config.securityMirror, 'config'];
  if (!archive || !security) {
    const sources = (await readAptSources(settings.aptEtc)).filter((s) => s.suites.some(isDebianSuite));
    const aptArchive = sources.find((s) => s.suites.some((x) => isDebianSuite(x) && !isSecuritySuite(x)));
    const aptSecurity = sources.find((s) => s.suites.some((x) => isDebianSuite(x) && isSecuritySuite(x)));
    if (!archive && aptArchive) [archive, from.archive] = [aptArchive.uri, 'apt'];
    if (!security && aptSecurity) [security, from.security] = [aptSecurity.uri, 'apt'];
  }
  if (!archive) {
    throw new JeosError('E_NO_MIRROR', 'no Debian mirror is configured', {
      hint: 'set JEOS_MIRROR to a Debian archive URL, set debian.mirror in jeos.yaml, or add a Debian source to /etc/apt/sources.list.d/',
    });
  }
  if (!security) [security, from.security] = [archive, 'derived'];
  for (const url of [archive, security]) {
    if (!/^(https?|file):\/\//.test(url)) {
      throw new JeosError('E_MIRROR_URL', `mirror ${url} is not an http(s):// or file:// URL`, {
        hint: 'mirror URLs look like http://HOST/debian/',
      });
    }
  }
  return { archive: withSlash(archive), security: withSlash(security), from: from as Mirrors['from'] };
}

/** The mirror serving a suite: the security archive for *-security suites. */
export function mirrorFor(mirrors: Mirrors, suite: string): string {
  return isSecuritySuite(suite) ? mirrors.security : mirrors.archive;
}
