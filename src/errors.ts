/**
 * The one error type of jeos. Library code throws it; only the CLI prints it.
 * A JeosError is an expected failure (bad input, unreachable mirror, …): the CLI
 * prints its code, message and hint. Anything else is a bug and prints a stack.
 */
export class JeosError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  /** Further lines when one message is not enough (every problem in a config file, say). */
  readonly details: string[];

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'JeosError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  toJSON(): { code: string; message: string; hint?: string; details?: string[] } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details.length ? { details: this.details } : {}),
    };
  }
}

export function isJeosError(e: unknown): e is JeosError {
  return e instanceof JeosError;
}

/** Run one named step; a JeosError from inside gets the step's name in front of its message. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof JeosError && !e.message.startsWith(`${name}: `)) {
      throw new JeosError(e.code, `${name}: ${e.message}`, { hint: e.hint, cause: e.cause ?? e, details: e.details });
    }
    throw e;
  }
}
