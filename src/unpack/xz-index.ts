/**
 * The uncompressed size of an .xz file, read from the index at the end of each stream
 * (xz file format 1.0.4, §4 and §6) without decompressing anything. Knowing the sizes
 * lets many packages go through one xz process and be split apart again afterwards.
 */

const HEADER_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Total uncompressed size of every stream in `buf`, or undefined when the layout does not add up. */
export function xzUncompressedSize(buf: Buffer): number | undefined {
  let end = buf.length;
  let total = 0;
  let streams = 0;
  while (end > 0) {
    // Stream padding: null bytes, in multiples of four, after a stream.
    while (end >= 4 && buf.readUInt32LE(end - 4) === 0) end -= 4;
    if (end % 4 !== 0 || end < 32) return undefined;
    const footer = end - 12;
    if (buf[end - 2] !== 0x59 || buf[end - 1] !== 0x5a) return undefined;
    const indexStart = footer - (buf.readUInt32LE(footer + 4) + 1) * 4;
    if (indexStart < 12 || buf[indexStart] !== 0x00) return undefined;
    let pos = indexStart + 1;
    const varint = (): number | undefined => {
      let value = 0;
      for (let i = 0; i < 9 && pos < footer; i++) {
        const byte = buf[pos++]!;
        value += (byte & 0x7f) * 2 ** (7 * i);
        if (!(byte & 0x80)) return value;
      }
      return undefined;
    };
    const records = varint();
    if (records === undefined) return undefined;
    let blocks = 0;
    for (let r = 0; r < records; r++) {
      const unpadded = varint();
      const uncompressed = varint();
      if (unpadded === undefined || uncompressed === undefined) return undefined;
      blocks += Math.ceil(unpadded / 4) * 4;
      total += uncompressed;
    }
    const start = indexStart - blocks - 12;
    if (start < 0 || !buf.subarray(start, start + 6).equals(HEADER_MAGIC)) return undefined;
    end = start;
    streams++;
  }
  return streams > 0 && Number.isSafeInteger(total) ? total : undefined;
}
