/**
 * A tar archive as a stream of chunks: header blocks, file contents (the callers'
 * own Buffers, never copied) and padding, ending with two zero blocks. Shared by the
 * tar and OCI writers and by the VM's build-time archive of /run's tmpfiles entries.
 */
import { BLOCK, encodeHeader, padLength, ZEROS, type TarEntry } from './header.js';

export interface TarItem {
  entry: TarEntry;
  data?: Buffer;
}

export interface TarStreamOptions {
  /** Called with the number of content bytes just streamed (for progress). */
  onData?: (bytes: number) => void;
}

/** Header, data and padding for each item, then the end-of-archive marker. */
export function* tarChunks(items: Iterable<TarItem>, options: TarStreamOptions = {}): Generator<Buffer> {
  for (const { entry, data } of items) {
    yield encodeHeader(entry);
    if (data && data.length > 0) {
      yield data;
      const pad = padLength(data.length) - data.length;
      if (pad > 0) yield ZEROS.subarray(0, pad);
      options.onData?.(data.length);
    }
  }
  yield ZEROS.subarray(0, BLOCK * 2);
}
