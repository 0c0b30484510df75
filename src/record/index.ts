export * from './types.js';
export { manifestOf, manifestText, type ManifestInputs } from './manifest.js';
export { readRecord, readManifest, readTrimExplanations } from './read.js';
export { treeStats } from './tree-stats.js';
