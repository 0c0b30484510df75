import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { isJeosError } from '../../errors.js';
import { audit, checkOutDir, DEFAULT_STATE_DIRS, type AuditPolicy, type AuditReport } from '../../lifecycle/audit/index.js';
import { recoverOutputDir } from '../../outputs/index.js';
import { argv } from '../../util/argv.js';
import { printJson } from '../format.js';
import { reportError } from '../report-error.js';
import { guestPorts } from './run.js';

/** Exit statuses: 0 clean, 1 drift, 2 usage (as every command), 3 could not audit. */
export const AUDIT_EXIT = { clean: 0, drift: 1, usage: 2, error: 3 } as const;

interface AuditFlags {
  against: string;
  vm?: boolean;
  out?: string;
  json?: boolean;
}

const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** What jeos.yaml declares about the running workload: its state, ports and processes. */
export function auditPolicy(config: Config): AuditPolicy {
  const names = [config.name, ...config.workload.packages.map((p) => p.split(/[=/]/)[0]!)];
  const command = config.workload.command ? argv(config.workload.command) : [];
  const check = config.workload.healthcheck?.command ? argv(config.workload.healthcheck.command) : [];
  return {
    stateDirs: [...new Set([...names.map((n) => `/var/lib/${n}`), ...DEFAULT_STATE_DIRS])],
    ports: guestPorts(config),
    processes: [command[0], check[0]].filter((c): c is string => !!c).map(base),
    ...(command.length ? { unit: `${config.name}.service` } : {}),
  };
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .argument('[dir]', 'directory holding jeos.yaml', '.')
    .requiredOption('--against <target>', 'what to audit: a root directory, a tar, an OCI layout, out/vm/initrd.img, root.img or out/disk.img (with --vm), container:NAME, or vm:NAME (a VM jeos run runs)')
    .option('--vm', "compare with the VM's tree of the manifest instead of the container image's")
    .option('--out <dir>', 'the build output whose record is the baseline (default: DIR/out)')
    .option('--json', 'print machine-readable JSON on stdout')
    .description('compare a deployed or unpacked image with the record of the build that made it: files, packages, units, setuid, and on a running container or VM its processes and sockets')
    .addHelpText(
      'after',
      `
The baseline is out/manifest.json (every path with type, mode, owner, size and
SHA-256). Changes under the state directories (/var/lib/<name>, /var/log,
/var/cache, /var/tmp, /run, /tmp) and, on a target that ran, what the kernel and
the runtime make at start (/proc, /sys, /dev, /etc/hosts, …) are listed apart and
are not drift. docs/audit.md has the details.

Exit status: 0 no drift, 1 drift, 2 usage error, 3 the audit could not be made.

Examples:
  jeos audit examples/nginx --against examples/nginx/out/rootfs.tar
  jeos audit . --against /srv/nginx-root --json
  jeos audit . --against out/oci
  jeos audit . --vm --against out/vm/initrd.img
  jeos audit . --vm --against out/disk.img
  jeos audit . --against container:web1
  jeos audit . --against vm:nginx        (jeos run . in another terminal)`,
    )
    .action(async (dir: string, flags: AuditFlags) => {
      try {
        const loaded = await loadConfig(dir);
        const outDir = resolve(flags.out ?? join(loaded.dir, 'out'));
        await checkOutDir(outDir);
        await recoverOutputDir(outDir);
        // A VM jeos run runs holds the VM's tree: vm:NAME needs no --vm.
        const tree = flags.vm || flags.against.startsWith('vm:') ? 'vm' : 'image';
        const report = await audit({ outDir, target: flags.against, tree, policy: auditPolicy(loaded.config) });
        if (flags.json) printJson({ ok: true, ...report });
        else process.stdout.write(formatReport(report));
        process.exitCode = report.clean ? AUDIT_EXIT.clean : AUDIT_EXIT.drift;
      } catch (e) {
        if (!isJeosError(e)) throw e;
        reportError(e, !!flags.json);
        process.exitCode = AUDIT_EXIT.error;
      }
    });
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatReport(r: AuditReport): string {
  const lines: string[] = [];
  const what = `${r.target.path} (${r.target.kind}${r.target.via ? `, ${r.target.via}` : ''}${r.target.running ? ', running' : ''})`;
  const tree = r.tree === 'vm' ? 'VM tree' : 'image tree';
  const c = r.counts;
  const found = [
    c.added && `${c.added} added`,
    c.removed && `${c.removed} removed`,
    c.changed && `${c.changed} changed`,
    c.packages && plural(c.packages, 'package'),
    c.units && plural(c.units, 'unit') + ' enabled',
    c.setuid && `${c.setuid} setuid/setgid`,
    c.processes && `${c.processes} process${c.processes === 1 ? '' : 'es'}`,
    c.sockets && plural(c.sockets, 'socket'),
  ].filter(Boolean);
  lines.push(r.clean ? `clean: ${what} matches the ${tree} of ${r.build.name}` : `drift: ${what} differs from the ${tree} of ${r.build.name}: ${found.join(', ')}`);
  for (const a of r.added) lines.push(`  added    ${a.path}  ${a.type} ${a.mode} ${a.uid}:${a.gid}${a.size !== undefined ? ` ${a.size} B` : ''}${a.target !== undefined ? ` -> ${a.target}` : ''}`);
  for (const a of r.removed) lines.push(`  removed  ${a.path}  ${a.type}${a.package ? ` (${a.package})` : ''}`);
  for (const ch of r.changed) {
    const detail = ch.changes.map((k) => {
      if (k === 'mode') return `mode ${ch.baseline.mode} -> ${ch.target.mode}`;
      if (k === 'owner') return `owner ${ch.baseline.uid}:${ch.baseline.gid} -> ${ch.target.uid}:${ch.target.gid}`;
      if (k === 'type') return `type ${ch.baseline.type} -> ${ch.target.type}`;
      if (k === 'target') return `target ${ch.baseline.target} -> ${ch.target.target}`;
      if (k === 'device') return `device ${ch.baseline.device} -> ${ch.target.device}`;
      return ch.baseline.size === ch.target.size ? 'content' : `content (${ch.baseline.size} -> ${ch.target.size} B)`;
    });
    lines.push(`  changed  ${ch.path}  ${detail.join(', ')}${ch.package ? ` (${ch.package})` : ''}`);
  }
  for (const p of r.packages) {
    const v = p.change === 'added' ? p.target : p.change === 'removed' ? p.baseline : p.baseline === p.target ? p.baseline : `${p.baseline} -> ${p.target}`;
    lines.push(`  package  ${p.package} ${p.change} (${v})${p.fields ? `: ${p.fields.join(', ')}` : ''}`);
  }
  for (const u of r.units) lines.push(`  unit     ${u.unit} enabled for ${u.wantedBy}  ${u.path}`);
  for (const s of r.setuid) lines.push(`  setuid   ${s.path}  ${s.mode} (${s.bits.join(', ')})`);
  for (const p of r.processes ?? []) lines.push(`  process  ${p.pid} ${p.name} (uid ${p.uid}): ${p.args}`);
  for (const s of r.sockets ?? []) lines.push(`  socket   ${s.protocol} ${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port} listening`);
  if (r.state.length) {
    lines.push(`state (not drift): ${plural(r.state.length, 'path')} under the state directories`);
    for (const s of r.state.slice(0, 20)) lines.push(`  ${s.change.padEnd(8)} ${s.path}`);
    if (r.state.length > 20) lines.push(`  … ${r.state.length - 20} more (--json lists them all)`);
  }
  if (r.runtime.length) lines.push(`runtime (not drift): ${plural(r.runtime.length, 'path')} the kernel or runtime made at start`);
  lines.push(`read ${r.timings.read} ms, compared ${r.timings.compare} ms`);
  return lines.join('\n') + '\n';
}
