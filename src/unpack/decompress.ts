/**
 * Decompressing .deb members. gzip is done by node's zlib (on the thread pool);
 * xz and zstd by the host's `xz` and `zstd` programs, which run in parallel with
 * each other and with the tar parsing on the main thread.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { JeosError } from '../errors.js';

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

function missingTool(program: string, debianPackage: string): JeosError {
  return new JeosError('E_UNPACK_TOOL_MISSING', `${program} is not installed; it is needed to decompress the packages' ${program} archives`, {
    hint: `install it (on Debian or Ubuntu: apt-get install ${debianPackage})`,
  });
}

/** Where a member came from, for error messages. */
export interface MemberRef {
  label: string;
  member: string;
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

function badStream(ref: MemberRef, format: string, why: string, cause?: unknown): JeosError {
  return new JeosError('E_DEB_BAD_COMPRESSION', `${ref.label}: member ${ref.member} is not a valid ${format} stream (${why})`, {
    hint: 'the package file is damaged; remove it from the cache so it is downloaded again',
    cause,
  });
}

/**
 * Feed `inputs` (one after the other) to a decompressor's stdin and collect its stdout.
 * With `expectedSize` the output goes straight into one buffer of that size, and any
 * other length is an error; without it, chunks are joined at the end.
 */
export function runFilter(
  program: string,
  args: string[],
  inputs: Buffer[],
  ref: MemberRef,
  debianPackage: string,
  expectedSize?: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const sized = expectedSize === undefined ? undefined : Buffer.allocUnsafe(expectedSize);
    const chunks: Buffer[] = [];
    let length = 0;
    let overflow = false;
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      if (!sized) chunks.push(chunk);
      else if (length + chunk.length <= sized.length) chunk.copy(sized, length);
      else if (!overflow) {
        overflow = true;
        child.kill();
      }
      length += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? missingTool(program, debianPackage) : e);
    });
    child.on('close', (code, signal) => {
      if (sized && (overflow || (code === 0 && length !== sized.length))) {
        return reject(badStream(ref, program, `${length} bytes came out, the stream index says ${sized.length}`));
      }
      if (code === 0) return resolve(sized ?? Buffer.concat(chunks, length));
      const why = Buffer.concat(err).toString().trim().replace(/^\S+: \(stdin\): /, '') || (signal ? `killed by ${signal}` : `exit status ${code}`);
      reject(badStream(ref, program, why));
    });
    // A decompressor that gives up early closes its stdin; the exit status says why.
    child.stdin.on('error', () => {});
    for (const input of inputs) child.stdin.write(input);
    child.stdin.end();
  });
}
