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

/** Field name in the index → property, for the plain string fields. */
const STRING_FIELDS: Record<string, keyof PackageRecord> = {
  Package: 'name',
  Version: 'version',
  Architecture: 'architecture',
  Filename: 'filename',
  SHA256: 'sha256',
  Depends: 'depends',
  'Pre-Depends': 'preDepends',
  Provides: 'provides',
  Conflicts: 'conflicts',
  Breaks: 'breaks',
  Replaces: 'replaces',
  Recommends: 'recommends',
  Suggests: 'suggests',
  'Multi-Arch': 'multiArch',
  Priority: 'priority',
  Section: 'section',
  Source: 'source',
  Description: 'description',
};

/**
 * Incremental Packages parser: feed it text in any chunking, get records out.
 * Text is expected as latin1 (one char per byte, the cheapest decoding); the
 * only kept field that may hold non-ASCII, the synopsis, is re-decoded as UTF-8.
 * Only the fields above are kept (long descriptions are skipped), which keeps
 * 69k-package indices fast to load and small in memory.
 */
export class PackagesParser {
  private rest = '';
  private current: Partial<PackageRecord> & Record<string, unknown> = {};
  readonly records: PackageRecord[] = [];

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
      } else if (first !== 32 && first !== 9) {
        const colon = data.indexOf(':', start);
        if (colon > start && colon < nl) {
          const key = data.slice(start, colon);
          let end = nl;
          if (data.charCodeAt(end - 1) === 13) end--;
          const value = data.slice(colon + 1, end).trim();
          const prop = STRING_FIELDS[key];
          if (prop === 'description') this.current.description = /[\x80-\xff]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
          else if (prop) (this.current as Record<string, unknown>)[prop] = value;
          else if (key === 'Installed-Size') this.current.installedSize = Number(value);
          else if (key === 'Size') this.current.size = Number(value);
          else if (key === 'Essential') this.current.essential = value === 'yes';
        }
      }
      start = nl + 1;
    }
  }

  private flush(): void {
    const c = this.current;
    if (c.name === undefined) {
      this.current = {};
      return;
    }
    if (!c.version || !c.architecture) {
      throw new JeosError('E_PACKAGES_MALFORMED', `${this.where}: package ${c.name} has no Version or Architecture`, {
        hint: 'the index is damaged; clear the cache entry or use another mirror',
      });
    }
    c.suite = this.suite;
    c.component = this.component;
    c.installedSize ??= 0;
    c.size ??= 0;
    c.filename ??= '';
    c.sha256 ??= '';
    this.records.push(c as PackageRecord);
    this.current = {};
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

/** Decompress and parse a (verified) Packages file, overlapping decompression with parsing. */
export async function readPackagesFile(
  path: string,
  compression: Compression,
  origin: { suite: string; component: string; where: string },
): Promise<PackageRecord[]> {
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
  return parser.end();
}
