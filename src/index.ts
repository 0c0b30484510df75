/**
 * jeos as a library: the same functions the CLI calls.
 */
export { JeosError, isJeosError, step } from './errors.js';
export * from './config/index.js';
export * from './archive/index.js';
export * from './settings/index.js';
export * from './resolve/index.js';
export * from './lock/index.js';
export * from './tree/index.js';
export * from './fetch/index.js';
export { unpackPackages, readDeb, type UnpackedPackage, type UnpackOptions, type UnpackResult } from './unpack/index.js';
export * from './configure/index.js';
export {
  writeOutputs,
  prepareOutputs,
  lockOutputDir,
  recoverOutputDir,
  tarWriter,
  ociWriter,
  ociArchiveWriter,
  OUTPUT_WRITERS,
  type ImageSpec,
  type OutputContext,
  type OutputFormat,
  type OutputResult,
  type OutputWriter,
  type OutputEvent,
} from './outputs/index.js';
export * from './record/index.js';
export * from './build/index.js';
export * from './check/index.js';
