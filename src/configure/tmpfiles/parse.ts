/**
 * Reading the image's tmpfiles.d files as systemd-tmpfiles reads them (tmpfiles.d(5)):
 * `*.conf` in /etc, /run, /usr/local/lib and /usr/lib with the usual precedence (see
 * confd.ts), one entry per line, `Type Path Mode User Group Age Argument`, `-` or a
 * missing field for the default, the argument being the rest of the line.
 */
import type { ImageTree } from '../../tree/index.js';
import { readConfD } from '../confd.js';

export const TMPFILES_DIRS = ['etc/tmpfiles.d', 'run/tmpfiles.d', 'usr/local/lib/tmpfiles.d', 'usr/lib/tmpfiles.d'] as const;

export interface TmpfilesLine {
  /** The file, as an absolute path, and the line as written: what build.json names. */
  file: string;
  text: string;
  /** The type letter (`d`, `L`, `z`, …) and its modifiers (`+`, `!`, `-`, `=`, `~`, `^`, `$`, `?`). */
  type: string;
  modifiers: string;
  /** As written, specifiers (`%m`) not yet expanded. */
  path: string;
  mode?: string;
  user?: string;
  group?: string;
  argument?: string;
}

/** One field: whitespace ends it, "…" and '…' quote, a backslash escapes the next character. */
function field(line: string, at: number): { value: string; end: number } | undefined {
  let i = at;
  while (i < line.length && /\s/.test(line[i]!)) i++;
  if (i >= line.length) return undefined;
  let value = '';
  let quote: string | undefined;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) value += line[++i];
      else value += c;
    } else if (/\s/.test(c)) break;
    else if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < line.length) value += line[++i];
    else value += c;
  }
  return { value, end: i };
}

const orDefault = (v: string | undefined): string | undefined => (v === undefined || v === '' || v === '-' ? undefined : v);

export function parseTmpfilesLine(file: string, text: string): TmpfilesLine | undefined {
  const trimmed = text.trim();
  if (!trimmed || trimmed.startsWith('#')) return undefined;
  const values: string[] = [];
  let at = 0;
  for (let n = 0; n < 6; n++) {
    const f = field(trimmed, at);
    if (!f) break;
    values.push(f.value);
    at = f.end;
  }
  const [action = '', path = '', mode, user, group] = values;
  const argument = values.length === 6 ? trimmed.slice(at).replace(/^\s+/, '') : undefined;
  const line: TmpfilesLine = { file, text: trimmed, type: action.slice(0, 1), modifiers: action.slice(1), path };
  const m = orDefault(mode);
  const u = orDefault(user);
  const g = orDefault(group);
  const a = orDefault(argument);
  if (m !== undefined) line.mode = m;
  if (u !== undefined) line.user = u;
  if (g !== undefined) line.group = g;
  if (a !== undefined) line.argument = a;
  return line;
}

/** Every entry of the image's tmpfiles.d files, in the order systemd-tmpfiles reads them. */
export function readTmpfiles(tree: ImageTree): TmpfilesLine[] {
  const lines: TmpfilesLine[] = [];
  for (const { file, text } of readConfD(tree, TMPFILES_DIRS)) {
    // A backslash at the end of a line does not continue it in tmpfiles.d.
    for (const raw of text.split('\n')) {
      const line = parseTmpfilesLine(file, raw);
      if (line) lines.push(line);
    }
  }
  return lines;
}

/** What the specifiers a jeos VM's system instance knows at build time stand for. */
export interface SpecifierValues {
  hostname: string;
}

/**
 * The path with its specifiers expanded, or the first specifier only the booted machine
 * knows (`%m`, the machine ID, made at boot; `%b`, the boot ID; `%v`, …).
 */
export function expandSpecifiers(text: string, values: SpecifierValues): { value: string } | { unknown: string } {
  const known: Record<string, string> = {
    '%': '%',
    t: '/run',
    S: '/var/lib',
    C: '/var/cache',
    L: '/var/log',
    T: '/tmp',
    V: '/var/tmp',
    h: '/root',
    u: 'root',
    U: '0',
    g: 'root',
    G: '0',
    H: values.hostname,
    l: values.hostname.split('.')[0]!,
  };
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '%') {
      out += text[i];
      continue;
    }
    const c = text[++i] ?? '';
    const value = known[c];
    if (value === undefined) return { unknown: `%${c}` };
    out += value;
  }
  return { value: out };
}
