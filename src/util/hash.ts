import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The SHA-256 of some bytes (or of a string's UTF-8), in hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The SHA-256 of a file, read as a stream, in hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
