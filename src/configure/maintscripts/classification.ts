/**
 * How a maintainer-script command is classified, and what the classifier knows.
 */
import type { Action } from '../actions.js';
import type { ExecutedCommand, Tri } from '../shell/interpret.js';
import type { ScriptWorld } from './world.js';

export interface Classification {
  status: 'reproduced' | 'notApplicable' | 'notReproduced' | 'silent';
  note?: string;
  actions?: Action[];
  exit?: Tri;
  /**
   * A step not reproduced that can only remove files (a clean-up of what older versions
   * left): its absence leaves something extra in the image, never something missing.
   */
  removesOnly?: boolean;
  /** A per-instance step left to the first start (secrets.ts): what it runs there and what it makes. */
  firstStart?: FirstStartCommand;
}

export interface FirstStartCommand {
  /** The command's words, its program as found on the image's PATH when it is there. */
  words: string[];
  /** Standard output redirected to this file (`head -c 32 /dev/urandom > FILE`). */
  stdout?: string;
  /** The secret files it makes or acts on. */
  paths: string[];
  /** Debian packages whose programs it runs. */
  packages: string[];
  /** Whether it makes the secret (a chmod or chown that follows it does not). */
  makes: boolean;
  /** The programs it runs, as found on the image's PATH (a bare name when the image has none). */
  programs: string[];
  /** Shell text run at start instead of the words (secrets.ts). */
  text?: string;
}

export interface ClassifyContext {
  world: ScriptWorld;
  /** The package whose script is running (dpkg-divert's default --package). */
  pkg: string;
  /** Debconf questions the packages define, with their defaults (undefined: none), for db_get. */
  debconf: Map<string, string | undefined>;
  /** dpkg architecture of the image, for `dpkg --print-architecture`. */
  architecture: string;
  /** Trigger names activated with dpkg-trigger, collected for the trigger pass. */
  activations: Set<string>;
}

export type Args = Array<string | undefined>;
export type Handler = (args: Args, cmd: ExecutedCommand, ctx: ClassifyContext) => Classification;

export const na = (note?: string, exit?: Tri): Classification => ({ status: 'notApplicable', ...(note ? { note } : {}), exit });
/** A command with no effect that succeeds (builtins, messages, service starts). */
export const done = (note?: string): Classification => na(note, true);
export const notReproduced = (note: string, options: { removesOnly?: boolean } = {}): Classification => ({ status: 'notReproduced', note, ...(options.removesOnly ? { removesOnly: true } : {}) });
/** A reproduced command succeeds, as it would have in the script. */
export const reproduced = (actions: Action[], note?: string): Classification => ({ status: 'reproduced', actions, ...(note ? { note } : {}), exit: true });
