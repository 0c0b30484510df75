// Hostile projects: jeos.yaml and the files it names, and what a cloned project can carry in out/.
import { spawnSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_YAML, type HostileCase, type HostileContext } from '../harness.js';

const mkfifo = (path: string) => {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr}`);
};
const site = (ctx: HostileContext) => join(ctx.project, 'site/index.html');
const withSource = (source: string) => PROJECT_YAML.replace('source: site/index.html', `source: ${source}`);

export const projectCases: HostileCase[] = [
  {
    name: 'a workload.files source that is a symlink to a host file (as to /etc/shadow)',
    code: 'E_CONFIG_SOURCE_OUTSIDE',
    mention: /site\/index\.html leads out of the project/,
    plant: async (ctx) => {
      await rm(site(ctx));
      await symlink(join(ctx.decoy, 'secret'), site(ctx));
    },
  },
  {
    name: 'a workload.files source that climbs out with ..',
    code: 'E_CONFIG_SOURCE_OUTSIDE',
    mention: /\.\.\/decoy\/secret is outside the project/,
    plant: (ctx) => writeFile(join(ctx.project, 'jeos.yaml'), withSource('../decoy/secret')),
  },
  {
    name: 'a workload.files source that is a symlink to /dev/zero',
    code: 'E_CONFIG_SOURCE_OUTSIDE',
    mention: /leads out of the project, to \/dev\/zero/,
    plant: async (ctx) => {
      await rm(site(ctx));
      await symlink('/dev/zero', site(ctx));
    },
  },
  {
    name: 'a workload.files source below a directory symlink that leads out',
    code: 'E_CONFIG_SOURCE_OUTSIDE',
    plant: async (ctx) => {
      await rm(join(ctx.project, 'site'), { recursive: true });
      await writeFile(join(ctx.decoy, 'index.html'), 'outside\n');
      await symlink(ctx.decoy, join(ctx.project, 'site'));
    },
  },
  {
    name: 'a workload.files source that is a FIFO (a read would wait for ever)',
    code: 'E_CONFIG_SOURCE_NOT_A_FILE',
    mention: /is a FIFO/,
    plant: async (ctx) => {
      await rm(site(ctx));
      mkfifo(site(ctx));
    },
  },
  {
    name: 'a workload.files source that is a directory',
    code: 'E_CONFIG_SOURCE_NOT_A_FILE',
    mention: /is a directory/,
    plant: (ctx) => writeFile(join(ctx.project, 'jeos.yaml'), withSource('site')),
  },
  {
    name: 'a missing workload.files source, found by jeos config before any slow work',
    code: 'E_CONFIG_SOURCE_MISSING',
    args: (ctx) => ['config', ctx.project],
    plant: (ctx) => rm(site(ctx)),
  },
  {
    name: 'jeos config refuses a source outside the project',
    code: 'E_CONFIG_SOURCE_OUTSIDE',
    args: (ctx) => ['config', ctx.project],
    plant: (ctx) => writeFile(join(ctx.project, 'jeos.yaml'), withSource(join('..', 'decoy', 'secret'))),
  },
  {
    name: 'jeos.yaml is a FIFO',
    code: 'E_CONFIG_NOT_A_FILE',
    plant: async (ctx) => {
      await rm(join(ctx.project, 'jeos.yaml'));
      mkfifo(join(ctx.project, 'jeos.yaml'));
    },
  },
  {
    name: 'jeos.yaml is a symlink to a host file',
    code: 'E_CONFIG_OUTSIDE',
    plant: async (ctx) => {
      await writeFile(join(ctx.decoy, 'jeos.yaml'), PROJECT_YAML);
      await rm(join(ctx.project, 'jeos.yaml'));
      await symlink(join(ctx.decoy, 'jeos.yaml'), join(ctx.project, 'jeos.yaml'));
    },
  },
  {
    name: 'jeos.yaml of 2 MiB',
    code: 'E_CONFIG_TOO_LARGE',
    plant: (ctx) => writeFile(join(ctx.project, 'jeos.yaml'), PROJECT_YAML + `# ${'x'.repeat(2 << 20)}\n`),
  },
  {
    name: 'a YAML alias bomb',
    code: 'E_CONFIG_YAML',
    mention: /alias/i,
    plant: (ctx) => {
      const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
      return writeFile(join(ctx.project, 'jeos.yaml'), `${PROJECT_YAML}x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\n`);
    },
  },
  {
    name: 'a port beyond 65535, caught by jeos config',
    code: 'E_CONFIG_INVALID',
    mention: /workload\.ports/,
    args: (ctx) => ['config', ctx.project],
    plant: (ctx) => writeFile(join(ctx.project, 'jeos.yaml'), PROJECT_YAML.replace('ports: [8080]', 'ports: ["99999/tcp"]')),
  },
  {
    name: 'out/ is a symlink to a host directory',
    code: 'E_OUTPUT_DIR_SYMLINK',
    plant: async (ctx) => {
      await rm(join(ctx.project, 'out'), { recursive: true });
      await symlink(ctx.decoy, join(ctx.project, 'out'));
    },
  },
  {
    name: 'a planted .jeos-old- symlink to a host directory is left alone (its target is not moved into out/)',
    code: 'ok',
    plant: (ctx) => symlink(ctx.decoy, join(ctx.project, 'out', '.jeos-old-1-deadbeef')),
  },
  {
    name: 'a planted commit journal that is a symlink',
    code: 'E_OUTPUT_FOREIGN',
    plant: (ctx) => symlink(join(ctx.decoy, 'secret'), join(ctx.project, 'out', '.jeos-commit.json')),
  },
  {
    name: 'a planted .jeos-staging- directory holding a link out is removed without following it',
    code: 'ok',
    plant: async (ctx) => {
      const staging = join(ctx.project, 'out', '.jeos-staging-1-cafe');
      await mkdir(staging);
      await symlink(ctx.decoy, join(staging, 'oci'));
    },
  },
];
