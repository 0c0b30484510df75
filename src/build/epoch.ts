import type { Lock } from '../lock/types.js';

/**
 * The build's timestamp: SOURCE_DATE_EPOCH when set (the reproducible-builds
 * convention, read by src/settings), else the newest Release date the lock was made
 * from, so the same lock always gives the same bytes.
 */
export function sourceDateEpoch(lock: Lock, fromEnvironment?: number): number {
  if (fromEnvironment !== undefined) return fromEnvironment;
  let newest = 0;
  for (const suite of lock.suites) {
    const t = suite.date ? Date.parse(suite.date) : NaN;
    if (Number.isFinite(t)) newest = Math.max(newest, Math.floor(t / 1000));
  }
  return newest;
}
