/**
 * release.json: a channel's signed statement about one version. SHA256SUMS says which files
 * belong together, but carries no expiry and no order; release.json adds both (Valid-Until
 * against freeze attacks, the version against downgrades) and what changed since the version
 * before it in the same channel. Written with one key a line, so a shell in the image can read
 * `"version"` and `"validUntil"` with sed (docs/channels.md).
 */
import { JeosError } from '../../errors.js';
import type { LockChanges } from '../../lock/changes.js';

export const RELEASE_VERSION = 1;
export const DEFAULT_VALID_DAYS = 30;

export interface ReleaseFile {
  name: string;
  size: number;
  sha256: string;
}

export interface Release {
  releaseVersion: typeof RELEASE_VERSION;
  /** The image's name (build.json's `name`). */
  name: string;
  version: string;
  architecture: string;
  /** SHA-256 of the jeos.lock the version was built from (its bytes are the `.lock` payload). */
  lockDigest: string;
  /** When this channel published (or promoted, or re-signed) it, ISO 8601. */
  published: string;
  /** After this time a client refuses the release, ISO 8601. */
  validUntil: string;
  /** The version before it in this channel, null for the first. */
  previous: string | null;
  /** The packages against `previous`'s lock (every package of the image and its VM). */
  changes: LockChanges;
  /** The payload files, with their sizes and SHA-256. */
  files: ReleaseFile[];
}

export function releaseText(r: Release): string {
  // One key a line at the top level; the nested values on one line each.
  const keys = Object.keys(r) as Array<keyof Release>;
  return `{\n${keys.map((k) => `  ${JSON.stringify(k)}: ${JSON.stringify(r[k])}`).join(',\n')}\n}\n`;
}

export function parseRelease(text: string, path: string): Release {
  let data: Release;
  try {
    data = JSON.parse(text) as Release;
  } catch (e) {
    throw new JeosError('E_CHANNEL_RELEASE_CORRUPT', `${path} is not valid JSON`, { hint: 'the channel was changed by hand: publish from a good copy', cause: e });
  }
  if (data?.releaseVersion !== RELEASE_VERSION || typeof data.version !== 'string' || typeof data.validUntil !== 'string') {
    throw new JeosError('E_CHANNEL_RELEASE_CORRUPT', `${path} is not a release.json this jeos reads (releaseVersion ${JSON.stringify(data?.releaseVersion)})`, {
      hint: 'publish it again with this jeos',
    });
  }
  return data;
}

export function validUntil(now: Date, days: number): string {
  return new Date(now.getTime() + days * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Refuse a release whose Valid-Until has passed. */
export function checkFresh(r: Release, now: Date, where: string): void {
  if (!(Date.parse(r.validUntil) > now.getTime())) {
    throw new JeosError('E_CHANNEL_RELEASE_EXPIRED', `${where}: release ${r.version} was valid until ${r.validUntil}`, {
      hint: 're-sign the channel (jeos publish --resign --channel DIR --key KEYDIR) to give its releases a new Valid-Until',
    });
  }
}
