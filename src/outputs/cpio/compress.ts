/**
 * Compressing a chunk stream into a file while hashing both sides. gzip is node's
 * zlib (the shared sink); zstd is the host's `zstd` program, fed through a pipe.
 *
 * zstd's output depends only on its input, the level, the declared stream size and
 * the zstd version: it is the same for any thread count (-T), so `-T0` is used.
 * The stream size is given up front (`--stream-size`), which records it in the
 * frame header and lets zstd size its window to the input: a small initramfs
 * needs less memory to unpack at boot.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JeosError } from '../../errors.js';
import { gzipChunksToFile, syncFile, writeChunksToFile, type Digest } from '../sink.js';

export type InitramfsCompression = 'zstd' | 'gzip' | 'none';

export const INITRAMFS_COMPRESSIONS: readonly InitramfsCompression[] = ['zstd', 'gzip', 'none'];

/** Default levels; initramfs.ts has the measurements behind the zstd one. */
export const DEFAULT_LEVELS: Readonly<Record<InitramfsCompression, number>> = { zstd: 10, gzip: 6, none: 0 };

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

function zstdFailed(why: string, cause?: unknown): JeosError {
  return new JeosError('E_OUTPUT_COMPRESS', `zstd failed while compressing the initramfs: ${why}`, {
    hint: 'check free space in the output directory; compression "gzip" avoids the zstd program',
    cause,
  });
}

/** Run `zstd` over the chunks into a new file. `streamSize` must be the exact input length. */
async function zstdChunksToFile(
  path: string,
  chunks: Iterable<Buffer>,
  options: { level: number; streamSize: number; durable?: boolean },
): Promise<CompressedDigests> {
  const inHash = createHash('sha256');
  let inSize = 0;
  function* hashed(): Generator<Buffer> {
    for (const chunk of coalesce(chunks, 1 << 20)) {
      inHash.update(chunk);
      inSize += chunk.length;
      yield chunk;
    }
  }
  const args = ['-q', '-c', `-${options.level}`, '-T0', `--stream-size=${options.streamSize}`];
  const child = spawn('zstd', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number | string>((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new JeosError('E_TOOL_MISSING', 'zstd is not installed; it is needed to compress the initramfs', {
              hint: 'install it: apt-get install zstd (or choose gzip compression)',
            })
          : zstdFailed(e.message, e),
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
    const why = Buffer.concat(stderr).toString().trim().replace(/^zstd: /, '') || `exit status ${status.value}`;
    throw zstdFailed(why);
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
      return zstdChunksToFile(path, chunks, options);
    case 'gzip':
      return gzipChunksToFile(path, chunks, { level: options.level, durable: options.durable });
    case 'none': {
      const digest = await writeChunksToFile(path, chunks, { durable: options.durable });
      return { uncompressed: digest, compressed: digest };
    }
  }
}
