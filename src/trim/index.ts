export { trimImage, type TrimResult } from './trim.js';
export { TRIM_RULES, ALWAYS_DROPPED, ALWAYS_KEPT, KEPT_AREAS, type TrimRule } from './rules.js';
export { DROPPED_DIR } from './provenance.js';
export type { KeepReason, MissingFile, TrimExplanation, TrimOptions, TrimRecord, TrimRoot, TrimSettings } from './types.js';
export { explainPath, describeReason, type PathExplanation } from './explain.js';
export { trimSuspects, describeSuspects, type TrimSuspect } from './diagnose.js';
export { DEFAULT_PATH, findCommand, programsRunBy, type ProgramRun } from './scripts.js';
export { findLocale, LOCALE_CONF, SYSTEMD_DEFAULT_LOCALE, systemLocales } from './locales.js';
