/**
 * jeos as a library: the same functions the CLI calls.
 */
export { JeosError, isJeosError, step } from './errors.js';
export * from './config/index.js';
export * from './archive/index.js';
export * from './resolve/index.js';
export * from './lock/index.js';
