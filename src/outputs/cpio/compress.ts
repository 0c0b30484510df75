/**
 * Compressing a chunk stream into a file while hashing both sides. gzip is node's
 * zlib (the shared sink); zstd and LZ4 are the host's `zstd` and `lz4` programs, fed
 * through a pipe.
 *
 * zstd's output depends only on its input, the level, the declared stream size and
 * the zstd version: it is the same for any thread count (-T), so `-T0` is used.
 * The stream size is given up front (`--stream-size`), which records it in the
 * frame header and lets zstd size its window to the input: a small initramfs
 * needs less memory to unpack at boot.
 *
 * LZ4 is written in its legacy frame (`lz4 -l`: 8 MiB blocks, no checksums), the
 * only LZ4 format the kernel's initramfs unpacker reads. Its output depends only on
 * the input, the level and the lz4 version.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JeosError } from '../../errors.js';
import { gzipChunksToFile, syncFile, writeChunksToFile, type Digest } from '../sink.js';

export type InitramfsCompression = 'zstd' | 'lz4' | 'gzip' | 'none';

export const INITRAMFS_COMPRESSIONS: readonly InitramfsCompression[] = ['zstd', 'lz4', 'gzip', 'none'];

/** Default levels; initramfs.ts has the measurements behind them. */
export const DEFAULT_LEVELS: Readonly<Record<InitramfsCompression, number>> = { zstd: 10, lz4: 9, gzip: 6, none: 0 };

/**
 * Highest zstd level allowed. Above 19 ("ultra") zstd uses windows up to 128 MiB, and
 * the kernel allocates the whole window when it unpacks the initramfs at boot.
 */
export const MAX_ZSTD_LEVEL = 19;

export interface CompressedDigests {
  uncompressed: Digest;
  compressed: Digest;
}

function hashing(): { stream: Transform; digest: () => Digest } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, digest: () => ({ sha256: hash.digest('hex'), size }) };
}

/** Small chunks (cpio headers) joined into bigger ones, so the pipe sees fewer writes. */
function* coalesce(chunks: Iterable<Buffer>, minBytes: number): Generator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for (const chunk of chunks) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= minBytes) {
      yield pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** A compressor run as a host program, reading the archive on stdin and writing the compressed file on stdout. */
interface CompressorProgram {
  program: 'zstd' | 'lz4';
  args: string[];
}

function compressorFailed(program: string, why: string, cause?: unknown): JeosError {
  return new JeosError('E_OUTPUT_COMPRESS', `${program} failed while compressing the initramfs: ${why}`, {
    hint: `check free space in the output directory; compression "gzip" avoids the ${program} program`,
    cause,
  });
}

/** The program and arguments for a compression that needs one. `streamSize` must be the exact input length. */
function compressorFor(compression: 'zstd' | 'lz4', level: number, streamSize: number): CompressorProgram {
  return compression === 'zstd'
    ? { program: 'zstd', args: ['-q', '-c', `-${level}`, '-T0', `--stream-size=${streamSize}`] }
    : { program: 'lz4', args: ['-q', '-c', '-l', `-${level}`] };
}

/** Run the compressor over the chunks into a new file. */
async function programChunksToFile(
  path: string,
  chunks: Iterable<Buffer>,
  compressor: CompressorProgram,
  options: { durable?: boolean },
): Promise<CompressedDigests> {
  const { program, args } = compressor;
  const inHash = createHash('sha256');
  let inSize = 0;
  function* hashed(): Generator<Buffer> {
    for (const chunk of coalesce(chunks, 1 << 20)) {
      inHash.update(chunk);
      inSize += chunk.length;
      yield chunk;
    }
  }
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number | string>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new JeosError('E_TOOL_MISSING', `${program} is not installed; it is needed to compress the initramfs`, {
              hint: `install it: apt-get install ${program} (or choose gzip compression)`,
            })
          : compressorFailed(program, e.message, e),
      ),
    );
    child.on('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const out = hashing();
  const feeding = pipeline(Readable.from(hashed(), { objectMode: false, highWaterMark: 1 << 20 }), child.stdin);
  const draining = pipeline(child.stdout, out.stream, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
  const [fed, drained, status] = await Promise.allSettled([feeding, draining, exited]);
  if (status.status === 'rejected') throw status.reason;
  if (drained.status === 'rejected') {
    child.kill();
    throw drained.reason;
  }
  if (status.value !== 0) {
    const why = Buffer.concat(stderr).toString().trim().replace(new RegExp(`^${program}: `), '') || `exit status ${status.value}`;
    throw compressorFailed(program, why);
  }
  if (fed.status === 'rejected') throw fed.reason;
  if (options.durable) await syncFile(path);
  return { uncompressed: { sha256: inHash.digest('hex'), size: inSize }, compressed: out.digest() };
}

/** Write the chunks to a new file at `path`, compressed as asked. */
export async function compressChunksToFile(
  path: string,
  chunks: Iterable<Buffer>,
  options: { compression: InitramfsCompression; level: number; streamSize: number; durable?: boolean },
): Promise<CompressedDigests> {
  switch (options.compression) {
    case 'zstd':
    case 'lz4':
      return programChunksToFile(path, chunks, compressorFor(options.compression, options.level, options.streamSize), options);
    case 'gzip':
      return gzipChunksToFile(path, chunks, { level: options.level, durable: options.durable });
    case 'none': {
      const digest = await writeChunksToFile(path, chunks, { durable: options.durable });
      return { uncompressed: digest, compressed: digest };
    }
  }
}
