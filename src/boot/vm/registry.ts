/**
 * The VMs `jeos run` has running, by name, so that another jeos process can reach them:
 * `jeos audit --against vm:NAME`. Each one has, in the user's runtime directory
 * ($XDG_RUNTIME_DIR/jeos-vms, else the temporary directory's), NAME.json (who runs it, which
 * build) and NAME.audit.sock, the socket QEMU listens on for the guest's audit port. Both
 * are removed when jeos run ends; an entry whose jeos run is gone is stale and is replaced.
 */
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { processAlive } from '../../util/process.js';

export interface RunningVm {
  name: string;
  /** jeos run's process, and QEMU's. */
  pid: number;
  qemuPid: number;
  /** The socket QEMU listens on for the guest's audit port. */
  auditSocket: string;
  /** The build output the VM was booted from. */
  outDir: string;
  /** SHA-256 of the jeos.lock of that build, when its build.json says. */
  lockDigest: string | null;
  started: string;
}

/** The guest's virtio-serial port jeos audit talks to (src/vm/busybox/audit-agent.ts answers on it). */
export const AUDIT_PORT_NAME = 'org.jeos.audit';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function vmRegistryDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_RUNTIME_DIR || tmpdir(), 'jeos-vms');
}


async function readEntry(dir: string, name: string): Promise<RunningVm | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as RunningVm;
  } catch {
    return undefined;
  }
}

export function checkVmName(name: string): void {
  if (!NAME.test(name)) {
    throw new JeosError('E_VM_NAME', `${JSON.stringify(name)} is not a VM name`, {
      hint: 'a name is letters, digits, ., _ and -, starting with a letter or digit, at most 63 characters',
    });
  }
}

/**
 * Takes NAME for a VM about to start: its socket path, then `record` once QEMU runs and
 * `release` when it is gone. A name another live jeos run holds is refused.
 */
export async function claimVmName(name: string, dir: string): Promise<{ auditSocket: string; record(vm: Omit<RunningVm, 'name' | 'auditSocket' | 'pid' | 'started'>): Promise<void>; release(): Promise<void> }> {
  checkVmName(name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const held = await readEntry(dir, name);
  if (held && processAlive(held.pid) && held.pid !== process.pid) {
    throw new JeosError('E_VM_NAME_IN_USE', `a VM named ${name} is running already (jeos run, pid ${held.pid}, from ${held.outDir})`, {
      hint: 'give this one another name: jeos run --name NAME',
    });
  }
  const auditSocket = join(dir, `${name}.audit.sock`);
  await rm(auditSocket, { force: true });
  await rm(join(dir, `${name}.json`), { force: true });
  return {
    auditSocket,
    async record(vm) {
      const entry: RunningVm = { name, pid: process.pid, auditSocket, started: new Date().toISOString(), ...vm };
      const tmp = join(dir, `.${name}.json.${process.pid}`);
      await writeFile(tmp, JSON.stringify(entry, null, 2) + '\n', { mode: 0o600 });
      await rename(tmp, join(dir, `${name}.json`));
    },
    async release() {
      const now = await readEntry(dir, name);
      if (now && now.pid !== process.pid) return; // another run took the name over
      await rm(join(dir, `${name}.json`), { force: true });
      await rm(auditSocket, { force: true });
    },
  };
}

/** The VM jeos run runs under NAME; E_AUDIT_NO_VM when there is none (or its jeos run is gone). */
export async function findRunningVm(name: string, dir: string): Promise<RunningVm> {
  checkVmName(name);
  const entry = await readEntry(dir, name);
  if (!entry || !processAlive(entry.pid) || !processAlive(entry.qemuPid)) {
    throw new JeosError('E_AUDIT_NO_VM', `no VM named ${name} is running (looked in ${dir})`, {
      hint: 'start it with jeos run DIR (its name is jeos.yaml\'s name unless --name gives one), and audit it from another terminal',
    });
  }
  return entry;
}
