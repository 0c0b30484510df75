/**
 * Command-line parsing for the commands the scan recognizes: GNU-style long
 * options (`--home DIR`, `--home=DIR`), clustered short flags (`-rf`, `-aG grp`)
 * and `--`. An option outside the declared set makes the whole command
 * unrecognized rather than guessed at.
 */

export interface ArgSpec {
  /** Options without a value, with aliases mapped to one name: { '-r': 'system', '--system': 'system' }. */
  flags?: Record<string, string>;
  /** Options taking a value. */
  values?: Record<string, string>;
}

export interface ParsedArgs {
  opts: Map<string, string | true>;
  /** Repeatable values in order (for -G a -G b, --slave …). */
  all: Array<[string, string | true]>;
  operands: string[];
}

/** A command the scan recognizes but cannot reproduce in this form; the message says why. */
export class UnsupportedCommand extends Error {}

class ArgError extends UnsupportedCommand {}

export function parseArgs(args: Array<string | undefined>, spec: ArgSpec): ParsedArgs {
  const flags = spec.flags ?? {};
  const values = spec.values ?? {};
  const opts = new Map<string, string | true>();
  const all: Array<[string, string | true]> = [];
  const operands: string[] = [];
  const set = (name: string, v: string | true): void => {
    opts.set(name, v);
    all.push([name, v]);
  };
  const known = (a: string | undefined, what: string): string => {
    if (a === undefined) throw new ArgError(`${what} is not known when the image is built`);
    return a;
  };
  let onlyOperands = false;
  for (let i = 0; i < args.length; i++) {
    const a = known(args[i], 'an argument');
    if (onlyOperands || a === '-' || !a.startsWith('-')) {
      operands.push(a);
      continue;
    }
    if (a === '--') {
      onlyOperands = true;
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (flags[name] !== undefined && eq < 0) set(flags[name]!, true);
      else if (values[name] !== undefined) set(values[name]!, eq < 0 ? known(args[++i], `the value of ${name}`) : a.slice(eq + 1));
      else throw new ArgError(`option ${name} is not understood`);
      continue;
    }
    // -abc: flags clustered; a value option takes the rest of the cluster or the next argument.
    for (let j = 1; j < a.length; j++) {
      const name = `-${a[j]}`;
      if (flags[name] !== undefined) {
        set(flags[name]!, true);
      } else if (values[name] !== undefined) {
        const rest = a.slice(j + 1);
        set(values[name]!, rest !== '' ? rest : known(args[++i], `the value of ${name}`));
        break;
      } else {
        throw new ArgError(`option ${name} is not understood`);
      }
    }
  }
  return { opts, all, operands };
}

/** Octal mode text to a number, or undefined. */
export function octalMode(text: string | undefined): number | undefined {
  return text !== undefined && /^[0-7]{1,4}$/.test(text) ? parseInt(text, 8) : undefined;
}
