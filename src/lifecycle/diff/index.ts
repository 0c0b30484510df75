/** What changed between two versions of an image (`jeos diff`) and what the archive has that a lock lacks (`jeos outdated`). */
export { diffSides, upgradeNotes, type DiffResult, type FetchDebs, type FileChanges, type UpgradeNotes } from './diff.js';
export { readSide, type Side } from './sides.js';
export { outdated, type OutdatedPackage, type OutdatedResult } from './outdated.js';
export { parseChangelog, entriesBetween, cvesIn, changelogOfDeb, type ChangelogEntry } from './changelog.js';
