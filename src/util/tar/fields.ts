/** Reading a ustar header's fields (the encoder is header.ts). */

/** A NUL-terminated string field. */
export function tarString(buf: Buffer, start: number, length: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > start + length ? start + length : end);
}

/**
 * A numeric field: octal text (surrounding spaces and NULs allowed; empty is 0), or GNU
 * base-256 when the high bit of the first byte is set. Undefined when it is neither.
 */
export function tarNumber(buf: Buffer, start: number, length: number): number | undefined {
  if (buf[start]! & 0x80) {
    let value = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + buf[i]!;
    return value;
  }
  const text = buf.toString('latin1', start, start + length).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}
