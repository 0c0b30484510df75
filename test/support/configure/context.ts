/**
 * Test support: an effect context around a tree, with actions as the script scan would
 * have produced them.
 */
import type { ImageTree } from '../../../src/tree/index.js';
import type { UnpackedPackage } from '../../../src/unpack/types.js';
import type { Action, ActionRecord } from '../../../src/configure/actions.js';
import type { EffectContext } from '../../../src/configure/effects/context.js';
import type { ConfigureOptions } from '../../../src/configure/types.js';

export const TEST_OPTIONS: ConfigureOptions = {
  architecture: 'amd64',
  sourceDateEpoch: 1_750_000_000,
  os: { codename: 'trixie', versionId: '13', imageId: 'test', imageVersion: '1' },
};

export function record(action: Action, pkg = 'pkg', line = 1): ActionRecord {
  return { action, pkg, script: 'postinst', command: `line ${line}: …` };
}

export function context(tree: ImageTree, actions: Action[] = [], options: Partial<ConfigureOptions> = {}, packages: UnpackedPackage[] = []): EffectContext {
  return { tree, packages, options: { ...TEST_OPTIONS, ...options }, actions: actions.map((a, i) => record(a, 'pkg', i + 1)) };
}
