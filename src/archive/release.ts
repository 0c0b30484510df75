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

/**
 * How far ahead of this machine's clock a Release may be dated. apt allows 10 seconds
 * (Acquire::Max-FutureTime); jeos allows an hour, for build machines and CI runners whose
 * clocks drift, and still refuses what matters: a date far ahead would become the image's
 * timestamp (SOURCE_DATE_EPOCH comes from the lock's newest Release date) and would make
 * every genuine Release after it look like a rollback.
 */
export const MAX_FUTURE_MS = 3600_000;

/** Refuse a Release without a usable Date, or dated beyond MAX_FUTURE_MS ahead of `now`. */
export function checkReleaseDate(release: Release, now: Date, where: string): Date {
  if (!release.date) {
    throw new JeosError('E_RELEASE_MALFORMED', `${where} has no valid Date field`, {
      hint: 'jeos needs the Date of every Release to refuse rolled-back metadata; the archive must write one (Debian\'s always does)',
    });
  }
  const ahead = release.date.getTime() - now.getTime();
  if (ahead > MAX_FUTURE_MS) {
    throw new JeosError(
      'E_RELEASE_FUTURE',
      `${where} is dated ${release.date.toISOString()}, ${describeSpan(ahead)} ahead of this machine's clock (${now.toISOString()})`,
      {
        hint: `jeos accepts a Release dated at most ${describeSpan(MAX_FUTURE_MS)} ahead; either the mirror serves metadata from a broken or hostile archive, or this machine's clock is behind (check it, e.g. timedatectl)`,
      },
    );
  }
  return release.date;
}

/** 90 s → "2 minutes", 3 days → "3 days": for messages, not for arithmetic. */
export function describeSpan(ms: number): string {
  const units: Array<[string, number]> = [['day', 86400_000], ['hour', 3600_000], ['minute', 60_000], ['second', 1000]];
  for (const [name, size] of units) {
    if (ms >= size) {
      const n = Math.round(ms / size);
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${Math.max(0, Math.round(ms))} ms`;
}
