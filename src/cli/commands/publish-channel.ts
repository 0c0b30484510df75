import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_VALID_DAYS, promoteVersion, publishBuild, resignChannel, type PublishResult } from '../../lifecycle/channel/index.js';
import { recoverOutputDir } from '../../outputs/index.js';
import { printJson } from '../format.js';

function parseDays(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number of days');
  return n;
}

function printPublished(r: PublishResult, verb: string): void {
  const c = r.release.changes;
  console.log(`${verb} ${r.version} to ${r.channel}${r.previous ? ` (after ${r.previous})` : ' (its first version)'}`);
  console.log(`valid until ${r.validUntil}`);
  if (r.previous) {
    console.log(`packages: ${c.upgraded.length} upgraded, ${c.added.length} added, ${c.removed.length} removed${c.downgraded.length ? `, ${c.downgraded.length} downgraded` : ''}`);
    for (const u of c.upgraded) console.log(`  ${u.name} ${u.from} → ${u.to}${u.suite.endsWith('-security') ? ' (security)' : ''}`);
  }
  console.log(`versions: ${r.versions.join(', ')}`);
}

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .argument('[dir]', 'directory holding jeos.yaml, whose out/ jeos build --format disk wrote', '.')
    .requiredOption('--channel <dir>', 'the channel directory (made on the first publish); serve it with any static web server')
    .requiredOption('--key <dir>', 'the channel\'s key directory (jeos key new --out DIR)')
    .option('--out <dir>', 'the build output (default: DIR/out)')
    .option('--valid-days <days>', `days the release stays valid (default ${DEFAULT_VALID_DAYS}); re-sign before then`, parseDays)
    .option('--resign', 'no new version: give every release of the channel a new Valid-Until and sign it again')
    .option('--json', 'print machine-readable JSON on stdout')
    .description('add the disk image version built in DIR to a channel: payloads, a signed release.json, SHA256SUMS and its signature')
    .addHelpText(
      'after',
      `
The version (build.json's) must be newer than every version in the channel.
Payloads go first, the signed SHA256SUMS last, switched in by one rename: a reader
sees the channel before or after, never half a version (docs/channels.md).

Examples:
  jeos publish examples/nginx --channel /srv/updates/web/alpha --key keys/alpha
  jeos publish --resign --channel /srv/updates/web/alpha --key keys/alpha --valid-days 30`,
    )
    .action(async (dir: string, flags: { channel: string; key: string; out?: string; validDays?: number; resign?: boolean; json?: boolean }) => {
      if (flags.resign) {
        const r = await resignChannel({ channel: flags.channel, keyDir: flags.key, ...(flags.validDays ? { validDays: flags.validDays } : {}) });
        if (flags.json) return printJson({ ok: true, ...r });
        console.log(`re-signed ${r.versions.join(', ')} in ${r.channel}, valid until ${r.validUntil}`);
        return;
      }
      const outDir = resolve(flags.out ?? join(dir, 'out'));
      await recoverOutputDir(outDir);
      const r = await publishBuild({ projectDir: dir, outDir, channel: flags.channel, keyDir: flags.key, ...(flags.validDays ? { validDays: flags.validDays } : {}) });
      if (flags.json) return printJson({ ok: true, ...r });
      printPublished(r, 'published');
    });
}

export function registerPromote(program: Command): void {
  program
    .command('promote')
    .argument('<version>', 'a version published in the --from channel')
    .requiredOption('--from <dir>', 'the channel it was published to (alpha)')
    .requiredOption('--to <dir>', 'the channel to add it to (beta, stable)')
    .requiredOption('--key <dir>', 'the target channel\'s key directory: its SHA256SUMS and the release are signed anew')
    .option('--from-key <path>', 'the source channel\'s channel.pub: its SHA256SUMS must be signed by it')
    .option('--valid-days <days>', `days the release stays valid in the target (default ${DEFAULT_VALID_DAYS})`, parseDays)
    .option('--json', 'print machine-readable JSON on stdout')
    .description('copy a published version to another channel: payloads byte for byte, release and SHA256SUMS signed with the target\'s key')
    .action(async (version: string, flags: { from: string; to: string; key: string; fromKey?: string; validDays?: number; json?: boolean }) => {
      const r = await promoteVersion({ version, from: flags.from, to: flags.to, keyDir: flags.key, ...(flags.fromKey ? { fromKey: flags.fromKey } : {}), ...(flags.validDays ? { validDays: flags.validDays } : {}) });
      if (flags.json) return printJson({ ok: true, ...r });
      printPublished(r, 'promoted');
    });
}
