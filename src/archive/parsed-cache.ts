import type { PackageRecord } from './packages.js';

/**
 * The pre-parsed form of one Packages index: one JSON array per field
 * (columns), which JSON.parse reads much faster than an array of objects.
 * Bump FORMAT_VERSION whenever PackageRecord changes.
 */
export const FORMAT_VERSION = 1;

const COLUMNS = [
  'name', 'version', 'architecture', 'installedSize', 'size', 'filename', 'sha256', 'depends', 'preDepends',
  'provides', 'conflicts', 'breaks', 'replaces', 'recommends', 'suggests', 'multiArch', 'essential', 'priority',
  'section', 'source', 'description',
] as const satisfies ReadonlyArray<keyof PackageRecord>;

interface Columnar {
  format: number;
  count: number;
  columns: Record<string, unknown[]>;
}

export function toColumnar(records: PackageRecord[]): string {
  const columns: Record<string, unknown[]> = {};
  for (const c of COLUMNS) columns[c] = records.map((r) => r[c] ?? null);
  return JSON.stringify({ format: FORMAT_VERSION, count: records.length, columns } satisfies Columnar);
}

/** Rebuild records; returns undefined when the text is not a complete, current-format cache. */
export function fromColumnar(text: string, suite: string, component: string): PackageRecord[] | undefined {
  let data: Columnar;
  try {
    data = JSON.parse(text) as Columnar;
  } catch {
    return undefined;
  }
  if (data.format !== FORMAT_VERSION || !data.columns) return undefined;
  const cols = COLUMNS.map((c) => data.columns[c]);
  if (cols.some((col) => !Array.isArray(col) || col.length !== data.count)) return undefined;
  const out: PackageRecord[] = new Array(data.count);
  for (let i = 0; i < data.count; i++) {
    const r = { suite, component } as Record<string, unknown>;
    for (let c = 0; c < COLUMNS.length; c++) {
      const v = (cols[c] as unknown[])[i];
      if (v !== null) r[COLUMNS[c] as string] = v;
    }
    out[i] = r as unknown as PackageRecord;
  }
  return out;
}
