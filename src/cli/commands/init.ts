import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { openArchive } from '../../archive/open.js';
import { OUTPUT_FORMATS } from '../../config/schema.js';
import { checkInitTarget, initImage } from '../../init/index.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { formatKiB, printJson } from '../format.js';

interface InitFlags extends ArchiveFlags {
  from: string;
  name?: string;
  force?: boolean;
  root?: string;
  outputs?: string[];
}

const outputList = (v: string) => {
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = list.find((x) => !(OUTPUT_FORMATS as readonly string[]).includes(x));
  if (bad || !list.length) throw new InvalidArgumentError(`a comma-separated list of ${OUTPUT_FORMATS.join(', ')}`);
  return list;
};

export function registerInit(program: Command): void {
  withArchiveOptions(
    program
      .command('init')
      .argument('[dir]', 'directory to write jeos.yaml and jeos.lock into (created when missing)', '.')
      .description('write a starting jeos.yaml and jeos.lock for a package, a program on this machine, or a command line')
      .requiredOption('--from <what>', 'a Debian package name, an absolute path to a program, or a command line (quoted)')
      .option('--name <name>', 'image name (default: the package or program name)')
      .option('--force', 'replace an existing jeos.yaml and jeos.lock')
      .option('--root <dir>', 'find the program, its libraries and the dpkg database under this root file system', '/')
      .option('--outputs <list>', `image formats to write (${OUTPUT_FORMATS.join(',')})`, outputList),
  )
    .addHelpText(
      'after',
      `
--from is read as:
  a package name   its service unit's ExecStart= (else its one program) is the command
  a path           the program on this machine; it and its libraries are mapped to
                   Debian packages (dpkg database, else the archive's Contents index);
                   files no package ships are copied into DIR/files/
  a command line   the first word is looked up on the PATH, then as a path; the
                   arguments are kept
Known programs (nginx, redis-server, memcached, …) get foreground arguments, ports
and a health check from a small table (docs/init.md).

Examples:
  jeos init web --from nginx
  jeos init cache --from 'redis-server --port 6380'
  jeos init tool --from /usr/local/bin/mytool --force`,
    )
    .action(async (dir: string, flags: InitFlags) => {
      // Cheap checks first: an existing jeos.yaml fails before the archive is read.
      await checkInitTarget(dir, flags.force);
      const settings = await archiveSettings(flags, flags.config === undefined ? {} : undefined);
      const index = await openArchive(settings);
      const quiet = !!(flags.json || flags.quiet);
      const result = await initImage(
        {
          index,
          root: resolve(flags.root ?? '/'),
          path: (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter(Boolean),
          cacheDir: settings.cacheDir,
          offline: settings.offline,
          timeouts: settings.timeouts,
          onProgress: quiet ? undefined : (m) => process.stderr.write(`${m}\n`),
        },
        dir,
        {
          from: flags.from,
          name: flags.name,
          force: flags.force,
          suites: index.suites.map((s) => s.suite),
          architecture: index.architecture,
          outputs: flags.outputs ?? ['tar', 'oci'],
          mirror: flags.mirror,
          securityMirror: flags.securityMirror,
        },
      );
      const { plan, lock } = result;
      if (flags.json) {
        return printJson({
          dir: result.dir,
          config: result.configPath,
          lockfile: result.lockPath,
          source: plan.source,
          name: plan.name,
          packages: plan.packages,
          command: plan.command ?? null,
          pre: plan.pre,
          user: plan.user ?? null,
          env: plan.env,
          environmentFiles: plan.environmentFiles ?? [],
          directories: plan.directories ?? [],
          capabilities: plan.capabilities ?? [],
          workdir: plan.workdir ?? null,
          ports: plan.ports,
          healthcheck: plan.healthcheck ?? null,
          files: [...plan.inline.map((f) => ({ path: f.path, inline: true })), ...plan.hostFiles.map((f) => ({ path: f.path, copiedFrom: f.hostPath, mode: f.mode }))],
          choices: plan.choices,
          notes: plan.notes,
          locked: { packages: lock.packages.length, totalInstalledSize: lock.totalInstalledSize },
        });
      }
      console.log(`jeos init --from ${plan.source.from} (read as a ${plan.source.kind})`);
      for (const c of plan.choices) console.log(`  ${c.key.padEnd(12)} ${c.value}\n  ${''.padEnd(12)} (${c.why})`);
      for (const n of plan.notes) console.log(`note: ${n}`);
      console.log(`wrote ${result.configPath} and ${result.lockPath} (${lock.packages.length} packages, ${formatKiB(lock.totalInstalledSize)} installed)`);
      console.log(`next: jeos build ${dir} && jeos test ${dir} --container`);
    });
}
