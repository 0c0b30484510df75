export { build, buildFormats, type BuildResult } from './build.js';
export { sourceDateEpoch } from './epoch.js';
export { imageSpecOf } from './image-spec.js';
export * from './types.js';
