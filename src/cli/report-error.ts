import { isJeosError } from '../errors.js';

const color = (code: string) => (s: string) =>
  process.stderr.isTTY && !process.env.NO_COLOR ? `\x1b[${code}m${s}\x1b[0m` : s;
const red = color('31');
const dim = color('2');

/**
 * The only place errors are printed. A JeosError is an expected failure: its
 * code, message, details and hint. Anything else is a bug: print the stack.
 * Returns the exit status.
 */
export function reportError(error: unknown, json: boolean): number {
  if (isJeosError(error)) {
    if (json) {
      process.stdout.write(JSON.stringify({ ok: false, error: error.toJSON() }, null, 2) + '\n');
    } else {
      const lines = [`${red(`error[${error.code}]`)}: ${error.message}`];
      for (const d of error.details) lines.push(`  ${d}`);
      if (error.hint) lines.push(`${dim('hint')}: ${error.hint}`);
      process.stderr.write(lines.join('\n') + '\n');
    }
    return 1;
  }
  process.stderr.write(`jeos: internal error (a bug; please report it with the lines below)\n`);
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 70;
}
