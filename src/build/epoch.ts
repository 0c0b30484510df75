import { JeosError } from '../errors.js';
import type { Lock } from '../lock/types.js';

/**
 * The build's timestamp: SOURCE_DATE_EPOCH when set (the reproducible-builds
 * convention), else the newest Release date the lock was made from, so the same
 * lock always gives the same bytes.
 */
export function sourceDateEpoch(lock: Lock, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d{1,12}$/.test(fromEnv)) {
      throw new JeosError('E_BUILD_SOURCE_DATE_EPOCH', `SOURCE_DATE_EPOCH=${JSON.stringify(fromEnv)} is not a number of seconds`, {
        hint: 'set it to whole seconds since 1970 (for instance `git log -1 --format=%ct`), or unset it to use the lock\'s dates',
      });
    }
    return Number(fromEnv);
  }
  let newest = 0;
  for (const suite of lock.suites) {
    const t = suite.date ? Date.parse(suite.date) : NaN;
    if (Number.isFinite(t)) newest = Math.max(newest, Math.floor(t / 1000));
  }
  return newest;
}
