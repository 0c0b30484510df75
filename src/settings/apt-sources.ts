import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { field, parseDeb822 } from '../archive/deb822.js';
import { isSecuritySuite } from '../archive/mirrors.js';

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

export function withSlash(uri: string): string {
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

/** The first Debian archive and security archive apt's sources name (vendor repositories are not taken). */
export async function aptMirrors(aptEtc?: string): Promise<{ archive?: string; security?: string }> {
  const sources = (await readAptSources(aptEtc)).filter((s) => s.suites.some(isDebianSuite));
  const archive = sources.find((s) => s.suites.some((x) => isDebianSuite(x) && !isSecuritySuite(x)));
  const security = sources.find((s) => s.suites.some((x) => isDebianSuite(x) && isSecuritySuite(x)));
  return { archive: archive?.uri, security: security?.uri };
}
