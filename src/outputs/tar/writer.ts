import type { ImageTree } from '../../tree/index.js';
import { tarChunks } from '../../util/tar/chunks.js';
import { writeChunksToFile, type Digest } from '../sink.js';
import type { OutputFormat, OutputResult, OutputWriter, WriterContext } from '../types.js';
import { treeDataSize, treeTarItems } from './stream.js';

export const ROOTFS_TAR = 'rootfs.tar';
/** Memo key under which the uncompressed layer's digest is shared with the OCI writers. */
export const LAYER_TAR_DIGEST = 'layer-tar-digest';

/** Progress events for streaming the tree as `format`, at most one per 4 MiB of content. */
export function treeProgress(tree: ImageTree, format: OutputFormat, ctx: WriterContext): ((bytes: number) => void) | undefined {
  const onEvent = ctx.onEvent;
  if (!onEvent) return undefined;
  const total = treeDataSize(tree);
  let done = 0;
  let reported = 0;
  return (bytes) => {
    done += bytes;
    if (done - reported >= 4 << 20 || done === total) {
      reported = done;
      onEvent({ kind: 'output-progress', format, done, total });
    }
  };
}

/** `out/rootfs.tar`: the tree as one deterministic pax tar. */
export const tarWriter: OutputWriter = {
  format: 'tar',
  async write(tree, _image, ctx): Promise<OutputResult> {
    const chunks = tarChunks(treeTarItems(tree, ctx.sourceDateEpoch), { onData: treeProgress(tree, 'tar', ctx) });
    const digest = await writeChunksToFile(ctx.staging.path(ROOTFS_TAR), chunks, { durable: ctx.durable });
    void ctx.staging.memo<Digest>(tree, LAYER_TAR_DIGEST, async () => digest);
    return { format: 'tar', path: ROOTFS_TAR, files: [{ path: ROOTFS_TAR, size: digest.size, sha256: digest.sha256, mediaType: 'application/x-tar' }] };
  },
};
