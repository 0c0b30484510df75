import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { configJsonSchema } from '../../config/schema.js';
import { printJson } from '../format.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .argument('[dir]', 'directory holding jeos.yaml (or the file itself)', '.')
    .description('check jeos.yaml and print it with every default filled in')
    .option('--json', 'print machine-readable JSON on stdout')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const loaded = await loadConfig(dir);
      if (flags.json) return printJson({ path: loaded.path, digest: loaded.digest, config: loaded.config });
      console.log(`${loaded.path} is valid (digest ${loaded.digest.slice(0, 16)}…)`);
      console.log(JSON.stringify(loaded.config, null, 2));
    });

  program
    .command('schema')
    .description('print the JSON Schema of jeos.yaml (for editors)')
    .action(() => printJson(configJsonSchema()));
}
