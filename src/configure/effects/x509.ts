/**
 * Just enough X.509 to name certificates the way OpenSSL's `rehash` does: the
 * subject hash (`openssl x509 -hash`) is SHA-1 over OpenSSL's canonical
 * encoding of the subject name — each RDN a DER SET of its attribute values,
 * string values converted to UTF-8, trimmed, inner whitespace collapsed to one
 * space and ASCII lower-cased — of which the first four bytes, read
 * little-endian, are printed as eight hex digits.
 */
import { createHash } from 'node:crypto';

interface Tlv {
  tag: number;
  /** Start of the whole TLV, start of its content, end. */
  start: number;
  content: number;
  end: number;
}

class DerError extends Error {}

function readTlv(b: Buffer, pos: number, limit = b.length): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated');
  const tag = b[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not expected here');
  let len = b[pos + 1]!;
  let content = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || content + n > limit) throw new DerError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[content + i]!;
    content += n;
  }
  if (content + len > limit) throw new DerError('truncated');
  return { tag, start: pos, content, end: content + len };
}

function children(b: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.content; p < t.end; ) {
    const c = readTlv(b, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function encodeTlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const UTF8 = 0x0c;
/** String types OpenSSL canonicalizes (ASN1_MASK_CANON), with their bytes per character. */
const CANON: Record<number, 1 | 2 | 4 | 0> = { 0x0c: 0, 0x13: 1, 0x14: 1, 0x16: 1, 0x1a: 1, 0x1c: 4, 0x1e: 2 };

function toUtf8(tag: number, data: Buffer): Buffer {
  const width = CANON[tag];
  if (width === 0) return data;
  const points: number[] = [];
  for (let i = 0; i + (width ?? 1) <= data.length; i += width ?? 1) {
    points.push(width === 2 ? data.readUInt16BE(i) : width === 4 ? data.readUInt32BE(i) : data[i]!);
  }
  return Buffer.from(String.fromCodePoint(...points), 'utf8');
}

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** asn1_string_canon */
function canonValue(tag: number, data: Buffer): Buffer {
  if (CANON[tag] === undefined) return encodeTlv(tag, data);
  const s = toUtf8(tag, data);
  let from = 0;
  let to = s.length;
  while (from < to && isSpace(s[from]!)) from++;
  while (to > from && isSpace(s[to - 1]!)) to--;
  const out: number[] = [];
  for (let i = from; i < to; ) {
    const c = s[i]!;
    if (c > 0x7f) {
      out.push(c);
      i++;
    } else if (isSpace(c)) {
      out.push(0x20);
      while (i < to && isSpace(s[i]!)) i++;
    } else {
      out.push(c >= 0x41 && c <= 0x5a ? c + 32 : c);
      i++;
    }
  }
  return encodeTlv(UTF8, Buffer.from(out));
}

/** The subject Name of a DER certificate (the whole TLV). */
function subjectOf(der: Buffer): { der: Buffer; tlv: Tlv } {
  const cert = readTlv(der, 0);
  const [tbs] = children(der, cert);
  if (!tbs) throw new DerError('no tbsCertificate');
  const fields = children(der, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  const subject = fields[offset + 4];
  if (!subject || subject.tag !== 0x30) throw new DerError('no subject');
  return { der, tlv: subject };
}

/** OpenSSL's X509_NAME canonical encoding of a DER certificate's subject. */
export function canonicalSubject(der: Buffer): Buffer {
  const { tlv } = subjectOf(der);
  const sets: Buffer[] = [];
  for (const rdn of children(der, tlv)) {
    const avas = children(der, rdn).map((ava) => {
      const [oid, value] = children(der, ava);
      if (!oid || !value) throw new DerError('bad attribute');
      return encodeTlv(0x30, Buffer.concat([der.subarray(oid.start, oid.end), canonValue(value.tag, der.subarray(value.content, value.end))]));
    });
    // DER SET OF: elements in the order of their encodings.
    avas.sort((a, b) => {
      const c = Buffer.compare(a.subarray(0, Math.min(a.length, b.length)), b.subarray(0, Math.min(a.length, b.length)));
      return c !== 0 ? c : a.length - b.length;
    });
    sets.push(encodeTlv(0x31, Buffer.concat(avas)));
  }
  return Buffer.concat(sets);
}

/** `openssl x509 -hash`: eight lower-case hex digits. */
export function subjectHash(der: Buffer): string {
  const md = createHash('sha1').update(canonicalSubject(der)).digest();
  return md.readUInt32LE(0).toString(16).padStart(8, '0');
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

/** Every PEM block in a text. */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    const body = m[2]!.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/[^A-Za-z0-9+/=]/g, '');
    out.push({ label: m[1]!, der: Buffer.from(body, 'base64') });
  }
  return out;
}

/** The one certificate in a PEM file, or undefined if it holds anything else (or more). */
export function singleCertificate(text: string): Buffer | undefined {
  const blocks = pemBlocks(text);
  if (blocks.length !== 1) return undefined;
  const [b] = blocks;
  if (!['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'].includes(b!.label)) return undefined;
  try {
    subjectOf(b!.der);
  } catch {
    return undefined;
  }
  return b!.der;
}
