/**
 * The memory jeos run and jeos test give a VM: --memory, else vm.memory when jeos.yaml sets it,
 * else what the built initramfs needs (vmMemoryFit: the default 256 MiB whenever that is enough).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { vmMemoryFit, type InitrdSizes, type VmMemoryFit } from '../boot/vm/memory.js';
import type { LoadedConfig } from '../config/load.js';

export interface VmMemory {
  memoryMiB: number;
  /** Whether jeos.yaml names vm.memory itself. */
  set: boolean;
  /** From build.json's initrd sizes, when the VM boots from an initramfs. */
  fit?: VmMemoryFit;
}

/** Whether jeos.yaml itself sets vm.memory (the parsed config has the default either way). */
async function setsVmMemory(path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return parseDocument(text).hasIn(['vm', 'memory']);
}

/** The initramfs sizes build.json records for out/vm, if any. */
export async function builtInitrd(outDir: string): Promise<InitrdSizes | undefined> {
  const built = JSON.parse(await readFile(join(outDir, 'build.json'), 'utf8').catch(() => '{}')) as { outputs?: Array<{ format?: string; vm?: { initrd?: InitrdSizes } }> };
  return built.outputs?.find((o) => o.format === 'vm')?.vm?.initrd;
}

export async function vmMemoryOf(loaded: LoadedConfig, outDir: string): Promise<VmMemory> {
  const set = await setsVmMemory(loaded.path);
  const initrd = await builtInitrd(outDir);
  const fit = initrd ? vmMemoryFit(initrd, loaded.config.vm.memory) : undefined;
  return { memoryMiB: set || !fit ? loaded.config.vm.memory : fit.chosenMiB, set, ...(fit ? { fit } : {}) };
}

/** The build's line about the VM's memory: what it needs, and what it will get. */
export function vmMemoryLine(m: VmMemory): string | undefined {
  if (!m.fit) return undefined;
  if (m.set && m.memoryMiB < m.fit.neededMiB) return `  warning: vm.memory ${m.memoryMiB} MiB is too little: ${m.fit.why}; set vm.memory: ${m.fit.chosenMiB}, or remove it and jeos chooses`;
  if (m.set) return undefined;
  return `  vm memory      ${m.memoryMiB} MiB for jeos run and jeos test (vm.memory unset; ${m.fit.why})`;
}

/** The hint for a guest that ran out of memory. */
export function outOfMemoryHint(m: VmMemory, gave: number): string {
  const more = Math.max(m.fit?.chosenMiB ?? 0, gave * 2);
  return `${m.fit ? `${m.fit.why}. ` : ''}Give the VM more: jeos test --vm --memory ${more}, or vm.memory: ${more} in jeos.yaml`;
}
