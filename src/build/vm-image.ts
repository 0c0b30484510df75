/**
 * The build's vm step: the VM's own tree (the image's packages plus what a VM adds,
 * such as systemd) gets the trimmed kernel and the system setup it boots with. The
 * container outputs keep the image's tree without any of it.
 */
import { readFile } from 'node:fs/promises';
import { argv } from '../boot/health.js';
import type { Config } from '../config/schema.js';
import type { ConfigureReport } from '../configure/index.js';
import type { FetchedPackage } from '../fetch/index.js';
import type { ImageTree } from '../tree/index.js';
import type { TrimRecord, TrimResult } from '../trim/index.js';
import { addKernel, prepareKernel, setupBusyboxInit, vmCmdline, setupVmSystem, VM_EXCLUDED_DIRS, type BusyboxSystemReport, type ExcludeResult, type VmSystemReport } from '../vm/index.js';

export interface VmBuild {
  tree: ImageTree;
  trim?: TrimResult;
  cmdline: string;
  record: VmRecord;
}

/** build.json's `vm`: the kernel, the modules kept and what the system setup did. */
export interface VmRecord {
  kernel: { package: string; version: string; release: string };
  modules: { kept: string[]; builtin: string[]; droppedFiles: number; droppedBytes: number; keptBytes: number };
  cmdline: string;
  system: VmSystemReport | BusyboxSystemReport;
  /** Untrimmed VMs: documentation and translations left out of the initramfs (copyright files stay). */
  excluded?: { paths: string[]; files: number; bytes: number };
  /** The file-level trim of the VM's tree (absent when trim is off). */
  trim?: TrimRecord;
  /** Maintainer-script steps not reproduced in the VM's tree (its packages include the image's). */
  notReproduced: Array<{ pkg: string; script: string; commands: string[] }>;
}

/** `nginx.example` → `nginx-example`: a host name from the image name. */
export function hostnameOf(config: Config): string {
  return config.vm.hostname ?? config.name.replace(/\./g, '-').slice(0, 63).replace(/-+$/, '');
}

/**
 * Finish the VM's tree (its packages unpacked and configured, the workload's files
 * added): copy in the trimmed kernel and set up the system it boots.
 */
export async function makeVmImage(
  vmTree: ImageTree,
  made: { configured: ConfigureReport; excluded: ExcludeResult | undefined },
  kernelDeb: FetchedPackage,
  config: Config,
  options: { sourceDateEpoch: number; cacheDir: string; trim?: (tree: ImageTree) => TrimResult },
): Promise<VmBuild> {
  const label = `${kernelDeb.pkg.name}_${kernelDeb.pkg.version}_${kernelDeb.pkg.architecture}`;
  const kernel = await prepareKernel({ label, bytes: await readFile(kernelDeb.path) }, {
    architecture: config.debian.architecture,
    cacheDir: options.cacheDir,
    modules: config.vm.modules,
  });
  addKernel(vmTree, kernel);
  const w = config.workload;
  const modules = kernel.trim.keep.filter((m) => m.why.includes('wanted')).map((m) => m.name);
  const workload = w.command
    ? {
        description: config.description ? `${config.description} (jeos workload)` : `${config.name} (jeos workload)`,
        command: argv(w.command),
        user: w.user,
        workdir: w.workdir,
        env: w.env,
        restart: w.restart,
      }
    : undefined;
  const system =
    config.vm.init === 'busybox'
      ? setupBusyboxInit(vmTree, {
          hostname: hostnameOf(config),
          modules,
          sourceDateEpoch: options.sourceDateEpoch,
          ...(workload ? { workload: { ...workload, name: config.name } } : {}),
        })
      : setupVmSystem(vmTree, {
          hostname: hostnameOf(config),
          modules,
          root: config.vm.root,
          network: config.vm.network,
          debug: config.vm.debug,
          sourceDateEpoch: options.sourceDateEpoch,
          ...(workload ? { workload: { ...workload, unit: `${config.name}.service` } } : {}),
        });
  // Trimmed after the boot setup, so that the units it enables count as entry points.
  const trim = options.trim?.(vmTree);
  const cmdline = vmCmdline(config.vm.cmdline, { root: config.vm.root, init: config.vm.init, hostname: hostnameOf(config), sysctl: system.sysctl.args });
  const keptBytes = kernel.trim.keep.reduce((sum, m) => sum + (kernel.tree.readFile(m.path)?.length ?? 0), 0);
  return {
    tree: vmTree,
    ...(trim ? { trim } : {}),
    cmdline,
    record: {
      kernel: { package: kernelDeb.pkg.name, version: kernelDeb.pkg.version, release: kernel.version },
      modules: {
        kept: kernel.trim.keep.map((m) => m.name).sort(),
        builtin: kernel.trim.builtin,
        droppedFiles: kernel.trim.drop.length,
        droppedBytes: kernel.trim.droppedBytes,
        keptBytes,
      },
      cmdline,
      system,
      ...(made.excluded ? { excluded: { paths: VM_EXCLUDED_DIRS.map((d) => `/${d}`), ...made.excluded } } : {}),
      ...(trim ? { trim: trim.record } : {}),
      notReproduced: made.configured.scripts
        .filter((s) => s.notReproduced.length)
        .map((s) => ({ pkg: s.pkg, script: s.script, commands: s.notReproduced })),
    },
  };
}
