/**
 * How far a package's members may expand. The image tree lives in memory, so a member
 * is held whole once it is decompressed: a package whose data.tar expands to gigabytes
 * (a few hundred KiB of xz can hold 3 GiB of zeros) must be refused while it streams,
 * before it is held. The figures behind the limits are in docs/build.md (Unpack).
 */
import { JeosError } from '../errors.js';
import type { MemberRef } from '../util/run-filter.js';

const MiB = 2 ** 20;

/** control.tar holds the control file, md5sums, conffiles and scripts: a few MiB at most in the whole archive. */
export const CONTROL_MAX_BYTES = 64 * MiB;
/** The default ceiling for any data.tar, decompressed (`unpack.maxPackageMiB`). */
export const DEFAULT_MAX_PACKAGE_MIB = 512;
/** Installed-Size is approximate (KiB per file, rounded up; tar adds a header per entry): twice it plus this margin. */
export const INSTALLED_SIZE_FACTOR = 2;
export const INSTALLED_SIZE_MARGIN = 16 * MiB;

/** The most one member may expand to, and what set that figure (for the message). */
export interface MemberLimit {
  bytes: number;
  /** What sets this limit, for the message: `the ceiling for a control archive`, `the limit for … Installed-Size: 4 KiB …`. */
  basis: string;
}

export const CONTROL_LIMIT: MemberLimit = { bytes: CONTROL_MAX_BYTES, basis: 'the ceiling for a control archive' };

/** The ceiling for a data member, in bytes, from `unpack.maxPackageMiB`. */
export function ceilingLimit(maxPackageMiB = DEFAULT_MAX_PACKAGE_MIB, declared = 'it declares no Installed-Size'): MemberLimit {
  return { bytes: maxPackageMiB * MiB, basis: `the ceiling for any package (unpack.maxPackageMiB: ${maxPackageMiB}; ${declared})` };
}

/**
 * The limit for a data member: twice the Installed-Size the control file declares plus a
 * margin, never above the ceiling. A package without the field (a few dpkg-cross ones)
 * gets the ceiling.
 */
export function dataLimit(installedSize: string | undefined, maxPackageMiB = DEFAULT_MAX_PACKAGE_MIB): MemberLimit {
  const kib = installedSize !== undefined && /^\d+$/.test(installedSize.trim()) ? Number(installedSize.trim()) : undefined;
  if (kib === undefined || !Number.isSafeInteger(kib)) return ceilingLimit(maxPackageMiB);
  const bytes = kib * 1024 * INSTALLED_SIZE_FACTOR + INSTALLED_SIZE_MARGIN;
  if (bytes >= maxPackageMiB * MiB) return ceilingLimit(maxPackageMiB, `it declares Installed-Size: ${kib} KiB`);
  return { bytes, basis: `the limit for a package that declares Installed-Size: ${kib} KiB (${INSTALLED_SIZE_FACTOR} × that + ${INSTALLED_SIZE_MARGIN / MiB} MiB)` };
}

const size = (bytes: number) => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`);

/** A member that expands (or says in its index it expands) past its limit. */
export function tooLarge(ref: MemberRef, limit: MemberLimit, seen: number, indexed = false): JeosError {
  const what = indexed ? `says in its xz index that it expands to ${size(seen)}, past` : 'expands past';
  return new JeosError('E_DEB_TOO_LARGE', `${ref.label}: member ${ref.member} ${what} ${size(limit.bytes)}, ${limit.basis}`, {
    hint:
      'the package holds far more than it declares (a decompression bomb, or a broken package) and was refused before it was held in memory; ' +
      'a genuine package larger than the ceiling needs unpack.maxPackageMiB raised in jeos.yaml (the image is built in memory)',
  });
}
