/**
 * Debian version numbers, ordered exactly as `dpkg --compare-versions` orders them
 * (Debian Policy §5.6.12): `[epoch:]upstream[-revision]`.
 *
 * compareVersions is on the solver's hot path, so it never builds substrings: it finds
 * the epoch/upstream/revision boundaries as indices into the original string and walks
 * those ranges directly. parseVersion is the allocating, fully checking variant.
 */
import { JeosError } from '../errors.js';

export interface DebianVersion {
  /** 0 when the version has no `N:` prefix. */
  epoch: number;
  upstream: string;
  /** Everything after the last `-`; "" when there is none (dpkg compares "" like any revision). */
  revision: string;
}

/** `<` and `>` are the obsolete spellings dpkg still accepts; they mean `<=` and `>=`. */
export type VersionRelation = '<<' | '<=' | '=' | '>=' | '>>' | '<' | '>';

const EPOCH_MAX = 0x7fffffff; // dpkg stores the epoch in an int and refuses anything larger

// Boundaries of the last two versions split by `spans`, one slot per operand:
// [epoch, upstreamStart, upstreamEnd, revisionStart, revisionEnd]. Reused so that a
// comparison allocates nothing.
const S = new Int32Array(10);

function bad(v: string, why: string): JeosError {
  return new JeosError('E_VERSION_SYNTAX', `version '${v}' has bad syntax: ${why}`, { hint: 'Debian versions look like [epoch:]upstream[-revision], e.g. 1.26.3-3+deb13u1' });
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Split `v` into slot `slot` of S. Throws on the syntax errors that make dpkg refuse a
 * version outright (empty parts, non-numeric or oversized epoch); like dpkg, surrounding
 * whitespace is ignored. The softer problems dpkg only warns about are left to
 * isValidVersion.
 */
function spans(v: string, slot: number): void {
  let start = 0;
  let end = v.length;
  while (start < end && isSpace(v.charCodeAt(start))) start++;
  while (end > start && isSpace(v.charCodeAt(end - 1))) end--;
  if (start === end) throw bad(v, 'version string is empty');

  let epoch = 0;
  let upStart = start;
  // The FIRST colon ends the epoch, so "1.0-1:2" is an error (epoch "1.0-1"), not upstream "1.0-1:2".
  const colon = v.indexOf(':', start);
  if (colon >= 0 && colon < end) {
    if (colon === start) throw bad(v, 'epoch in version is empty');
    for (let i = start; i < colon; i++) {
      const c = v.charCodeAt(i);
      if (!isDigit(c)) throw bad(v, 'epoch in version is not number');
      epoch = epoch * 10 + (c - 48);
      if (epoch > EPOCH_MAX) throw bad(v, 'epoch in version is too big');
    }
    upStart = colon + 1;
    if (upStart === end) throw bad(v, 'nothing after colon in version number');
  }

  // The LAST hyphen starts the revision: upstream may itself contain hyphens.
  let upEnd = end;
  let revStart = end;
  const hyphen = v.lastIndexOf('-', end - 1);
  if (hyphen >= upStart) {
    upEnd = hyphen;
    revStart = hyphen + 1;
    if (revStart === end) throw bad(v, 'revision number is empty');
  }
  if (upEnd === upStart) throw bad(v, 'version number is empty');

  const o = slot * 5;
  S[o] = epoch;
  S[o + 1] = upStart;
  S[o + 2] = upEnd;
  S[o + 3] = revStart;
  S[o + 4] = end;
}

/**
 * Sort weight of one non-digit position; 0 stands for "end of string" and for a digit
 * (both end the non-digit run). `~` sorts before the end, so 1.0~rc1 << 1.0; letters sort
 * before every other character, so 1.0a << 1.0+.
 */
function order(c: number): number {
  if (c === 0 || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126) return -1; // '~'
  return c + 256;
}

/**
 * dpkg's verrevcmp over a[ai, ae) and b[bi, be): alternate runs of non-digits (compared
 * position by position with `order`) and runs of digits (compared numerically without
 * converting them, so arbitrarily long runs cannot overflow).
 */
function verrevcmp(a: string, ai: number, ae: number, b: string, bi: number, be: number): number {
  while (ai < ae || bi < be) {
    for (;;) {
      const ca = ai < ae ? a.charCodeAt(ai) : 0;
      const cb = bi < be ? b.charCodeAt(bi) : 0;
      if ((ca === 0 || isDigit(ca)) && (cb === 0 || isDigit(cb))) break;
      const oa = order(ca);
      const ob = order(cb);
      if (oa !== ob) return oa - ob;
      ai++;
      bi++;
    }
    while (ai < ae && a.charCodeAt(ai) === 48) ai++;
    while (bi < be && b.charCodeAt(bi) === 48) bi++;
    // Equal-length digit runs are ordered by their first differing digit; a longer run
    // (after dropping leading zeros) is the larger number.
    let firstDiff = 0;
    while (ai < ae && bi < be) {
      const ca = a.charCodeAt(ai);
      const cb = b.charCodeAt(bi);
      if (!isDigit(ca) || !isDigit(cb)) break;
      if (firstDiff === 0) firstDiff = ca - cb;
      ai++;
      bi++;
    }
    if (ai < ae && isDigit(a.charCodeAt(ai))) return 1;
    if (bi < be && isDigit(b.charCodeAt(bi))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/**
 * Negative, zero or positive as `a` sorts before, equal to or after `b`, exactly like
 * `dpkg --compare-versions`. Different spellings can be equal: "1.0" = "1.00" = "0:1.0" =
 * "1.0-0", because digit runs compare as numbers (leading zeros are ignored, an empty run
 * counts as 0) and a missing revision is compared as "". Yet "1.0" << "1.0.0": the extra
 * "." is a non-digit and outranks the end of the string.
 * Throws a JeosError for versions dpkg refuses (see `spans`); it does not look for the
 * characters dpkg merely warns about — use isValidVersion when ingesting data.
 */
export function compareVersions(a: string, b: string): number {
  spans(a, 0);
  spans(b, 1);
  if (a === b) return 0;
  const ea = S[0]!;
  const eb = S[5]!;
  if (ea !== eb) return ea < eb ? -1 : 1;
  const r = verrevcmp(a, S[1]!, S[2]!, b, S[6]!, S[7]!);
  if (r !== 0) return r;
  return verrevcmp(a, S[3]!, S[4]!, b, S[8]!, S[9]!);
}

/** Split a version into its parts; throws a JeosError where dpkg would refuse it. */
export function parseVersion(v: string): DebianVersion {
  spans(v, 0);
  const upStart = S[1]!;
  const end = S[4]!;
  for (let i = upStart; i < end; i++) {
    if (isSpace(v.charCodeAt(i))) throw bad(v, 'version string has embedded spaces');
  }
  const revStart = S[3]!;
  return {
    epoch: S[0]!,
    upstream: v.slice(upStart, S[2]!),
    revision: v.slice(revStart, end),
  };
}

/**
 * True when dpkg would accept `v` without error or warning and it has no surrounding
 * whitespace: optional numeric epoch; upstream starts with a digit and uses only
 * [A-Za-z0-9.+~-:] (`-` only with a revision, `:` only with an epoch, both of which fall
 * out of the splitting rules); revision uses only [A-Za-z0-9.+~].
 */
export function isValidVersion(v: string): boolean {
  if (v.length === 0 || isSpace(v.charCodeAt(0)) || isSpace(v.charCodeAt(v.length - 1))) return false;
  try {
    spans(v, 0);
  } catch {
    return false;
  }
  const upStart = S[1]!;
  const upEnd = S[2]!;
  const revStart = S[3]!;
  const end = S[4]!;
  if (!isDigit(v.charCodeAt(upStart))) return false;
  for (let i = upStart; i < upEnd; i++) {
    const c = v.charCodeAt(i);
    // '.', '+', '-', ':', '~'
    if (!(isDigit(c) || isAlpha(c) || c === 46 || c === 43 || c === 45 || c === 58 || c === 126)) return false;
  }
  for (let i = revStart; i < end; i++) {
    const c = v.charCodeAt(i);
    if (!(isDigit(c) || isAlpha(c) || c === 46 || c === 43 || c === 126)) return false;
  }
  return true;
}

/** Whether `version` satisfies `op ref`, as in a Depends field: `version op ref`. */
export function satisfiesRelation(version: string, op: VersionRelation, ref: string): boolean {
  const c = compareVersions(version, ref);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
    case '<':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
    case '>':
      return c >= 0;
    case '>>':
      return c > 0;
    default:
      throw new JeosError('E_VERSION_RELATION', `unknown version relation '${String(op)}'`, {
        hint: 'use one of << <= = >= >>',
      });
  }
}
