#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerBuild } from './commands/build.js';
import { registerConfig } from './commands/config.js';
import { registerDiff } from './commands/diff.js';
import { registerDisk } from './commands/disk.js';
import { registerInit } from './commands/init.js';
import { registerKey } from './commands/key.js';
import { registerLock } from './commands/lock.js';
import { registerOutdated } from './commands/outdated.js';
import { registerPublish, registerPromote } from './commands/publish-channel.js';
import { registerPush } from './commands/push.js';
import { registerResolve } from './commands/resolve.js';
import { registerRun } from './commands/run.js';
import { registerWhy } from './commands/why.js';
import { registerSearch } from './commands/search.js';
import { registerShow } from './commands/show.js';
import { registerTest } from './commands/test.js';
import { registerUpdate } from './commands/update.js';
import { JeosError } from '../errors.js';
import { reportError } from './report-error.js';
import { VERSION } from '../version.js';


export function buildProgram(): Command {
  const program = new Command('jeos')
    .description('Just Enough Operating System: images that carry only what one workload needs, from signed Debian packages')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      'after',
      '\nEnvironment:\n  JEOS_MIRROR, JEOS_SECURITY_MIRROR   archive URLs (win over jeos.yaml and apt\'s sources)\n  JEOS_KEYRING                        keyring that must sign the archive\n  JEOS_CACHE_DIR                      metadata and package cache\n\nDocs: docs/config.md (jeos.yaml), README.md',
    );
  registerInit(program);
  registerBuild(program);
  registerTest(program);
  registerRun(program);
  registerPush(program);
  registerDisk(program);
  registerKey(program);
  registerPublish(program);
  registerPromote(program);
  registerLock(program);
  registerResolve(program);
  registerWhy(program);
  registerShow(program);
  registerSearch(program);
  registerUpdate(program);
  registerAudit(program);
  registerDiff(program);
  registerOutdated(program);
  registerConfig(program);
  return program;
}

/** Commander prints usage errors itself; under --json they are printed as the JSON error object instead. */
function silenceUsageErrors(command: Command): void {
  command.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  for (const sub of command.commands) silenceUsageErrors(sub);
}

/** A usage error (unknown option, missing argument, bad value) as the JeosError every other failure is. */
function usageError(e: CommanderError, program: Command, argv: string[]): JeosError {
  const words = argv.slice(2);
  const command = program.commands.find((c) => words.includes(c.name()));
  const message = e.code === 'commander.help' ? 'no command given' : e.message.replace(/^error: /, '');
  return new JeosError('E_USAGE', message, { hint: `run jeos ${command ? `${command.name()} ` : ''}--help for usage` });
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  if (json) silenceUsageErrors(program);
  try {
    await program.parseAsync(argv);
    // A command that finished but failed its check (jeos test) sets process.exitCode itself.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (!(e instanceof CommanderError)) return reportError(e, json);
    if (e.exitCode === 0) return 0;
    if (json) reportError(usageError(e, program, argv), true);
    return 2;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
