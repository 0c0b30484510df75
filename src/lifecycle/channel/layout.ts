/**
 * The files of a channel directory (docs/channels.md). Payloads are named by version, never
 * change once written and sit in the directory itself; what a publish changes (SHA256SUMS, its
 * signature, the release files) sits in one generation directory `state.<n>/` reached through
 * the symlink `state`, so one rename switches all of it at once. The names a client fetches
 * (`SHA256SUMS`, `jeos-<v>.release.json`) are symlinks through `state`.
 */
import { JeosError } from '../../errors.js';

export const SUMS = 'SHA256SUMS';
export const SUMS_SIG = 'SHA256SUMS.gpg';
export const STATE_LINK = 'state';
export const STATE_PREFIX = 'state.';
export const CHANNEL_LOCK = '.publish.lock';

/** The prefix of every version's files: the boot entry's name on the disk (jeos-<version>+3.conf). */
export const NAME_PREFIX = 'jeos-';

/** A version's files in the channel. */
export function versionFiles(version: string): {
  linux: string;
  initrd: string;
  entry: string;
  lock: string;
  manifest: string;
  release: string;
  releaseSig: string;
} {
  const base = `${NAME_PREFIX}${version}`;
  return {
    linux: `${base}.linux`,
    initrd: `${base}.initrd`,
    entry: `${base}.conf`,
    lock: `${base}.lock`,
    manifest: `${base}.manifest.json`,
    release: `${base}.release.json`,
    releaseSig: `${base}.release.json.gpg`,
  };
}

/** The files of a version that are payloads (immutable, in the directory itself). */
export function payloadNames(version: string): string[] {
  const f = versionFiles(version);
  return [f.linux, f.initrd, f.entry, f.lock, f.manifest];
}

/** The version a payload or release file belongs to, or undefined for any other name. */
export function versionOfFile(name: string): string | undefined {
  const m = /^jeos-([0-9][A-Za-z0-9.~]*)\.(linux|initrd|conf|lock|manifest\.json|release\.json)$/.exec(name);
  return m?.[1];
}

export interface SumsLine {
  sha256: string;
  name: string;
}

/** SHA256SUMS as sha256sum(1) writes it: `<hex>  <name>`, sorted by name. */
export function formatSums(lines: SumsLine[]): string {
  return [...lines]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((l) => `${l.sha256}  ${l.name}\n`)
    .join('');
}

export function parseSums(text: string, path: string): SumsLine[] {
  const lines: SumsLine[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) [ *]([^/\s][^/]*)$/.exec(line);
    if (!m) {
      throw new JeosError('E_CHANNEL_SUMS_CORRUPT', `${path}:${i + 1} is not a SHA256SUMS line`, { hint: 'the channel was changed by hand: publish from a good copy' });
    }
    lines.push({ sha256: m[1]!, name: m[2]! });
  }
  return lines;
}
