/**
 * A target file as a stream of plain bytes: gzip is node's zlib; zstd and LZ4 (the
 * legacy frame a jeos initramfs uses, or a normal frame) are the host's `zstd` and
 * `lz4`, fed through a pipe. The raw file is hashed on the way, so the audit can tell
 * whether it is an output a build recorded.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { JeosError } from '../../errors.js';

export type Compression = 'gzip' | 'zstd' | 'lz4';

/** The compression of a file from its first bytes, or undefined for none known. */
export function compressionOf(head: Buffer): Compression | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  // LZ4 legacy frame (the kernel's) and the LZ4 frame format.
  if (head.readUInt32LE(0) === 0x184c2102 || head.readUInt32LE(0) === 0x184d2204) return 'lz4';
  return undefined;
}

export async function readHead(path: string, bytes = 512): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export interface PlainStream {
  chunks: AsyncIterable<Buffer>;
  /** The raw file's SHA-256, once `chunks` has been read to its end. */
  sha256(): string;
}

function toolMissing(program: string): JeosError {
  return new JeosError('E_AUDIT_TOOL_MISSING', `${program} is not installed; it is needed to decompress the target`, {
    hint: `install it (on Debian or Ubuntu: apt-get install ${program})`,
  });
}

const CHUNK = 1 << 20;

/** The plain bytes of a (possibly compressed) file, or of its bytes already read (`data`; `path` then labels errors). */
export function plainStream(path: string, compression: Compression | undefined, data?: Buffer): PlainStream {
  const hash = createHash('sha256');
  async function* raw(): AsyncGenerator<Buffer> {
    if (data) {
      for (let at = 0; at < data.length; at += CHUNK) {
        const chunk = data.subarray(at, at + CHUNK);
        hash.update(chunk);
        yield chunk;
      }
      return;
    }
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  const digest = () => hash.digest('hex');
  if (!compression) return { chunks: raw(), sha256: digest };
  if (compression === 'gzip') return { chunks: Readable.from(raw()).pipe(createGunzip()) as AsyncIterable<Buffer>, sha256: digest };
  return { chunks: throughProgram(compression, ['-dc'], Readable.from(raw()), path), sha256: digest };
}

/** Run a decompressor over a stream; its stdout, and an error naming the program when it fails. */
async function* throughProgram(program: string, args: string[], input: Readable, label: string): AsyncGenerator<Buffer> {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const err: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const closed = new Promise<{ code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, error }));
    child.on('close', (code) => resolve({ code }));
  });
  child.stdin.on('error', () => {}); // a decompressor that gives up closes its stdin; its exit status says why
  input.on('error', (e) => child.stdout.destroy(e));
  input.pipe(child.stdin);
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
  } finally {
    input.destroy();
    if (child.exitCode === null) child.kill();
  }
  const done = await closed;
  if (done.error?.code === 'ENOENT') throw toolMissing(program);
  if (done.code !== 0) {
    throw new JeosError('E_AUDIT_BAD_TARGET', `${label}: ${program} could not decompress it: ${Buffer.concat(err).toString().trim() || `exit status ${done.code}`}`, {
      hint: 'the file is damaged or not what it is named; pass an image root, a tar, an OCI layout or an initramfs',
    });
  }
}
