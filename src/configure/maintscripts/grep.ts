/**
 * `grep -q PATTERN FILE…` decided against the image's files: scripts test their own
 * configuration before editing it (prosody's postinst migrates a pre-0.8 configuration only
 * when it still names util.ztact). The pattern is translated from POSIX basic or extended
 * syntax to a JavaScript expression; anything the translation does not know (back-references,
 * options other than -q -s -E -F -i -w -x -e) leaves the answer unknown, as before.
 */
import type { Tri } from '../shell/interpret.js';
import { ScriptWorld } from './world.js';

const CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~',
};

/** A POSIX bracket expression starting at `i` (after `[`), as JavaScript: [text, index after `]`]. */
function bracket(p: string, i: number): [string, number] | undefined {
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  while (i < p.length) {
    const c = p[i]!;
    if (c === ']' && !first) return [`${out}]`, i + 1];
    first = false;
    const cls = /^\[:(\w+):\]/.exec(p.slice(i));
    if (cls) {
      const body = CLASSES[cls[1]!];
      if (body === undefined) return undefined;
      out += body;
      i += cls[0].length;
      continue;
    }
    if (p.startsWith('[.', i) || p.startsWith('[=', i)) return undefined;
    out += c === '\\' || c === ']' || c === '[' ? `\\${c}` : c;
    i++;
  }
  return undefined;
}

/** A POSIX pattern as a JavaScript expression; undefined for what the translation does not know. */
export function posixRegExp(pattern: string, extended: boolean): string | undefined {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '[') {
      const b = bracket(pattern, i + 1);
      if (!b) return undefined;
      out += b[0];
      i = b[1] - 1;
    } else if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined || /[1-9]/.test(n)) return undefined;
      i++;
      if (!extended && '(){}|+?'.includes(n)) out += n;
      else if (/[wWsSbB]/.test(n) || '.[]*^$\\/(){}|+?'.includes(n)) out += `\\${n}`;
      else if (n === '<' || n === '>') out += '\\b';
      else out += n.replace(/[-]/g, '\\$&');
    } else if (!extended && '(){}|+?'.includes(c)) out += `\\${c}`;
    else if (c === '/') out += '\\/';
    else out += c;
  }
  try {
    new RegExp(out);
    return out;
  } catch {
    return undefined;
  }
}

/** Whether `grep -q` would succeed: true, false, or undefined when that cannot be known. */
export function grepQuiet(args: Array<string | undefined>, world: ScriptWorld): Tri {
  if (args.some((a) => a === undefined)) return undefined;
  const words = args as string[];
  const patterns: string[] = [];
  const files: string[] = [];
  let extended = false;
  let fixed = false;
  let flags = '';
  let quiet = false;
  let whole: 'word' | 'line' | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-e') patterns.push(words[++i] ?? '');
    else if (/^-[qsEFiwx]+$/.test(w)) {
      if (w.includes('q')) quiet = true;
      if (w.includes('E')) extended = true;
      if (w.includes('F')) fixed = true;
      if (w.includes('i')) flags = 'i';
      if (w.includes('w')) whole = 'word';
      if (w.includes('x')) whole = 'line';
    } else if (w === '--quiet' || w === '--silent') quiet = true;
    else if (w.startsWith('-')) return undefined;
    else if (!patterns.length && files.length === 0 && !words.slice(0, i).includes('-e')) patterns.push(w);
    else files.push(w);
  }
  if (!quiet || !patterns.length || !files.length) return undefined;
  const sources = patterns.map((p) => (fixed ? p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : posixRegExp(p, extended)));
  if (sources.some((s) => s === undefined)) return undefined;
  const body = sources.join('|');
  const re = new RegExp(whole === 'line' ? `^(?:${body})$` : whole === 'word' ? `\\b(?:${body})\\b` : body, flags);
  let sawFile = false;
  for (const f of files) {
    const p = ScriptWorld.treePath(f);
    if (p === undefined) return undefined;
    // A file missing now may be one an effect writes later (/etc/os-release) or another package's: unknown.
    if (world.kind(f) === undefined) return undefined;
    const data = world.node(f)?.kind === 'file' ? world.tree.readFile(p) : undefined;
    if (data === undefined) return undefined;
    sawFile = true;
    if (data.toString('latin1').split('\n').some((line) => re.test(line))) return true;
  }
  // No line of the files matched: grep fails (status 1).
  return sawFile ? false : undefined;
}
