/**
 * Decompressing .deb members. gzip is done by node's zlib (on the thread pool);
 * xz and zstd by the host's `xz` and `zstd` programs, which run in parallel with
 * each other and with the tar parsing on the main thread. Every member is decompressed
 * against a limit (limits.ts) and refused while it streams once it passes it, so a
 * member is never held whole beyond its limit.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { badStream, missingTool, runFilter, type MemberRef } from '../util/run-filter.js';
import { ceilingLimit, tooLarge, type MemberLimit } from './limits.js';
import { xzUncompressedSize } from './xz-index.js';

export type { MemberRef } from '../util/run-filter.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd';

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

/**
 * Output up to this size is kept as it streams and joined at the end (briefly twice its
 * size). A larger member is only counted on a first pass and decompressed again into one
 * buffer of the exact size, so a member is never held twice, nor held past its limit.
 */
const HOLD_BYTES = 64 * 2 ** 20;

/**
 * Decompress one member, refusing it (E_DEB_TOO_LARGE) as soon as it passes `limit`. An
 * xz member whose stream index gives its size is checked before anything runs and
 * decompressed straight into a buffer of that size. The result is a fresh buffer (or the
 * input itself when uncompressed).
 */
export async function decompress(data: Buffer, compression: Compression, ref: MemberRef, limit: MemberLimit = ceilingLimit()): Promise<Buffer> {
  if (compression === 'none') {
    if (data.length > limit.bytes) throw tooLarge(ref, limit, data.length);
    return data;
  }
  if (compression === 'xz') {
    const size = xzUncompressedSize(data);
    if (size !== undefined) {
      if (size > limit.bytes) throw tooLarge(ref, limit, size, true);
      return runFilter('xz', ['-dc', '-q'], [data], ref, 'xz-utils', size);
    }
  }
  let total = 0;
  let chunks: Buffer[] | undefined = [];
  const whole = await stream(data, compression, ref, (chunk) => {
    total += chunk.length;
    if (total > limit.bytes) return false;
    if (chunks && total > HOLD_BYTES) chunks = undefined;
    chunks?.push(chunk);
    return true;
  });
  if (!whole) throw tooLarge(ref, limit, total);
  if (chunks) return Buffer.concat(chunks, total);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  const again = await stream(data, compression, ref, (chunk) => {
    if (at + chunk.length > total) return false;
    chunk.copy(out, at);
    at += chunk.length;
    return true;
  });
  if (!again || at !== total) throw badStream(ref, compression, `it expanded to ${total} bytes once and to ${again ? at : 'more'} the second time`);
  return out;
}

/**
 * Run one member through its decompressor, handing each chunk of output to `sink`.
 * Resolves true at the end of the stream, false as soon as `sink` returns false (the
 * decompressor is stopped then); a stream the decompressor refuses is E_DEB_BAD_COMPRESSION.
 */
function stream(data: Buffer, compression: Exclude<Compression, 'none'>, ref: MemberRef, sink: (chunk: Buffer) => boolean): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let stopped = false;
    if (compression === 'gzip') {
      const gunzip = createGunzip();
      gunzip.on('data', (chunk: Buffer) => {
        if (stopped || sink(chunk)) return;
        stopped = true;
        gunzip.destroy();
        resolve(false);
      });
      gunzip.on('error', (e) => stopped || reject(badStream(ref, 'gzip', e.message, e)));
      gunzip.on('end', () => stopped || resolve(true));
      gunzip.end(data);
      return;
    }
    const tool = TOOLS[compression]!;
    const child = spawn(tool.program, ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      if (stopped || sink(chunk)) return;
      stopped = true;
      child.kill();
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingTool(tool.program, tool.debianPackage) : e));
    child.on('close', (code, signal) => {
      if (stopped) return resolve(false);
      if (code === 0) return resolve(true);
      const why = Buffer.concat(err).toString().trim().replace(/^\S+: \(stdin\): /, '') || (signal ? `killed by ${signal}` : `exit status ${code}`);
      reject(badStream(ref, tool.program, why));
    });
    // A decompressor that gives up (or is stopped) early closes its stdin; the exit status says why.
    child.stdin.on('error', () => {});
    child.stdin.end(data);
  });
}
