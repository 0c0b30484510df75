import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { JeosError } from '../errors.js';

/** One binary package stanza of a Packages index, with the fields jeos uses. */
export interface PackageRecord {
  name: string;
  version: string;
  architecture: string;
  /** The suite (e.g. trixie-security) and component the stanza came from. */
  suite: string;
  component: string;
  /** Installed-Size in KiB, as in the index. */
  installedSize: number;
  /** Size of the .deb in bytes. */
  size: number;
  filename: string;
  sha256: string;
  depends?: string;
  preDepends?: string;
  provides?: string;
  conflicts?: string;
  breaks?: string;
  replaces?: string;
  recommends?: string;
  suggests?: string;
  multiArch?: string;
  essential?: boolean;
  priority?: string;
  section?: string;
  source?: string;
  /** The one-line synopsis (first line of Description). */
  description?: string;
}

/**
 * The kept fields: index field name → record property, in the column order of
 * the pre-parsed cache (src/archive/parsed-cache.ts). Everything else in a
 * stanza (long descriptions, Maintainer, MD5sum, Tag, …) is skipped unread.
 */
export const FIELDS = [
  ['Package', 'name'],
  ['Version', 'version'],
  ['Architecture', 'architecture'],
  ['Filename', 'filename'],
  ['SHA256', 'sha256'],
  ['Depends', 'depends'],
  ['Pre-Depends', 'preDepends'],
  ['Provides', 'provides'],
  ['Conflicts', 'conflicts'],
  ['Breaks', 'breaks'],
  ['Replaces', 'replaces'],
  ['Recommends', 'recommends'],
  ['Suggests', 'suggests'],
  ['Multi-Arch', 'multiArch'],
  ['Priority', 'priority'],
  ['Section', 'section'],
  ['Source', 'source'],
  ['Description', 'description'],
  ['Installed-Size', 'installedSize'],
  ['Size', 'size'],
  ['Essential', 'essential'],
] as const;

const F = Object.fromEntries(FIELDS.map(([, prop], i) => [prop, i])) as { [K in (typeof FIELDS)[number][1]]: number };

// Field names grouped by length, so a line's key is matched without cutting it out.
const BY_LENGTH: Array<Array<[string, number]>> = [];
FIELDS.forEach(([name], i) => (BY_LENGTH[name.length] ??= []).push([name, i]));

const NON_ASCII = /[\x80-\xff]/;
const opt = (v: string) => (v === '' ? undefined : v);

/**
 * Incremental Packages parser: feed it text in any chunking, get records out.
 * Text is expected as latin1 (one char per byte, the cheapest decoding); the
 * only kept field that may hold non-ASCII, the synopsis, is re-decoded as UTF-8.
 * Besides records it keeps every field as a column of strings (raw, still
 * latin1-decoded), which is the pre-parsed cache format, so writing that cache
 * costs only a join per column.
 */
export class PackagesParser {
  private rest = '';
  private row: string[] = new Array(FIELDS.length).fill('');
  private seen = false;
  /** The kept field the previous line set (-1: none), for folded values. */
  private last = -1;
  readonly records: PackageRecord[] = [];
  readonly columns: string[][] = FIELDS.map(() => []);

  constructor(private readonly suite: string, private readonly component: string, private readonly where: string) {}

