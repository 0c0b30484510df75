import { FIELDS, type PackageRecord } from './packages.js';

/**
 * The pre-parsed form of one Packages index, made for loading fast: a JSON
 * header line, then one line per field holding every package's value joined
 * by NUL (columns). Joining and splitting strings is native work, far cheaper
 * than JSON for 69k records. Kept values never hold a newline or NUL.
 * The file holds the index's own bytes (UTF-8) and is written and read as latin1,
 * one byte per char, the cheapest coding; only the synopsis can hold non-ASCII,
 * and it is decoded as UTF-8 when it is read.
 * Bump FORMAT_VERSION whenever PackageRecord or this layout changes.
 */
export const FORMAT_VERSION = 4;

// One line per field, in the parser's FIELDS order (Essential stored as '1' or '').
const PROPS: ReadonlyArray<keyof PackageRecord> = FIELDS.map(([, prop]) => prop);

const SEP = '\u0000';
const NON_ASCII = /[\u0080-\u00ff]/;

/** The cache text from the parser's columns (one string array per field, in FIELDS order). */
export function columnsToText(columns: string[][], count: number): string {
  if (columns.length !== FIELDS.length || columns.some((c) => c.length !== count)) throw new Error('columns do not match FIELDS');
  return [JSON.stringify({ format: FORMAT_VERSION, count }), ...columns.map((c) => c.join(SEP))].join('\n') + '\n';
}

/** The cache text from records (for records that did not come from the parser). */
export function toColumnar(records: PackageRecord[]): string {
  const columns = FIELDS.map(([, prop]) =>
    records.map((r) =>
      prop === 'essential' ? (r.essential ? '1' : '') : prop === 'description' ? Buffer.from(r.description ?? '', 'utf8').toString('latin1') : String(r[prop] ?? ''),
    ),
  );
  return columnsToText(columns, records.length);
}

/**
 * One column kept as its joined text; a value is cut out only when asked for.
 * Most of an index's bytes (file names, hashes, synopses) are never read in a
 * run, and not splitting them saves allocating a million strings per load.
 */
class LazyColumn {
  private starts: Int32Array | undefined;
  constructor(private readonly text: string, private readonly count: number) {}

  get(i: number): string {
    if (!this.starts) {
      const starts = new Int32Array(this.count + 1);
      let at = 0;
      for (let k = 0; k < this.count; k++) {
        starts[k] = at;
        const next = this.text.indexOf(SEP, at);
        at = next < 0 ? this.text.length + 1 : next + 1;
      }
      starts[this.count] = this.text.length + 1;
      this.starts = starts;
    }
    return this.text.slice(this.starts[i]!, this.starts[i + 1]! - 1);
  }
}

interface LazyColumns {
  filename: LazyColumn;
  sha256: LazyColumn;
  replaces: LazyColumn;
  suggests: LazyColumn;
  section: LazyColumn;
  source: LazyColumn;
  description: LazyColumn;
}

const opt = (v: string) => (v === '' ? undefined : v);

/** A record whose rarely used fields are read from the columns on first use. */
class CachedRecord implements PackageRecord {
  constructor(
    readonly name: string,
    readonly version: string,
    readonly architecture: string,
    readonly suite: string,
    readonly component: string,
    readonly installedSize: number,
    readonly size: number,
    readonly depends: string | undefined,
    readonly preDepends: string | undefined,
    readonly provides: string | undefined,
    readonly conflicts: string | undefined,
    readonly breaks: string | undefined,
    readonly recommends: string | undefined,
    readonly multiArch: string | undefined,
    readonly essential: boolean,
    readonly priority: string | undefined,
    private readonly lazy: LazyColumns,
    private readonly row: number,
  ) {}
  get filename(): string {
    return this.lazy.filename.get(this.row);
  }
  get sha256(): string {
    return this.lazy.sha256.get(this.row);
  }
  get replaces(): string | undefined {
    return opt(this.lazy.replaces.get(this.row));
  }
  get suggests(): string | undefined {
    return opt(this.lazy.suggests.get(this.row));
  }
  get section(): string | undefined {
    return opt(this.lazy.section.get(this.row));
  }
  get source(): string | undefined {
    return opt(this.lazy.source.get(this.row));
  }
  get description(): string | undefined {
    const v = this.lazy.description.get(this.row);
    return v === '' ? undefined : NON_ASCII.test(v) ? Buffer.from(v, 'latin1').toString('utf8') : v;
  }
  toJSON(): PackageRecord {
    const out: Record<string, unknown> = {};
    for (const key of [...PROPS, 'suite', 'component'] as const) out[key] = this[key];
    return out as unknown as PackageRecord;
  }
}

/** Rebuild records; undefined when the text is not a complete cache of the current format. */
export function fromColumnar(text: string, suite: string, component: string): PackageRecord[] | undefined {
  const lines = text.split('\n');
  if (lines.length !== 2 + PROPS.length || lines[lines.length - 1] !== '') return undefined;
  let header: { format?: number; count?: number };
  try {
    header = JSON.parse(lines[0]!) as typeof header;
  } catch {
    return undefined;
  }
  const count = header.count ?? -1;
  if (header.format !== FORMAT_VERSION || count < 0) return undefined;
  const column = (key: keyof PackageRecord) => lines[1 + PROPS.indexOf(key)]!;
  // A damaged file must not pass: every column must hold exactly `count` values.
  for (let c = 1; c < lines.length - 1; c++) {
    let n = count === 0 ? 0 : 1;
    for (let at = lines[c]!.indexOf(SEP); at >= 0; at = lines[c]!.indexOf(SEP, at + 1)) n++;
    if (n !== count) return undefined;
  }
  const split = (key: keyof PackageRecord) => (count === 0 ? [] : column(key).split(SEP));
  const lazy = (key: keyof PackageRecord) => new LazyColumn(column(key), count);
  const lazyColumns: LazyColumns = {
    filename: lazy('filename'),
    sha256: lazy('sha256'),
    replaces: lazy('replaces'),
    suggests: lazy('suggests'),
    section: lazy('section'),
    source: lazy('source'),
    description: lazy('description'),
  };
  const [name, version, architecture, depends, preDepends, provides, conflicts, breaks, recommends, multiArch, priority, installedSize, size, essential] = [
    'name', 'version', 'architecture', 'depends', 'preDepends', 'provides', 'conflicts', 'breaks', 'recommends', 'multiArch', 'priority', 'installedSize', 'size', 'essential',
  ].map((k) => split(k as keyof PackageRecord)) as string[][];
  const out: PackageRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = new CachedRecord(
      name![i]!, version![i]!, architecture![i]!, suite, component, Number(installedSize![i]), Number(size![i]),
      opt(depends![i]!), opt(preDepends![i]!), opt(provides![i]!), opt(conflicts![i]!), opt(breaks![i]!), opt(recommends![i]!),
      opt(multiArch![i]!), essential![i] === '1', opt(priority![i]!), lazyColumns, i,
    );
  }
  return out;
}
