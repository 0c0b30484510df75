/** The container image's variant: the workload's packages, configured, with its files, trimmed. */
import { ensureTmp } from '../../configure/index.js';
import { configureStep, trimStep, unpackStep, workloadStep } from '../steps.js';
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

export const imageVariant: Variant = {
  name: 'image',
  steps: [unpackStep((lock) => lock.packages), configureStep, tmpStep, workloadStep, trimStep()],
};
