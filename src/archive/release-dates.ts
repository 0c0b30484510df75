/**
 * The newest Release `Date:` seen per suite identity, so that a mirror cannot roll the
 * archive back: an older InRelease, however validly signed, would hide the security
 * updates published since (a replay within Valid-Until, or a suite without one).
 *
 * A suite's identity is its Release's Origin, Suite and Codename and the key that signed
 * it (one identity per verifying signature: Debian signs with several keys, and a replay
 * signed by any of them is caught). The mirror is not part of it: switching to a stale
 * mirror is a rollback too. The dates live in the cache directory, next to the InRelease
 * files they guard, in one JSON file written atomically; a cleared cache forgets them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Release } from './release.js';

export const RELEASE_DATES_FILE = 'release-dates.json';
const VERSION = 1;

/** The newest Release seen for one suite identity, and the mirror that served it. */
export interface SeenRelease {
  origin: string;
  suite: string;
  codename: string;
  /** Primary key fingerprint of a key that signed it. */
  signer: string;
  /** ISO 8601. */
  date: string;
  mirror: string;
}

type Identity = Pick<SeenRelease, 'origin' | 'suite' | 'codename' | 'signer'>;

const keyOf = (id: Identity) => JSON.stringify([id.origin, id.suite, id.codename, id.signer]);

function identities(release: Release, signers: string[]): Identity[] {
  return signers.map((signer) => ({ origin: release.origin ?? '', suite: release.suite ?? '', codename: release.codename ?? '', signer }));
}

function isSeen(v: unknown): v is SeenRelease {
  const r = v as Record<string, unknown>;
  return (
    !!r &&
    typeof r === 'object' &&
    ['origin', 'suite', 'codename', 'signer', 'date', 'mirror'].every((k) => typeof r[k] === 'string') &&
    !Number.isNaN(Date.parse(r.date as string))
  );
}

async function readEntries(path: string): Promise<Map<string, SeenRelease>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw damaged(path, (e as Error).message, e);
  }
  let parsed: { version?: unknown; suites?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (e) {
    throw damaged(path, 'it is not JSON', e);
  }
  if (parsed?.version !== VERSION || !Array.isArray(parsed.suites) || !parsed.suites.every(isSeen)) {
    throw damaged(path, `it is not version ${VERSION} of this file`);
  }
  return new Map((parsed.suites as SeenRelease[]).map((s) => [keyOf(s), s]));
}

/** Refusing is safer than forgetting: a damaged file would otherwise let any rollback through. */
function damaged(path: string, why: string, cause?: unknown): JeosError {
  return new JeosError('E_RELEASE_DATES_DAMAGED', `cannot read the newest Release dates jeos has seen, ${path}: ${why}`, {
    hint: `delete ${path} to start over (jeos then accepts whatever Release each mirror serves next, and remembers it)`,
    cause,
  });
}

const newer = (a: SeenRelease, b: SeenRelease | undefined) => !b || Date.parse(a.date) > Date.parse(b.date);

export class ReleaseDates {
  private readonly updates = new Map<string, SeenRelease>();

  private constructor(
    readonly path: string,
    private readonly entries: Map<string, SeenRelease>,
  ) {}

  static async load(cacheDir: string): Promise<ReleaseDates> {
    const path = join(cacheDir, RELEASE_DATES_FILE);
    return new ReleaseDates(path, await readEntries(path));
  }

  /** The newest Release seen for any identity of this one (one per signer), if any. */
  newest(release: Release, signers: string[]): SeenRelease | undefined {
    let best: SeenRelease | undefined;
    for (const id of identities(release, signers)) {
      const seen = this.entries.get(keyOf(id));
      if (seen && newer(seen, best)) best = seen;
    }
    return best;
  }

  /** Remember this Release's date for each of its identities where it is newer; written by save(). */
  record(release: Release, signers: string[], mirror: string): void {
    if (!release.date) return;
    for (const id of identities(release, signers)) {
      const entry: SeenRelease = { ...id, date: release.date.toISOString(), mirror };
      const key = keyOf(id);
      if (!newer(entry, this.entries.get(key))) continue;
      this.entries.set(key, entry);
      this.updates.set(key, entry);
    }
  }

  /**
   * Write what record() added, if anything. The file is read again first and the newer date
   * of each identity kept, so two commands finishing together lose nothing but a race of
   * microseconds between that read and the rename.
   */
  async save(): Promise<void> {
    if (this.updates.size === 0) return;
    const current = await readEntries(this.path).catch(() => new Map<string, SeenRelease>());
    for (const [key, entry] of this.updates) if (newer(entry, current.get(key))) current.set(key, entry);
    const suites = [...current.values()].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    await writeFileAtomic(this.path, JSON.stringify({ version: VERSION, suites }, null, 2) + '\n', { durable: false });
    this.updates.clear();
  }
}
