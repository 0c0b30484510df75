export { createLock, serializeLock, parseLock, writeLock, readLock, lockStatus, lockAsResolution, type LockStatus } from './lock.js';
export { LOCK_FILE, LOCK_VERSION, type Lock, type LockedPackage, type LockedSuite } from './types.js';
export { lockRequest, lockKernel } from './request.js';
export { lockChanges, allLocked, hasChanges, type LockChanges, type PackageChange } from './changes.js';
