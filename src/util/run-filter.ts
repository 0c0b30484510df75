/**
 * Running a decompressor (xz, zstd, lz4) over some bytes: the .deb members the unpack
 * stage reads, and the kernel payload the PVH boot takes out of vmlinuz.
 */
import { spawn } from 'node:child_process';
import { JeosError } from '../errors.js';

/** Where a member came from, for error messages. */
export interface MemberRef {
  label: string;
  member: string;
}

/** A decompressor that is not installed (the words are the unpack stage's, whose packages need it). */
export function missingTool(program: string, debianPackage: string): JeosError {
  return new JeosError('E_UNPACK_TOOL_MISSING', `${program} is not installed; it is needed to decompress the packages' ${program} archives`, {
    hint: `install it (on Debian or Ubuntu: apt-get install ${debianPackage})`,
  });
}

/** A stream the decompressor refused or that came out at the wrong length. */
export function badStream(ref: MemberRef, format: string, why: string, cause?: unknown): JeosError {
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
