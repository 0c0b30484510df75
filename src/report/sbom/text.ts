import { createHash } from 'node:crypto';

/**
 * A JSON object as text with each top-level key on its own line and each element of a
 * top-level array on its own line: two SBOMs then diff package by package, file by file.
 */
export function jsonLines(doc: object): string {
  const parts = Object.entries(doc)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const value = Array.isArray(v) && v.length ? `[\n${v.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]` : JSON.stringify(v);
      return `  ${JSON.stringify(k)}: ${value}`;
    });
  return `{\n${parts.join(',\n')}\n}\n`;
}

/** RFC 4122's namespace for URLs, under which the name-based UUIDs below are made. */
const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/**
 * A name-based (version 5) UUID of a document's content: the same content always gets the
 * same identifier, and a different content a different one, with nothing random.
 */
export function contentUuid(kind: string, content: string): string {
  const name = `jeos:sbom:${kind}:${createHash('sha256').update(content).digest('hex')}`;
  const b = createHash('sha1').update(URL_NAMESPACE).update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
