#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerBuild } from './commands/build.js';
import { registerConfig } from './commands/config.js';
import { registerInit } from './commands/init.js';
import { registerLock } from './commands/lock.js';
import { registerResolve } from './commands/resolve.js';
import { registerRun } from './commands/run.js';
import { registerWhy } from './commands/why.js';
import { registerSearch } from './commands/search.js';
import { registerShow } from './commands/show.js';
import { registerTest } from './commands/test.js';
import { registerUpdate } from './commands/update.js';
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
  registerLock(program);
  registerResolve(program);
  registerWhy(program);
  registerShow(program);
  registerSearch(program);
  registerUpdate(program);
  registerConfig(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // A command that finished but failed its check (jeos test) sets process.exitCode itself.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    return reportError(e, argv.includes('--json'));
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
