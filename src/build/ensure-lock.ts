import type { LoadedConfig } from '../config/index.js';
import { JeosError } from '../errors.js';
import { openArchive } from '../archive/open.js';
import { lockChanges } from '../lock/changes.js';
import { createLock, lockStatus, readLock, writeLock } from '../lock/lock.js';
import { resolveLock } from '../lock/request.js';
import { LOCK_FILE, type Lock } from '../lock/types.js';
import type { Settings } from '../settings/index.js';
import type { BuildEvent } from './types.js';

/** The build's lock step: jeos.lock when it is current, else a new one (unless frozen). */
export async function ensureLock(loaded: LoadedConfig, settings: Settings, frozen: boolean, emit: (e: BuildEvent) => void): Promise<Lock> {
  const status = await lockStatus(loaded);
  let reason: string;
  if (status.state === 'fresh' && status.lock.architecture !== settings.architecture) {
    reason = `${LOCK_FILE} is for ${status.lock.architecture}, and this build is for ${settings.architecture} (${settings.origins.architecture === 'flag' ? '--arch' : 'debian.architecture'})`;
  } else if (status.state === 'fresh') {
    emit({ kind: 'lock', state: 'fresh' });
    return status.lock;
  } else {
    reason = status.state === 'missing' ? `${LOCK_FILE} does not exist` : status.reason;
  }
  if (frozen) {
    throw new JeosError('E_BUILD_LOCK_STALE', reason, { hint: 'run `jeos lock` and commit jeos.lock, or build without --frozen' });
  }
  // The lock this one replaces, for the changes the build prints (a damaged one has none to show).
  const previous = await readLock(loaded.dir).catch(() => undefined);
  const index = await openArchive(settings);
  await writeLock(loaded.dir, createLock(loaded, index, resolveLock(index, loaded.config)));
  const lock = await readLock(loaded.dir);
  if (!lock) throw new JeosError('E_BUILD_LOCK', `${LOCK_FILE} could not be read back after writing it`, { hint: 'something else changed or removed it meanwhile: build again' });
  emit({ kind: 'lock', state: 'written', reason, ...(previous ? { changes: lockChanges(previous, lock) } : {}) });
  return lock;
}
