/**
 * Decompressing .deb members. gzip is done by node's zlib (on the thread pool);
 * xz and zstd by the host's `xz` and `zstd` programs, which run in parallel with
 * each other and with the tar parsing on the main thread.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { badStream, missingTool, runFilter, type MemberRef } from '../util/run-filter.js';

export type { MemberRef } from '../util/run-filter.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd';

const gunzipAsync = promisify(gunzip);

/** The compression a member name says (`data.tar.xz` → xz), or undefined for one jeos cannot read. */
export function compressionOfMember(name: string): Compression | undefined {
  if (name.endsWith('.tar')) return 'none';
  if (name.endsWith('.tar.gz')) return 'gzip';
  if (name.endsWith('.tar.xz')) return 'xz';
  if (name.endsWith('.tar.zst')) return 'zstd';
  return undefined;
}

const TOOLS: Partial<Record<Compression, { program: string; debianPackage: string }>> = {
  xz: { program: 'xz', debianPackage: 'xz-utils' },
  zstd: { program: 'zstd', debianPackage: 'zstd' },
};

async function onPath(program: string, path = process.env.PATH ?? ''): Promise<boolean> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Fail fast, before any slow work, when a program needed to decompress these packages is missing. */
export async function checkDecompressors(needed: Iterable<Compression>): Promise<void> {
  for (const compression of new Set(needed)) {
    const tool = TOOLS[compression];
    if (tool && !(await onPath(tool.program))) throw missingTool(tool.program, tool.debianPackage);
  }
}

/** Decompress one member. The result is a fresh buffer (or the input itself when uncompressed). */
export async function decompress(data: Buffer, compression: Compression, ref: MemberRef): Promise<Buffer> {
  switch (compression) {
    case 'none':
      return data;
    case 'gzip':
      try {
        return await gunzipAsync(data);
      } catch (e) {
        throw badStream(ref, 'gzip', (e as Error).message, e);
      }
    case 'xz':
      return runFilter('xz', ['-dc', '-q'], [data], ref, 'xz-utils');
    case 'zstd':
      return runFilter('zstd', ['-dc', '-q'], [data], ref, 'zstd');
  }
}

