import type { Command } from 'commander';
import { candidateOf, providersOf, versionsOf } from '../../archive/candidates.js';
import { openArchive } from '../../archive/open.js';
import type { PackageRecord } from '../../archive/packages.js';
import { formatAlternatives, parseRelations } from '../../archive/relations.js';
import { JeosError } from '../../errors.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { formatBytes, formatKiB, printJson, table } from '../format.js';

const list = (field: string | undefined) => parseRelations(field).map(formatAlternatives);

export function packageJson(p: PackageRecord, others: PackageRecord[]) {
  return {
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    suite: p.suite,
    component: p.component,
    installedSize: p.installedSize,
    size: p.size,
    depends: list(p.depends),
    preDepends: list(p.preDepends),
    recommends: list(p.recommends),
    suggests: list(p.suggests),
    provides: list(p.provides),
    conflicts: list(p.conflicts),
    breaks: list(p.breaks),
    multiArch: p.multiArch ?? null,
    essential: p.essential ?? false,
    priority: p.priority ?? null,
    section: p.section ?? null,
    source: p.source ?? null,
    filename: p.filename,
    sha256: p.sha256,
    description: p.description ?? null,
    otherVersions: others.map((o) => ({ version: o.version, suite: o.suite, architecture: o.architecture })),
  };
}

export function registerShow(program: Command): void {
  withArchiveOptions(
    program
      .command('show')
      .argument('<package>', 'package name')
      .description('show the candidate version of a package: size, dependencies, provides, suite'),
  )
    .addHelpText('after', '\nExamples:\n  jeos show nginx\n  jeos show nginx --suite bookworm --json')
    .action(async (name: string, flags: ArchiveFlags) => {
      const index = await openArchive(await archiveSettings(flags));
      const versions = versionsOf(index, name);
      const p = candidateOf(index, name);
      if (!p) {
        const providers = providersOf(index, name);
        if (providers.length) {
          throw new JeosError('E_PACKAGE_VIRTUAL', `${name} is a virtual package, provided by ${providers.map((x) => x.name).join(', ')}`, {
            hint: `show one of them, for example: jeos show ${providers[0]!.name}`,
          });
        }
        throw new JeosError('E_PACKAGE_NOT_FOUND', `no package ${name} for ${index.architecture} in ${index.suites.map((s) => s.suite).join(', ')}`, {
          hint: `search for it: jeos search ${name}`,
        });
      }
      const others = versions.slice(1);
      if (flags.json) return printJson(packageJson(p, others));
      const rows: string[][] = [
        ['version', `${p.version} (${p.suite}/${p.component}, ${p.architecture})`],
        ['installed size', `${formatKiB(p.installedSize)} (${p.installedSize} KiB)`],
        ['download size', formatBytes(p.size)],
      ];
      const add = (label: string, field: string | undefined) => {
        const items = list(field);
        if (items.length) rows.push([label, items.join(', ')]);
      };
      add('pre-depends', p.preDepends);
      add('depends', p.depends);
      add('recommends', p.recommends);
      add('provides', p.provides);
      add('conflicts', p.conflicts);
      add('breaks', p.breaks);
      if (p.multiArch) rows.push(['multi-arch', p.multiArch]);
      if (p.essential) rows.push(['essential', 'yes']);
      rows.push(['section / priority', `${p.section ?? '-'} / ${p.priority ?? '-'}`]);
      if (others.length) rows.push(['other versions', others.map((o) => `${o.version} (${o.suite})`).join(', ')]);
      console.log(`${p.name}: ${p.description ?? ''}`);
      console.log(table(rows.map(([k, v]) => [`  ${k}`, v!])));
    });
}
