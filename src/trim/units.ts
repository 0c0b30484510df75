/**
 * The systemd units a VM starts, and the programs their Exec lines run: units
 * jeos wrote in /etc/systemd/system, and every unit enabled through a .wants or
 * .requires directory, with the unit each enabled socket, timer or path unit starts
 * (systemd-tmpfiles-clean.timer starts systemd-tmpfiles-clean.service a quarter of an
 * hour after boot). Units masked to /dev/null run nothing, nor do units whose
 * ConditionPathExists= or ConditionFileIsExecutable= names a file the image does not
 * have (systemd skips them at boot).
 */
import { posix } from 'node:path';
import type { ImageTree } from '../tree/index.js';
import { splitCommandLine, unitEntries } from '../util/unit-file.js';
import { shellCommandWords } from './scripts.js';

const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system'];
const EXEC_KEYS = new Set(['ExecStart', 'ExecStartPre', 'ExecStartPost', 'ExecCondition', 'ExecStop', 'ExecStopPost', 'ExecReload']);

/** The setting that names the unit a trigger unit starts, by the trigger's type. */
const TRIGGERS: Record<string, { section: string; key: string }> = {
  '.socket': { section: 'Socket', key: 'Service' },
  '.timer': { section: 'Timer', key: 'Unit' },
  '.path': { section: 'Path', key: 'Unit' },
};

/**
 * The unit a socket, timer or path unit starts: the one its Service= or Unit= names,
 * else the service of the same name (`NAME@.service` for a socket with Accept=yes, one
 * instance a connection); undefined for any other unit.
 */
export function triggeredUnit(name: string, text: string): string | undefined {
  const type = posix.extname(name);
  const trigger = TRIGGERS[type];
  if (!trigger) return undefined;
  const entries = unitEntries(text, trigger.section);
  const named = entries.filter(([key]) => key === trigger.key).at(-1)?.[1].trim();
  if (named) return named;
  const base = name.slice(0, -type.length);
  const accept = entries.filter(([key]) => key === 'Accept').at(-1)?.[1].trim().toLowerCase();
  return type === '.socket' && ['yes', 'true', 'on', '1'].includes(accept ?? '') ? `${base}@.service` : `${base}.service`;
}

/** Each program an enabled unit runs: [unit path, argv as written]. */
export function unitCommands(tree: ImageTree): Array<{ unit: string; argv: string[] }> {
  const units = new Set<string>();
  const named = new Set<string>();
  const addUnit = (name: string): void => {
    if (named.has(name)) return;
    named.add(name);
    for (const dir of UNIT_DIRS) {
      const path = `${dir}/${name}`;
      const node = tree.get(path);
      if (!node) continue;
      if (node.kind === 'symlink' && node.target === '/dev/null') return; // masked
      let real: string;
      try {
        real = tree.resolve(path, { followLast: true });
      } catch {
        return; // a link loop runs nothing
      }
      if (tree.get(real)?.kind !== 'file') return;
      units.add(real);
      const text = tree.readFile(real)?.toString('utf8') ?? '';
      const next = skippedAtBoot(tree, text) ? undefined : triggeredUnit(name, text);
      if (next) addUnit(next);
      return;
    }
  };
  for (const dir of UNIT_DIRS) {
    if (!tree.isDir(dir)) continue;
    for (const name of tree.list(dir)) {
      const node = tree.get(`${dir}/${name}`);
      if (dir === 'etc/systemd/system' && node?.kind === 'file') addUnit(name);
      if (node?.kind === 'dir' && /\.(wants|requires)$/.test(name)) {
        for (const wanted of tree.list(`${dir}/${name}`)) addUnit(wanted);
      }
    }
  }
  const commands: Array<{ unit: string; argv: string[] }> = [];
  for (const unit of [...units].sort()) {
    const text = tree.readFile(unit)?.toString('utf8') ?? '';
    if (skippedAtBoot(tree, text)) continue;
    for (const [key, value] of unitEntries(text, 'Service')) {
      if (!EXEC_KEYS.has(key)) continue;
      const argv = unitArgv(value);
      if (argv.length) commands.push({ unit, argv });
      // `sh -c '…'`: the commands inside count too.
      const c = argv.indexOf('-c');
      if (c > 0 && ['sh', 'bash', 'dash'].includes(posix.basename(argv[0]!)) && argv[c + 1]) {
        for (const word of shellCommandWords(argv[c + 1]!)) commands.push({ unit, argv: [word] });
      }
    }
  }
  return commands;
}

/** Where the image's files decide a condition; paths under /run, /sys, /proc, /dev, /var and /tmp are made at boot. */
const IMAGE_PATH = /^\/(usr|etc|bin|sbin|lib|lib64|opt)\//;
const PATH_CONDITIONS = new Set(['ConditionPathExists', 'ConditionFileIsExecutable']);

/**
 * Whether a path condition of the unit fails in this image: a plain (neither negated `!`
 * nor triggering `|`) ConditionPathExists= or ConditionFileIsExecutable= naming a file
 * under /usr, /etc, /bin, /sbin, /lib or /opt that the tree does not have. A unit with
 * any triggering condition is not judged (those are ORed).
 */
export function skippedAtBoot(tree: ImageTree, text: string): boolean {
  const conditions = unitEntries(text, 'Unit').filter(([key]) => PATH_CONDITIONS.has(key));
  if (conditions.some(([, value]) => value.trim().startsWith('|'))) return false;
  return conditions.some(([, raw]) => {
    const value = raw.trim();
    if (value.startsWith('!') || !IMAGE_PATH.test(value)) return false;
    try {
      return tree.get(tree.resolve(value.replace(/^\/+/, ''), { followLast: true })) === undefined;
    } catch {
      return false;
    }
  });
}

/** An Exec value split into words, systemd's prefixes (@ - : + !) dropped; a line that does not split runs nothing known. */
export function unitArgv(value: string): string[] {
  let words: string[];
  try {
    words = splitCommandLine(value);
  } catch {
    return [];
  }
  if (words.length && /^[@\-:+!]+/.test(words[0]!)) words[0] = words[0]!.replace(/^[@\-:+!]+/, '');
  if (words[0] === '') words.shift();
  return words;
}
