import { loadArchive, type ArchiveIndex, type ArchiveOptions } from './client.js';

/**
 * Load and verify the archive index with resolved settings (src/settings): the
 * mirrors, suites, components, architecture, keyring, cache and clock.
 */
export function openArchive(settings: ArchiveOptions): Promise<ArchiveIndex> {
  return loadArchive(settings);
}
