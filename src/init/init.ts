/**
 * `jeos init DIR --from X`, as named steps: check the target, plan, render
 * jeos.yaml and check that it loads, lock it, and only then write: the copied
 * program files, jeos.yaml and jeos.lock, each atomically (a temporary file
 * renamed into place). A failure before the writes leaves DIR as it was.
 */
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CONFIG_FILE, configDigest, parseConfig, type LoadedConfig } from '../config/load.js';
import { JeosError, step } from '../errors.js';
import { createLock, writeLock } from '../lock/lock.js';
import { resolveLock } from '../lock/request.js';
import type { Lock } from '../lock/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { HostFs } from './host-fs.js';
import { planInit } from './plan.js';
import { hostFileSource, renderConfig, type RenderOptions } from './render.js';
import type { InitContext, InitPlan } from './types.js';

export interface InitOptions extends RenderOptions {
  from: string;
  name?: string;
  force?: boolean;
}

export interface InitResult {
  dir: string;
  configPath: string;
  lockPath: string;
  plan: InitPlan;
  lock: Lock;
  yaml: string;
}

/** Refuse to replace DIR/jeos.yaml unless forced; cheap, so the CLI runs it before reading the archive. */
export async function checkInitTarget(dir: string, force = false): Promise<void> {
  const path = join(resolve(dir), CONFIG_FILE);
  const existing = await stat(path).catch(() => undefined);
  if (existing && !force) {
    throw new JeosError('E_INIT_EXISTS', `${path} already exists`, {
      hint: 'jeos init writes a new jeos.yaml and jeos.lock; pass --force to replace them, or choose another DIR',
    });
  }
  const dirStat = await stat(resolve(dir)).catch(() => undefined);
  if (dirStat && !dirStat.isDirectory()) {
    throw new JeosError('E_INIT_NOT_A_DIRECTORY', `${resolve(dir)} is not a directory`, { hint: 'give a directory (it is created when missing)' });
  }
}

export async function initImage(ctx: InitContext, dir: string, options: InitOptions): Promise<InitResult> {
  const abs = resolve(dir);
  await checkInitTarget(abs, options.force);
  const plan = await planInit(ctx, options.from, { name: options.name });
  const configPath = join(abs, CONFIG_FILE);
  const yaml = renderConfig(plan, options);
  const config = parseConfig(yaml, configPath);
  const loaded: LoadedConfig = { path: configPath, dir: abs, config, digest: configDigest(config) };
  const lock = await step('lock', async () => {
    const resolved = resolveLock(ctx.index, config);
    if (resolved.joint) plan.notes.push(resolved.joint);
    if (resolved.vm && config.vm.root === 'initramfs') {
      plan.notes.push(`vm.memory is left unset: jeos build measures the initramfs and says how much memory the VM needs; jeos run and jeos test give it that (${config.vm.memory} MiB, or more when the image needs it)`);
    }
    return createLock(loaded, ctx.index, resolved);
  });

  await mkdir(abs, { recursive: true });
  const fs = new HostFs(ctx.root);
  for (const file of plan.hostFiles) {
    const target = join(abs, hostFileSource(file.path));
    await writeFileAtomic(target, await fs.read(file.hostPath));
    await chmod(target, parseInt(file.mode, 8) & 0o777);
  }
  await writeFileAtomic(configPath, yaml);
  const lockPath = await writeLock(abs, lock);
  return { dir: abs, configPath, lockPath, plan, lock, yaml };
}
