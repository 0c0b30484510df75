/**
 * Debian changelogs out of a .deb: usr/share/doc/PKG/changelog.Debian.gz (changelog.gz for a
 * native package) from the data member, read with the unpack stage's reader, so the entries
 * are there even where an image trimmed its documentation away. An entry is a stanza of
 * `PKG (VERSION) DIST; urgency=…` up to its ` -- Maintainer  date` line.
 */
import { gunzipSync } from 'node:zlib';
import { compareVersions } from '../../archive/version.js';
import { readDeb } from '../../unpack/index.js';

export interface ChangelogEntry {
  version: string;
  distribution: string;
  urgency?: string;
  /** The entry's text, header to trailer. */
  text: string;
  cves: string[];
}

const HEADER = /^(\S+) \(([^)\s]+)\) ([^;]+);(.*)$/;
const CVE = /CVE-\d{4}-\d{4,}/g;

export function cvesIn(text: string): string[] {
  return [...new Set(text.match(CVE) ?? [])].sort();
}

export function parseChangelog(text: string): ChangelogEntry[] {
  const entries: ChangelogEntry[] = [];
  let current: { version: string; distribution: string; urgency?: string; lines: string[] } | undefined;
  const close = () => {
    if (!current) return;
    const body = current.lines.join('\n').trimEnd();
    entries.push({ version: current.version, distribution: current.distribution.trim(), ...(current.urgency ? { urgency: current.urgency } : {}), text: body, cves: cvesIn(body) });
    current = undefined;
  };
  for (const line of text.split('\n')) {
    const m = HEADER.exec(line);
    if (m) {
      close();
      const urgency = /urgency=(\w+)/.exec(m[4]!)?.[1];
      current = { version: m[2]!, distribution: m[3]!, ...(urgency ? { urgency } : {}), lines: [line] };
    } else if (current) {
      current.lines.push(line);
      if (line.startsWith(' -- ')) close();
    }
  }
  close();
  return entries;
}

/** The entries after `from` up to and including `to`: what an upgrade from `from` to `to` brings. */
export function entriesBetween(entries: ChangelogEntry[], from: string, to: string): ChangelogEntry[] {
  return entries.filter((e) => compareVersions(e.version, from) > 0 && compareVersions(e.version, to) <= 0);
}

/** The package's changelog from its .deb, or undefined when it ships none (a doc directory linked to another package's). */
export async function changelogOfDeb(bytes: Buffer, pkg: string, label: string): Promise<string | undefined> {
  const deb = await readDeb(bytes, label);
  for (const name of [`usr/share/doc/${pkg}/changelog.Debian.gz`, `usr/share/doc/${pkg}/changelog.gz`]) {
    const entry = deb.entries.find((e) => e.type === 'file' && e.path.replace(/^\.?\//, '') === name);
    if (entry) return gunzipSync(entry.data).toString('utf8');
  }
  return undefined;
}
