export { build, buildFormats, type BuildResult } from './build.js';
export { sourceDateEpoch } from './epoch.js';
export { imageSpecOf } from './image-spec.js';
export { hostnameOf } from './variants/vm.js';
export { VARIANT_OF } from './record.js';
export type { BuildContext, Step, Variant, VariantState } from './variant.js';
export * from './types.js';