  push(text: string): void {
    const data = this.rest + text;
    const lastNewline = data.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.rest = data;
      return;
    }
    this.rest = data.slice(lastNewline + 1);
    this.lines(data, lastNewline);
  }

  end(): PackageRecord[] {
    if (this.rest) this.lines(this.rest + '\n', this.rest.length);
    this.rest = '';
    this.flush();
    return this.records;
  }

  private lines(data: string, stop: number): void {
    let start = 0;
    while (start <= stop) {
      let nl = data.indexOf('\n', start);
      if (nl < 0 || nl > stop) nl = stop;
      const first = data.charCodeAt(start);
      if (nl === start || (first === 13 && nl === start + 1)) {
        this.flush();
      } else if (first === 32 || first === 9) {
        // A folded value: kept for relationship fields; the long description is skipped.
        if (this.last >= 0 && this.last !== F.description) {
          const more = data.slice(start, nl).trim();
          if (more) this.row[this.last] = `${this.row[this.last]} ${more}`.trim();
        }
      } else {
        this.last = -1;
        const colon = data.indexOf(':', start);
        const candidates = colon > start && colon < nl ? BY_LENGTH[colon - start] : undefined;
        if (candidates) {
          for (const [name, index] of candidates) {
            if (!data.startsWith(name, start)) continue;
            let from = colon + 1;
            let to = nl;
            while (from < to && (data.charCodeAt(from) === 32 || data.charCodeAt(from) === 9)) from++;
            while (to > from && data.charCodeAt(to - 1) <= 32) to--;
            this.row[index] = data.slice(from, to);
            this.seen = true;
            this.last = index;
            break;
          }
        }
      }
      start = nl + 1;
    }
  }

  private flush(): void {
    if (!this.seen) return;
    const v = this.row;
    this.row = new Array(FIELDS.length).fill('');
    this.seen = false;
    this.last = -1;
    if (v[F.name] === '') return;
    if (v[F.version] === '' || v[F.architecture] === '') {
      throw new JeosError('E_PACKAGES_MALFORMED', `${this.where}: package ${v[F.name]} has no Version or Architecture`, {
        hint: 'the index is damaged; clear the cache entry or use another mirror',
      });
    }
    v[F.essential] = v[F.essential] === 'yes' ? '1' : '';
    // Columns keep the raw (latin1-decoded UTF-8) text: the cache is written and read as latin1.
    for (let i = 0; i < v.length; i++) this.columns[i]!.push(v[i]!);
    if (NON_ASCII.test(v[F.description]!)) v[F.description] = Buffer.from(v[F.description]!, 'latin1').toString('utf8');
    this.records.push({
      name: v[F.name]!,
      version: v[F.version]!,
      architecture: v[F.architecture]!,
      suite: this.suite,
      component: this.component,
      installedSize: Number(v[F.installedSize]) || 0,
      size: Number(v[F.size]) || 0,
      filename: v[F.filename]!,
      sha256: v[F.sha256]!,
      depends: opt(v[F.depends]!),
      preDepends: opt(v[F.preDepends]!),
      provides: opt(v[F.provides]!),
      conflicts: opt(v[F.conflicts]!),
      breaks: opt(v[F.breaks]!),
      replaces: opt(v[F.replaces]!),
      recommends: opt(v[F.recommends]!),
      suggests: opt(v[F.suggests]!),
      multiArch: opt(v[F.multiArch]!),
      essential: v[F.essential] === '1',
      priority: opt(v[F.priority]!),
      section: opt(v[F.section]!),
      source: opt(v[F.source]!),
      description: opt(v[F.description]!),
    });
  }
}

export type Compression = 'xz' | 'gz' | 'none';

export function compressionOf(path: string): Compression {
  if (path.endsWith('.xz')) return 'xz';
  if (path.endsWith('.gz')) return 'gz';
  return 'none';
}

/** A readable stream of the decompressed file. xz is spawned: it is ~2x faster than any JS decoder. */
function decompressed(path: string, compression: Compression): { stream: Readable; done: Promise<void> } {
  if (compression === 'xz') {
    const child = spawn('xz', ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (e) =>
        reject(new JeosError('E_TOOL_MISSING', 'xz is needed to read Packages.xz but was not found', { hint: 'apt-get install xz-utils', cause: e })),
      );
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`xz exited ${code}: ${stderr.trim()}`))));
    });
    return { stream: child.stdout, done };
  }
  const file = createReadStream(path);
  const stream = compression === 'gz' ? file.pipe(createGunzip()) : file;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    file.on('error', reject);
  });
  return { stream, done };
}

/** Decompress and parse a (verified) Packages file, overlapping decompression with parsing. The parser holds records and columns. */
export async function readPackagesFile(
  path: string,
  compression: Compression,
  origin: { suite: string; component: string; where: string },
): Promise<PackagesParser> {
  const parser = new PackagesParser(origin.suite, origin.component, origin.where);
  const { stream, done } = decompressed(path, compression);
  let rest: Buffer | undefined;
  try {
    // Hand the parser whole lines only, decoded as latin1 (see PackagesParser).
    for await (const piece of stream) {
      const chunk: Buffer = rest ? Buffer.concat([rest, piece as Buffer]) : (piece as Buffer);
      const nl = chunk.lastIndexOf(10);
      if (nl < 0) {
        rest = chunk;
        continue;
      }
      parser.push(chunk.toString('latin1', 0, nl + 1));
      rest = chunk.subarray(nl + 1);
    }
    await done;
  } catch (e) {
    if (e instanceof JeosError) throw e;
    throw new JeosError('E_PACKAGES_MALFORMED', `${origin.where} cannot be decompressed (${(e as Error).message})`, {
      hint: 'the cached index is damaged; run again without --offline to fetch it anew',
      cause: e,
    });
  }
  if (rest?.length) parser.push(rest.toString('latin1'));
  parser.end();
  return parser;
}
