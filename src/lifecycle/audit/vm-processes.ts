/**
 * Which processes of a running VM are drift. A VM runs many processes of its own (systemd,
 * journald, the workload and its helpers), so names alone say little; the cgroup does:
 * systemd puts every service's processes in the service's cgroup. A process is the image's
 * when it runs in the cgroup of a unit the image holds (its unit file is in the baseline
 * tree), or is PID 1, a kernel thread, or one of what jeos's /init starts before systemd
 * (which systemd moves into init.scope: the udhcpc loop and udhcpc). Anything else — a transient unit
 * (systemd-run), a login session, a process moved out of its unit — is drift. The audit
 * agent and what it runs to answer are left out.
 */
import type { ManifestEntry } from '../../record/index.js';
import type { Process } from './types.js';

/** What /init leaves running, which systemd moves into init.scope (command lines): its subshell that restarts udhcpc, and udhcpc. */
export const INIT_PROCESSES = ['/usr/bin/busybox sh /init', '/usr/bin/busybox udhcpc '];
const UNIT_DIRS = ['/etc/systemd/system/', '/usr/lib/systemd/system/', '/lib/systemd/system/', '/run/systemd/system/'];

/** The unit a cgroup path belongs to: the last path element that is a unit name (`nginx.service`, `session-1.scope`). */
export function unitOfCgroup(cgroup: string): string | undefined {
  const parts = cgroup.split('/').filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) if (/\.(service|scope|socket|mount|swap)$/.test(parts[i]!)) return parts[i];
  return undefined;
}

/** A unit's file names in the image: the unit itself and, for an instance, its template. */
function unitFiles(unit: string): string[] {
  const template = /^([^@]+@)[^.]*(\.[a-z]+)$/.exec(unit);
  return template ? [unit, `${template[1]}${template[2]}`] : [unit];
}

/**
 * `workload`: the workload's unit, whose processes must also have a name the workload's
 * command or health check has, or its main process has (the daemon a wrapper script exec'd):
 * as in a container, a shell or server it was made to start is drift.
 */
export function vmExtraProcesses(processes: Process[], baseline: ManifestEntry[], agentPid: number, workload?: { unit: string; names: string[] }): Process[] {
  const names = new Set(workload?.names.map((n) => n.slice(0, 15)));
  // The unit's main process: the first whose parent is outside the unit (a wrapper script may have exec'd a daemon: its name counts).
  const inWorkload = workload ? processes.filter((p) => unitOfCgroup(p.cgroup ?? '') === workload.unit) : [];
  const pids = new Set(inWorkload.map((p) => p.pid));
  const main = inWorkload.find((p) => !pids.has(p.ppid));
  if (main) names.add(main.name);
  const units = new Set<string>();
  for (const e of baseline) {
    const dir = UNIT_DIRS.find((d) => e.path.startsWith(d));
    if (dir && (e.type === 'file' || e.type === 'symlink') && !e.path.slice(dir.length).includes('/')) units.add(e.path.slice(dir.length));
  }
  const parent = new Map(processes.map((p) => [p.pid, p.ppid]));
  const fromAgent = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 0 && hops < 64; p = parent.get(p) ?? 0, hops++) if (p === agentPid) return true;
    return false;
  };
  return processes.filter((p) => {
    if (p.pid === 1 || fromAgent(p.pid)) return false;
    if (p.pid === 2 || p.ppid === 2) return false; // kthreadd and the kernel's threads
    const cgroup = p.cgroup ?? '';
    const unit = unitOfCgroup(cgroup);
    // systemd moves what ran before it into init.scope, with itself.
    if (cgroup === '/' || cgroup === '' || unit === 'init.scope') return !INIT_PROCESSES.some((c) => `${p.args} `.startsWith(c.endsWith(' ') ? c : `${c} `));
    if (!unit) return true;
    if (workload && unit === workload.unit && !names.has(p.name)) return true;
    return !unitFiles(unit).some((f) => units.has(f));
  });
}
