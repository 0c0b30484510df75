import { JeosError } from '../errors.js';
import { field, parseDeb822 } from './deb822.js';

/** One index file listed in a signed Release, with its SHA256 and size. */
export interface ReleaseFile {
  path: string;
  sha256: string;
  size: number;
}

/** The parts of a (verified) Release file that jeos uses. */
export interface Release {
  origin?: string;
  label?: string;
  suite?: string;
  codename?: string;
  version?: string;
  date?: Date;
  validUntil?: Date;
  architectures: string[];
  components: string[];
  acquireByHash: boolean;
  files: Map<string, ReleaseFile>;
}

/** Parse an RFC 2822 date as Debian writes it ("Sat, 09 Aug 2025 09:01:51 UTC"). */
export function parseReleaseDate(value: string): Date | undefined {
  const d = new Date(value.replace(/\bUTC\b/, 'GMT'));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function parseRelease(text: string): Release {
  const stanza = parseDeb822(text)[0];
  if (!stanza) throw new JeosError('E_RELEASE_MALFORMED', 'the Release file is empty', { hint: 'the mirror served an empty or broken Release file' });
  const files = new Map<string, ReleaseFile>();
  for (const line of (field(stanza, 'SHA256') ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const [sha256, size, path] = parts as [string, string, string];
    if (!/^[0-9a-f]{64}$/.test(sha256)) continue;
    files.set(path, { path, sha256, size: Number(size) });
  }
  const date = field(stanza, 'Date');
  const validUntil = field(stanza, 'Valid-Until');
  const words = (v: string | undefined) => (v ? v.split(/\s+/).filter(Boolean) : []);
  return {
    origin: field(stanza, 'Origin'),
    label: field(stanza, 'Label'),
    suite: field(stanza, 'Suite'),
    codename: field(stanza, 'Codename'),
    version: field(stanza, 'Version'),
    date: date ? parseReleaseDate(date) : undefined,
    validUntil: validUntil ? parseReleaseDate(validUntil) : undefined,
    architectures: words(field(stanza, 'Architectures')),
    components: words(field(stanza, 'Components')),
    acquireByHash: (field(stanza, 'Acquire-By-Hash') ?? '').toLowerCase() === 'yes',
    files,
  };
}

/**
 * Refuse a Release that is not the suite we asked for, or whose Valid-Until has
 * passed (replayed old metadata would hide security updates).
 */
export function checkRelease(release: Release, wanted: string, now: Date, where: string): void {
  const names = [release.suite, release.codename].filter((n): n is string => !!n);
  if (!names.includes(wanted)) {
    throw new JeosError(
      'E_SUITE_MISMATCH',
      `${where} describes suite ${names.join('/') || '(none)'}, not ${wanted}`,
      { hint: 'the mirror may be serving the wrong distribution, or a redirect points elsewhere; check the mirror URL' },
    );
  }
  if (release.validUntil && release.validUntil.getTime() < now.getTime()) {
    throw new JeosError(
      'E_RELEASE_EXPIRED',
      `${where} expired on ${release.validUntil.toISOString()} (Valid-Until)`,
      { hint: 'the mirror serves outdated metadata; use an up-to-date mirror (JEOS_MIRROR / JEOS_SECURITY_MIRROR) or refresh it' },
    );
  }
}
