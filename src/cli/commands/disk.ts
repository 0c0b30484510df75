import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { addVersion, DEFAULT_KEEP, diskStatus, type AddResult, type DiskStatus } from '../../lifecycle/disk/index.js';
import { recoverOutputDir } from '../../outputs/index.js';
import { formatBytes, printJson, table } from '../format.js';

function parseKeep(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError('a whole number, 2 or more');
  return n;
}

export function registerDisk(program: Command): void {
  const disk = program.command('disk').description('versions on a stopped disk image: add one, show them (no root, no mounting)');
  disk
    .command('add')
    .argument('<disk>', 'the disk image to add to (a raw disk.img, not running)')
    .argument('<dir>', 'directory holding jeos.yaml, whose out/ jeos build --format disk wrote')
    .option('--out <dir>', 'the build output to take the version from (default: DIR/out)')
    .option('--keep <n>', `versions kept on the disk, the new one included (default ${DEFAULT_KEEP})`, parseKeep)
    .option('--json', 'print machine-readable JSON on stdout')
    .description('add the version built in DIR to DISK: it boots next, with 3 tries before the disk falls back')
    .addHelpText(
      'after',
      `
The version must be newer than every version on the disk; its boot entry is
jeos-<version>+3.conf. The add is made on a copy beside the disk, renamed over it
at the end: an add that is interrupted (even kill -9) leaves the disk byte for byte
as it was, and the next add removes the copy. Beyond --keep versions the oldest go
(bad ones first), never the newest one marked good.

Examples:
  jeos disk add fleet/disk.img examples/nginx
  jeos disk add fleet/disk.img . --keep 2 --json`,
    )
    .action(async (diskPath: string, dir: string, flags: { out?: string; keep?: number; json?: boolean }) => {
      const outDir = resolve(flags.out ?? join(dir, 'out'));
      await recoverOutputDir(outDir);
      const result = await addVersion({ disk: diskPath, outDir, ...(flags.keep ? { keep: flags.keep } : {}) });
      if (flags.json) return printJson({ ok: true, ...result });
      printAdd(result);
    });
  disk
    .command('status')
    .argument('<disk>', 'a jeos disk image (raw)')
    .option('--json', 'print machine-readable JSON on stdout')
    .description('list the versions on a disk: good, bad, untried or trying, tries left, built from which lock, which boots next')
    .action(async (diskPath: string, flags: { json?: boolean }) => {
      const status = await diskStatus(diskPath);
      if (flags.json) return printJson({ ok: true, ...status });
      printStatus(status);
    });
}

function printAdd(r: AddResult): void {
  if (r.staleCopiesRemoved.length || r.leftoversRemoved.length || r.reclaimedBytes) console.log(`cleaned up an interrupted add: ${[...r.staleCopiesRemoved, ...r.leftoversRemoved, ...(r.reclaimedBytes ? [`${formatBytes(r.reclaimedBytes)} of lost clusters`] : [])].join(', ')}`);
  for (const v of r.removed) console.log(`removed ${v}`);
  console.log(`added   ${r.version} (${r.entry})`);
  console.log(`next    ${r.next}`);
}

function printStatus(s: DiskStatus): void {
  const rows = [['', 'VERSION', 'STATE', 'TRIES LEFT', 'LOCK', 'SIZE']];
  for (const v of s.versions) {
    rows.push([v.next ? '>' : '', v.version, v.state, v.triesLeft === null ? '-' : String(v.triesLeft), v.lockDigest ? v.lockDigest.slice(0, 12) : '?', formatBytes(v.bytes)]);
  }
  console.log(table(rows));
  console.log(`\nnext boot: ${s.next ?? 'none'}; ESP ${formatBytes(s.esp.freeBytes)} free of ${formatBytes(s.esp.bytes)}`);
  if (s.leftovers.length) console.log(`left by an interrupted add (the next add removes them): ${s.leftovers.join(', ')}`);
}
