/**
 * The whole image as one compressed newc cpio: an initramfs that boots straight
 * from `qemu -kernel vmlinuz -initrd initrd.img` (the kernel unpacks it into a
 * tmpfs and runs `/init`).
 *
 * Compression, measured here (2 CPUs, zstd 1.5.4; 768 entries, 35.4 MB of Debian
 * binaries and libraries; time to write the file):
 *
 *   zstd -3   12.7 MB  0.3 s      zstd -15  11.0 MB   8.2 s     gzip -6  14.7 MB  1.3 s
 *   zstd -6   11.8 MB  0.5 s      zstd -19   9.4 MB  22.0 s     gzip -9  14.7 MB  4.1 s
 *   zstd -10  11.1 MB  1.5 s  ← default                          none     35.5 MB  0.1 s
 *
 * Level 19 saves another 15% for 15 times the time, so it is left to the caller.
 * Booting under TCG, Debian's 6.12 cloud kernel unpacked this image in about the
 * same 0.75 s from zstd -10 as from gzip -6 (0.35 s uncompressed).
 *
 * LZ4 unpacks as fast as no compression at all. The nginx VM's initramfs (27.9 MB
 * as cpio; lz4 1.9.4), with the kernel's time from "Trying to unpack rootfs" to
 * "Freeing initrd memory" under TCG, three boots each:
 *
 *   lz4 -1    15.3 MB  0.1 s to write          zstd -10  10.0 MB   unpacked in 0.62–0.90 s
 *   lz4 -9    12.4 MB  1.3 s  ← VM default     lz4 -9    12.4 MB   unpacked in 0.32–0.51 s
 *   lz4 -12   12.4 MB                          none      27.9 MB   unpacked in 0.31–0.37 s
 *
 * So the VM writer takes lz4 -9: the size stays well under issue 5's 25 MB and the
 * kernel reaches /init sooner; zstd stays the default here for smaller files.
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
