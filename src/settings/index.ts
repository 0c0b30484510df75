export { resolveSettings, expandSuites } from './resolve.js';
export { readAptSources, parseSourcesList, parseSourcesDeb822, isDebianSuite, type AptSource } from './apt-sources.js';
export type { Settings, SettingsFlags, SettingsSources, SettingOrigin } from './types.js';
