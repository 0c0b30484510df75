/** The container image's variant: the workload's packages, configured, with its files, trimmed. */
import { applyImageTmpfiles, ensureTmp } from '../../configure/index.js';
import { startScriptStep } from '../first-start.js';
import { configureStep, trimStep, unpackStep, workloadStep } from '../steps.js';
import { unitSetupStep } from '../unit-setup.js';
import type { Step, Variant } from '../variant.js';

/** The VM makes its own /tmp in its boot setup; an image whose packages ship none gets one here. */
const tmpStep: Step = {
  name: 'tmp',
  async run(ctx, state) {
    if (!ensureTmp(state.tree, ctx.epoch)) return '/tmp shipped by a package';
    state.configured?.effects.push({ effect: 'tmp', changed: ['/tmp'], summary: 'made /tmp (1777, root): no package in the image ships it (base-files does)' });
    return 'made /tmp';
  },
};

/**
 * tmpfiles.d for a container, which runs no systemd-tmpfiles: the entries are applied to
 * the image's tree (its /run included, which is the image's own directory in a container).
 */
const tmpfilesStep: Step = {
  name: 'tmpfiles',
  async run(ctx, state) {
    const record = applyImageTmpfiles(state.tree, ctx.epoch);
    if (!record.applied.length && !record.skipped.length) return 'no tmpfiles.d entries';
    const skipped = record.skipped.map((s) => `${s.line} (${s.reason})`);
    state.configured?.effects.push({
      effect: 'tmpfiles',
      changed: record.paths,
      summary: `${record.applied.length} tmpfiles.d entries applied at build time${skipped.length ? `; left out: ${skipped.join('; ')}` : ''}`,
    });
    return `${record.applied.length} entries applied, ${record.skipped.length} left out`;
  },
};

export const imageVariant: Variant = {
  name: 'image',
  steps: [unpackStep((lock) => lock.packages), configureStep, tmpStep, tmpfilesStep, workloadStep, startScriptStep, trimStep(), unitSetupStep('image')],
};
