/**
 * The VM's variant: the image's packages plus what a VM adds (systemd or BusyBox,
 * libkmod, …), the trimmed kernel and the system setup it boots with, trimmed
 * after the boot setup so that the units it enables count as entry points.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../../config/schema.js';
import {
  addKernel,
  excludeDocumentation,
  prepareKernel,
  setupBusyboxInit,
  setupVmSystem,
  vmCmdline,
  DISK_MODULES,
  type DiskHealthcheck,
  VM_EXCLUDED_DIRS,
} from '../../vm/index.js';
import { placeBootLoader } from '../../tree/index.js';
import { argv } from '../../util/argv.js';
import { configureStep, trimStep, unpackStep, workloadStep } from '../steps.js';
import { preSteps } from '../first-start.js';
import { unitSetupStep } from '../unit-setup.js';
import { imageUpdateSpec } from './image-update.js';
import { JeosError } from '../../errors.js';
import type { Step, Variant, VariantState } from '../variant.js';

/** `nginx.example` → `nginx-example`: a host name from the image name. */
export function hostnameOf(config: Config): string {
  return config.vm.hostname ?? config.name.replace(/\./g, '-').slice(0, 63).replace(/-+$/, '');
}

function vmParts(state: VariantState): NonNullable<VariantState['vm']> {
  if (!state.vm) throw new Error('the VM variant ran a step before its kernel step');
  return state.vm;
}

/** Untrimmed, a VM still leaves out documentation: in RAM for the machine's life, it is never read. Before the workload's files, which always stay. */
const documentationStep: Step = {
  name: 'documentation',
  when: (ctx) => !ctx.trim.enabled,
  async run(_ctx, state) {
    const excluded = excludeDocumentation(state.tree);
    state.excluded = { paths: VM_EXCLUDED_DIRS.map((d) => `/${d}`), ...excluded };
    return `${excluded.files} files left out`;
  },
};

/** The locked kernel, with only the modules the image needs. */
const kernelStep: Step = {
  name: 'kernel',
  async run(ctx, state) {
    const deb = ctx.debOf(ctx.lock.kernel!);
    const kernel = await prepareKernel(
      { label: `${deb.pkg.name}_${deb.pkg.version}_${deb.pkg.architecture}`, bytes: await readFile(deb.path) },
      {
        architecture: ctx.lock.architecture,
        cacheDir: ctx.settings.cacheDir,
        // A disk's VM mounts the ESP and /var and arms a watchdog: their modules are kept and loaded by name.
        modules: ctx.config.outputs.includes('disk') ? [...new Set([...ctx.config.vm.modules, ...DISK_MODULES])] : ctx.config.vm.modules,
      },
    );
    addKernel(state.tree, kernel);
    state.vm = {
      kernel: { package: deb.pkg.name, version: deb.pkg.version, release: kernel.version },
      modules: {
        kept: kernel.trim.keep.map((m) => m.name).sort(),
        builtin: kernel.trim.builtin,
        droppedFiles: kernel.trim.drop.length,
        droppedBytes: kernel.trim.droppedBytes,
        keptBytes: kernel.trim.keep.reduce((sum, m) => sum + (kernel.tree.readFile(m.path)?.length ?? 0), 0),
      },
      modulesDir: kernel.modulesDir,
      wanted: kernel.trim.keep.filter((m) => m.why.includes('wanted')).map((m) => m.name),
      cmdline: '',
    };
    return `kernel ${kernel.version}, ${kernel.trim.keep.length} modules kept (${kernel.trim.drop.length} dropped)`;
  },
};

/** A disk image boots systemd-boot from the locked systemd-boot-efi package: it goes to /boot, beside the kernel. */
const bootLoaderStep: Step = {
  name: 'boot-loader',
  when: (ctx) => ctx.config.outputs.includes('disk'),
  async run(ctx, state) {
    const placed = placeBootLoader(state.tree, ctx.lock.architecture);
    return `systemd-boot in /${placed.path} (${placed.size} bytes)`;
  },
};

/** The init, the workload's unit, the network and the kernel command line. */
const systemStep: Step = {
  name: 'system',
  async run(ctx, state) {
    const config = ctx.config;
    const vm = vmParts(state);
    const w = config.workload;
    const workload = w.command
      ? {
          description: `${config.description ?? config.name} (jeos workload)`,
          command: argv(w.command),
          user: w.user,
          workdir: w.workdir,
          env: w.env,
          restart: w.restart,
          pre: preSteps(w.pre),
          environmentFiles: w.environmentFiles,
          runtimeDirectories: w.directories.filter((d) => d.path.startsWith('/run/')).map((d) => ({ path: d.path, mode: (d.mode ?? '0755').padStart(4, '0') })),
          capabilities: w.capabilities,
        }
      : undefined;
    if (w.pre.length && config.vm.init === 'busybox') {
      throw new JeosError('E_WORKLOAD_PRE', 'workload.pre is run by systemd (ExecStartPre=) in a VM, and vm.init: busybox has no such step', { hint: 'use vm.init: systemd, or run the steps from a script that is the workload\'s command' });
    }
    const common = { hostname: hostnameOf(config), modules: vm.wanted, sourceDateEpoch: ctx.epoch };
    // update: the channel's transfer files and key, for the disk's VM only (the schema requires outputs: [disk]).
    const update = await imageUpdateSpec(config, ctx.loaded.dir);
    const system =
      config.vm.init === 'busybox'
        ? setupBusyboxInit(state.tree, { ...common, ...(workload ? { workload: { ...workload, name: config.name } } : {}) })
        : setupVmSystem(state.tree, {
            ...common,
            root: config.vm.root,
            network: config.vm.network,
            debug: config.vm.debug,
            ...(config.outputs.includes('disk') ? { disk: { healthcheck: diskHealthcheck(config), ...(update ? { update } : {}) } } : {}),
            ...(workload ? { workload: { ...workload, unit: `${config.name}.service` } } : {}),
          });
    vm.system = system;
    vm.cmdline = vmCmdline(config.vm.cmdline, { root: config.vm.root, init: config.vm.init, hostname: common.hostname, sysctl: system.sysctl.args });
    return `${config.vm.init} init, ${system.enabled.length} units enabled`;
  },
};

/** The health check boot assessment runs inside the VM, from jeos.yaml's. */
function diskHealthcheck(config: Config): DiskHealthcheck | undefined {
  const h = config.workload.healthcheck;
  if (!h) return undefined;
  return { ...h, ...(h.command !== undefined ? { command: argv(h.command) } : {}) } as DiskHealthcheck;
}

export const vmVariant: Variant = {
  name: 'vm',
  steps: [
    // lockStatus makes a lock without vmPackages and kernel stale when the config asks for a VM.
    unpackStep((lock) => [...lock.packages, ...lock.vmPackages!]),
    configureStep,
    documentationStep,
    workloadStep,
    kernelStep,
    bootLoaderStep,
    systemStep,
    trimStep((ctx) => ctx.config.vm.init),
    unitSetupStep('vm'),
  ],
};
