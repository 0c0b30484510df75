import type { Command } from 'commander';
import { openArchive } from '../../archive/open.js';
import { loadConfig } from '../../config/load.js';
import { JeosError } from '../../errors.js';
import { lockAsResolution, lockStatus } from '../../lock/lock.js';
import { lockRequest } from '../../lock/request.js';
import { resolve, whyPaths, type DependencyGraph } from '../../resolve/index.js';
import { join } from 'node:path';
import { recoverOutputDir } from '../../outputs/index.js';
import { readTrimExplanations, TRIM_FILE } from '../../record/index.js';
import { describeReason, explainPath } from '../../trim/index.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { printJson } from '../format.js';

export function registerWhy(program: Command): void {
  withArchiveOptions(
    program
      .command('why')
      .argument('<package|/path>', 'a package of the image, or an absolute path in the built image')
      .argument('[dir]', 'directory holding jeos.yaml (and jeos.lock)', '.')
      .option('--out <dir>', 'for a path: the build output to read trim.json from (default: DIR/out)')
      .option('--vm', "for a path: explain the VM image's tree instead of the container image's")
      .description('show why a package is in the image (dependency paths from the workload) or why a file is (the chain the trim followed)'),
  )
    .addHelpText(
      'after',
      `
A package is explained from jeos.lock (or a fresh resolution); a path, from the
last build's trim.json: each step says what kept it, back to the workload.

Examples:
  jeos why libssl3t64 examples/nginx
  jeos why zlib1g --json
  jeos why /usr/lib/x86_64-linux-gnu/libssl.so.3 examples/nginx
  jeos why /usr/lib/systemd/systemd-networkd examples/nginx --vm`,
    )
    .action(async (name: string, dir: string, flags: ArchiveFlags & { out?: string; vm?: boolean }) => {
      const loaded = await loadConfig(dir);
      if (name.startsWith('/')) return whyPath(name, flags.out ?? join(loaded.dir, 'out'), flags);
      const status = await lockStatus(loaded);
      let graph: DependencyGraph;
      let source: 'lock' | 'resolved';
      if (status.state === 'fresh') {
        graph = lockAsResolution(status.lock);
        source = 'lock';
      } else {
        if (!flags.quiet && !flags.json) {
          process.stderr.write(
            status.state === 'stale'
              ? `note: ${status.reason}; answering from a fresh resolution\n`
              : `note: no jeos.lock in ${loaded.dir}; answering from a fresh resolution (jeos lock writes one)\n`,
          );
        }
        const index = await openArchive(await archiveSettings(flags, loaded.config.debian));
        graph = resolve(index, lockRequest(loaded.config));
        source = 'resolved';
      }
      const paths = whyPaths(graph, name);
      if (!paths.length) {
        throw new JeosError('E_NOT_IN_IMAGE', `${name} is not in the image of ${loaded.path}`, {
          hint: `nothing the workload needs pulls it in; jeos show ${name} tells what it is`,
        });
      }
      if (flags.json) return printJson({ package: name, source, lockState: status.state, paths });
      for (const p of paths) console.log(p.join(' → '));
    });
}

async function whyPath(path: string, outDir: string, flags: { vm?: boolean; json?: boolean }): Promise<void> {
  await recoverOutputDir(outDir);
  const data = await readTrimExplanations(outDir);
  if (!data) {
    throw new JeosError('E_WHY_NO_TRIM', `${join(outDir, TRIM_FILE)} does not exist`, {
      hint: 'jeos why /PATH explains a trimmed build: run jeos build first (trim is on unless trim.enabled is false or --no-trim)',
    });
  }
  const tree = flags.vm ? 'vm' : 'image';
  const explanation = data[tree];
  if (!explanation) {
    throw new JeosError('E_WHY_NO_TRIM', `the last build has no trimmed ${tree === 'vm' ? 'VM' : 'container'} image`, {
      hint: tree === 'vm' ? 'add vm to outputs: in jeos.yaml and build again' : 'build again without --no-trim',
    });
  }
  const result = explainPath(explanation, path);
  if (flags.json) return printJson({ tree, ...result });
  if (result.state === 'absent') {
    throw new JeosError('E_NOT_IN_IMAGE', `${result.path} is not in the ${tree === 'vm' ? 'VM' : 'container'} image, and no package of it ships that path`, {
      hint: `check the spelling; jeos search ${result.path} tells which package of the archive ships it`,
    });
  }
  if (result.state === 'dropped') {
    console.log(`${result.path} was dropped by the trim: it belongs to ${result.droppedFrom}, and nothing the workload runs reaches it.`);
    console.log(`To keep it, add to jeos.yaml:\n  trim:\n    keep: [${result.path}]`);
    return;
  }
  console.log(`${result.path} is in the ${tree === 'vm' ? 'VM' : 'container'} image:`);
  for (const step of result.chain) console.log(`  ${step.path}${step.pkg ? ` (${step.pkg})` : ''}: ${describeReason(step)}`);
}
