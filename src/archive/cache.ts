import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { sha256File } from '../util/hash.js';

// Kept here while src/build imports them from this module; the hashes live in src/util/hash.ts.

/**
 * The archive metadata cache. Index files are stored by their SHA256 (the one the
 * signed Release names), so a cached file is trusted only after its hash is
 * checked again; verified InRelease files are kept per mirror and suite.
 * Every write is atomic.
 */
export class ArchiveCache {
  constructor(readonly dir: string) {}

  inReleasePath(mirror: string, suite: string): string {
    const key = mirror.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_').replace(/_+$/, '');
    return join(this.dir, 'dists', key, suite, 'InRelease');
  }

  indexPath(sha: string): string {
    return join(this.dir, 'by-hash', 'sha256', sha);
  }

  parsedPath(sha: string, version: number): string {
    return join(this.dir, 'parsed', `v${version}`, `${sha}.json`);
  }

  /**
   * The path of a cached index if it exists and still matches its hash and size.
   * A damaged file (truncated, edited) is removed so that it is fetched again.
   */
  async verifiedIndex(sha: string, size: number): Promise<string | undefined> {
    const path = this.indexPath(sha);
    const st = await stat(path).catch(() => undefined);
    if (!st) return undefined;
    if (st.size === size && (await sha256File(path)) === sha) return path;
    await rm(path, { force: true });
    return undefined;
  }

  async storeIndex(sha: string, bytes: Uint8Array): Promise<string> {
    const path = this.indexPath(sha);
    await writeFileAtomic(path, bytes, { durable: false });
    return path;
  }

  async readText(path: string, encoding: BufferEncoding = 'utf8'): Promise<string | undefined> {
    return readFile(path, encoding).catch(() => undefined);
  }

  async writeText(path: string, text: string, encoding: BufferEncoding = 'utf8'): Promise<void> {
    await writeFileAtomic(path, Buffer.from(text, encoding), { durable: false });
  }
}
