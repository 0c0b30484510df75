export { configureImage } from './configure.js';
export type { ConfigureOptions, ConfigureReport, EffectReport, ScriptReport } from './types.js';
