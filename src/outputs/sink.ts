/**
 * Where chunk streams go: a file, a gzip file, or only a hash. Every sink hashes
 * as it writes, so no output is read back to learn its digest.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';

export interface Digest {
  /** Hex SHA-256. */
  sha256: string;
  size: number;
}

/** Bytes gathered before one writev; big enough to amortise the syscall, small enough to stay in cache. */
const BATCH_BYTES = 4 << 20;
/** IOV_MAX on Linux. */
const BATCH_CHUNKS = 1024;

/**
 * Write every byte of `chunks`. A writev may write less than asked (libuv reports what it
 * wrote before the file system said no, a full disk say); the rest is written again, so the
 * failure that stopped it surfaces with its own errno (ENOSPC, EDQUOT, EIO) for the caller
 * to report, not as an unexplained short write.
 */
async function writeAll(fh: FileHandle, chunks: Buffer[], bytes: number): Promise<void> {
  let rest = chunks;
  for (let left = bytes; left > 0; ) {
    const { bytesWritten } = await fh.writev(rest);
    if (bytesWritten === 0) throw Object.assign(new Error(`write made no progress (${left} bytes left)`), { code: 'EIO', syscall: 'writev' });
    left -= bytesWritten;
    rest = dropBytes(rest, bytesWritten);
  }
}

/** The chunks without their first `n` bytes (views, no copies). */
function dropBytes(chunks: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < chunks.length && n >= chunks[i]!.length) n -= chunks[i++]!.length;
  const rest = chunks.slice(i);
  if (n > 0 && rest.length) rest[0] = rest[0]!.subarray(n);
  return rest;
}

/**
 * Hashes chunks and writes them in batches with writev. One batch is being written (on
 * libuv's thread pool) while the next is hashed.
 */
class BatchedFile {
  private readonly hash = createHash('sha256');
  private size = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly fh: FileHandle) {}

  /** Returns a promise only when the caller must wait (the previous batch is still being written). */
  add(chunk: Buffer): Promise<void> | undefined {
    if (chunk.length === 0) return undefined;
    this.hash.update(chunk);
    this.size += chunk.length;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes < BATCH_BYTES && this.batch.length < BATCH_CHUNKS) return undefined;
    return this.flush();
  }

  private async flush(): Promise<void> {
    await this.inFlight;
    if (this.batch.length === 0) return;
    this.inFlight = writeAll(this.fh, this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
  }

  async finish(): Promise<Digest> {
    await this.flush();
    await this.inFlight;
    this.inFlight = undefined;
    return { sha256: this.hash.digest('hex'), size: this.size };
  }

  /** A write still running when the stream failed must end before the handle closes. */
  async settle(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }
}

/** Write chunks to a new file (which must not exist), hashing them on the way. */
export async function writeChunksToFile(
  path: string,
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
  options: { durable?: boolean } = {},
): Promise<Digest> {
  const fh = await open(path, 'wx', 0o644);
  const out = new BatchedFile(fh);
  try {
    // The tree's chunks come from a synchronous generator: a plain loop avoids a microtask per chunk.
    if (Symbol.asyncIterator in chunks) {
      for await (const chunk of chunks) await out.add(chunk);
    } else {
      for (const chunk of chunks) {
        const wait = out.add(chunk);
        if (wait) await wait;
      }
    }
    const digest = await out.finish();
    if (options.durable) await fh.sync();
    return digest;
  } finally {
    await out.settle();
    await fh.close();
  }
}

export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Digest of a chunk stream without writing it anywhere. */
export function hashChunks(chunks: Iterable<Buffer>): Digest {
  const hash = createHash('sha256');
  let size = 0;
  for (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Small chunks (tar headers) joined into bigger ones; big chunks pass through uncopied. */
function* coalesce(chunks: Iterable<Buffer>, minBytes: number): Generator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for (const chunk of chunks) {
    if (chunk.length >= minBytes) {
      if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      yield chunk;
      continue;
    }
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= minBytes) {
      yield Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** The OS byte of a gzip header; zlib writes the build platform's, we always write Unix (3). */
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNIX = 3;

/**
 * Gzip a chunk stream into a new file. The gzip header has no name and time zero, and
 * its OS byte is fixed to Unix, so the bytes depend only on the input, the level and
 * zlib's deflate. Returns the digests of both the input and the compressed file.
 */
export async function gzipChunksToFile(
  path: string,
  chunks: Iterable<Buffer>,
  options: { level: number; durable?: boolean },
): Promise<{ uncompressed: Digest; compressed: Digest }> {
  const inHash = createHash('sha256');
  let inSize = 0;
  function* hashed(): Generator<Buffer> {
    for (const chunk of coalesce(chunks, 256 << 10)) {
      inHash.update(chunk);
      inSize += chunk.length;
      yield chunk;
    }
  }
  const outHash = createHash('sha256');
  let outSize = 0;
  const hashOut = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (outSize === 0 && chunk.length > GZIP_OS_OFFSET && chunk[GZIP_OS_OFFSET] !== GZIP_OS_UNIX) {
        chunk = Buffer.from(chunk);
        chunk[GZIP_OS_OFFSET] = GZIP_OS_UNIX;
      }
      outHash.update(chunk);
      outSize += chunk.length;
      done(null, chunk);
    },
  });
  const out = createWriteStream(path, { flags: 'wx', mode: 0o644 });
  await pipeline(
    Readable.from(hashed(), { objectMode: false, highWaterMark: 1 << 20 }),
    createGzip({ level: options.level, chunkSize: 256 << 10, strategy: zlibConstants.Z_DEFAULT_STRATEGY }),
    hashOut,
    out,
  );
  if (options.durable) await syncFile(path);
  return {
    uncompressed: { sha256: inHash.digest('hex'), size: inSize },
    compressed: { sha256: outHash.digest('hex'), size: outSize },
  };
}
