/**
 * An empty /etc/machine-id. An image must not carry a machine id: every machine
 * made from it would share one, and a random one would make two builds of the
 * same inputs differ. An empty file (rather than none) is what systemd expects
 * of an image: at boot it generates a transient id and treats the boot as the
 * first (ConditionFirstBoot=, presets), then writes the id back if /etc is
 * writable. A container runtime's own /etc/machine-id mount still wins.
 */
import type { EffectReport } from '../types.js';
import { Changes, ensureParents, madeMeta, type EffectContext } from './context.js';

export function configureMachineId(ctx: EffectContext): EffectReport {
  const changes = new Changes();
  ensureParents(ctx.tree, 'etc/machine-id', ctx.options, changes);
  ctx.tree.put('etc/machine-id', { kind: 'file', data: Buffer.alloc(0), ...madeMeta(ctx.options, 0o444) });
  changes.add('etc/machine-id');
  return changes.report('machine-id', 'empty /etc/machine-id: systemd generates the id at first boot');
}
