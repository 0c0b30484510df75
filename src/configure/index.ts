export { configureImage } from './configure.js';
export type { ConfigureOptions, ConfigureReport, EffectReport, FirstStartStep, ScriptReport } from './types.js';
export { findUnit, parseInstall, SYSTEM as SYSTEM_UNITS, type Install } from './effects/systemd-units.js';
export { buildLdCache, ldconfigGenerator, tripletOf } from './effects/ld-so.js';
export { packageId } from './scripts.js';
export { ensureTmp, TMP } from './tmp-dir.js';
export { applyImageTmpfiles, type ImageTmpfilesRecord } from './tmpfiles/image.js';
export { SNAKEOIL_STEP } from './maintscripts/secrets.js';
