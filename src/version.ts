import { readFileSync } from 'node:fs';

/**
 * jeos's version, from its package.json: one directory up from the single-file CLI
 * (dist/jeos.mjs), two from the compiled modules (dist/cli/main.js, dist/build/…).
 */
function readVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'jeos' && pkg.version) return pkg.version;
    } catch {
      // not here; try the next place
    }
  }
  return '0.0.0-unknown';
}

export const VERSION = readVersion();
