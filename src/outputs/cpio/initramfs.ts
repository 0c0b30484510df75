/**
 * The whole image as one compressed newc cpio: an initramfs that boots straight
 * from `qemu -kernel vmlinuz -initrd initrd.img` (the kernel unpacks it into a
 * tmpfs and runs `/init`).
 *
 * zstd -10 is the default here: the high levels cost many times the time for a few
 * per cent, so they are left to the caller. The VM writer takes LZ4 instead, which the
 * kernel unpacks about as fast as no compression at all, for a somewhat larger file.
 * The measurements behind both choices: bench/results/initramfs-compression.txt and
 * docs/vm.md, "Why LZ4".
 */
import { rm } from 'node:fs/promises';
import { JeosError } from '../../errors.js';
import type { ImageTree } from '../../tree/index.js';
import { compressChunksToFile, DEFAULT_LEVELS, INITRAMFS_COMPRESSIONS, MAX_ZSTD_LEVEL, type InitramfsCompression } from './compress.js';
import { NEWC_HEADER_SIZE, padTo4, TRAILER_NAME } from './newc.js';
import { cpioChunks, planCpio, type CpioItem } from './stream.js';

export interface InitramfsOptions {
  /** SOURCE_DATE_EPOCH in seconds: no time in the archive is later. */
  sourceDateEpoch: number;
  /** Default zstd. */
  compression?: InitramfsCompression;
  /** Compression level (zstd 1–19, lz4 1–12, gzip 1–9); defaults in DEFAULT_LEVELS. */
  level?: number;
  /** Tree paths to leave out (`boot/vmlinuz-…`); a directory left out takes everything under it. */
  exclude?: (path: string) => boolean;
  /** fsync the file before returning. */
  durable?: boolean;
  /** Called with the number of content bytes just streamed (for progress), out of `dataSize`. */
  onData?: (bytes: number) => void;
}

export interface InitramfsResult {
  /** Hex SHA-256 of the compressed file. */
  sha256: string;
  /** Bytes of the compressed file. */
  size: number;
  /** Bytes of the cpio archive before compression. */
  uncompressedSize: number;
  /** Hex SHA-256 of the cpio archive before compression (independent of the compressor's version). */
  uncompressedSha256: string;
  compression: InitramfsCompression;
  level: number;
  /** Entries in the archive, the root and the trailer included. */
  entries: number;
  /**
   * Tree paths whose extended attributes were left behind: newc cannot carry xattrs,
   * and the kernel's unpacker would not set them, so file capabilities
   * (`security.capability`) do not survive into an initramfs.
   */
  xattrsDropped: string[];
}

/** Bytes the archive will have, computed from the plan (zstd records it in the frame header). */
function archiveSize(items: readonly CpioItem[]): number {
  const entrySize = (nameBytes: number, dataBytes: number) => {
    const head = NEWC_HEADER_SIZE + nameBytes + 1;
    return head + padTo4(head) + dataBytes + padTo4(dataBytes);
  };
  let total = entrySize(TRAILER_NAME.length, 0);
  for (const { entry, data } of items) total += entrySize(Buffer.byteLength(entry.name, 'utf8'), data?.length ?? 0);
  return total;
}

function checkLevel(compression: InitramfsCompression, level: number): void {
  const range: Record<InitramfsCompression, [number, number]> = { zstd: [1, MAX_ZSTD_LEVEL], lz4: [1, 12], gzip: [1, 9], none: [0, 0] };
  const [lo, hi] = range[compression];
  if (!Number.isInteger(level) || level < lo || level > hi) {
    throw new JeosError('E_OUTPUT_COMPRESSION_LEVEL', `compression level ${level} is not valid for ${compression}`, {
      hint:
        compression === 'zstd'
          ? `zstd levels are 1 to ${MAX_ZSTD_LEVEL} (higher levels need up to 128 MiB of memory to unpack at boot)`
          : compression === 'lz4'
            ? 'lz4 levels are 1 to 12 (3 and up are its slower high-compression mode; unpacking is as fast at any level)'
            : compression === 'gzip'
              ? 'gzip levels are 1 to 9'
              : 'an uncompressed initramfs has no level',
    });
  }
}

/**
 * Write the tree as a compressed newc cpio to `path` (which must not exist yet; on
 * failure nothing is left there). Same tree and options, same bytes.
 */
export async function writeInitramfs(tree: ImageTree, path: string, options: InitramfsOptions): Promise<InitramfsResult> {
  const compression = options.compression ?? 'zstd';
  if (!INITRAMFS_COMPRESSIONS.includes(compression)) {
    throw new JeosError('E_OUTPUT_COMPRESSION', `unknown initramfs compression ${JSON.stringify(compression)}`, {
      hint: `use one of ${INITRAMFS_COMPRESSIONS.join(', ')}`,
    });
  }
  const level = options.level ?? DEFAULT_LEVELS[compression];
  checkLevel(compression, level);
  const plan = planCpio(tree, { sourceDateEpoch: options.sourceDateEpoch, exclude: options.exclude });
  const streamSize = archiveSize(plan.items);
  let digests;
  try {
    digests = await compressChunksToFile(path, cpioChunks(plan.items, { onData: options.onData }), {
      compression,
      level,
      streamSize,
      durable: options.durable,
    });
  } catch (e) {
    // 'wx' refused an existing file: that one is not ours to delete.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') await rm(path, { force: true });
    throw e;
  }
  if (digests.uncompressed.size !== streamSize) throw new Error(`cpio size ${digests.uncompressed.size} differs from the planned ${streamSize}`);
  return {
    sha256: digests.compressed.sha256,
    size: digests.compressed.size,
    uncompressedSize: digests.uncompressed.size,
    uncompressedSha256: digests.uncompressed.sha256,
    compression,
    level,
    entries: plan.items.length + 1,
    xattrsDropped: plan.xattrsDropped,
  };
}
