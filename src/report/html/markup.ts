/** Small helpers for writing HTML by hand: escaping, numbers and sizes spelled the same in every build. */

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element's content or a quoted attribute value. */
export const esc = (s: string | number): string => String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** 1234567 → "1,234,567": grouped by hand, so the host's locale never changes the bytes. */
export const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Bytes in binary units, one decimal: "1.3 MiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  for (; v >= 1024 && u < units.length - 1; u++) v /= 1024;
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A coordinate of the SVG: one decimal is finer than a screen pixel at the sizes the report draws. */
export const coord = (n: number): string => String(Math.round(n * 10) / 10);

/** An anchor id from a name: letters, digits, `-`, `_` and `.`. */
export const anchor = (prefix: string, name: string): string => `${prefix}-${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;

/** A table from a header and rows of cells that are already HTML. */
export function table(head: string[], rows: string[][], cls = ''): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * A stable colour per package: its hue from a digest of the name (FNV-1a), so a package
 * has the same colour in every treemap of the report and in every build.
 */
export function hueOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h % 360;
}
