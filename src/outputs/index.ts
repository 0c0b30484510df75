/**
 * The outputs stage: the image tree written as a rootfs tar, an OCI image layout,
 * an OCI archive and a VM (kernel, initramfs, command line), all committed to outDir together or not at all.
 */
import { writeFile } from 'node:fs/promises';
import { JeosError, step } from '../errors.js';
import type { ImageTree } from '../tree/index.js';
import { ociArchiveWriter, ociWriter } from './oci/index.js';
import { OutputStaging, type CommitHooks } from './staging.js';
import { tarWriter } from './tar/index.js';
import { diskWriter } from './disk/index.js';
import { vmWriter } from './vm/index.js';
import type { ImageSpec, OutputContext, OutputFormat, OutputResult, OutputWriter } from './types.js';

export * from './types.js';
export { OutputStaging, type CommitHooks } from './staging.js';
export { lockOutputDir, type OutputLock } from './lock.js';
export { recoverOutputDir } from './recover.js';
export { OUTPUT_NAMES } from './out-dir.js';
export { tarWriter, ROOTFS_TAR, encodeHeader, paxRecord, tarChunks, treeTarItems, type TarEntry, type TarItem, type TarType } from './tar/index.js';
export { vmWriter, outsideVmRoot, VM_DIR, VMLINUZ, INITRD, CMDLINE, ROOT_IMG } from './vm/index.js';
export { diskWriter, DISK_IMG, DISK_QCOW2, BOOT_TRIES, versionPaths, efiArchOf, bootLoaderTreePath, parseSize, PARTITION_TYPES } from './disk/index.js';
export { ociWriter, ociArchiveWriter, ociPlatform, OCI_DIR, OCI_ARCHIVE, GZIP_LEVEL, MEDIA_TYPES, REF_NAME_ANNOTATION, type OciPlatform } from './oci/index.js';

export const OUTPUT_WRITERS: Readonly<Record<OutputFormat, OutputWriter>> = {
  tar: tarWriter,
  oci: ociWriter,
  'oci-archive': ociArchiveWriter,
  vm: vmWriter,
  disk: diskWriter,
};

export const OUTPUT_FORMATS = Object.keys(OUTPUT_WRITERS) as OutputFormat[];

export interface PreparedOutputs {
  results: OutputResult[];
  staging: OutputStaging;
  /** Move every prepared output into outDir; returns the top-level names committed. */
  commit(hooks?: CommitHooks): Promise<string[]>;
  /** Drop the prepared outputs; outDir stays as it was. */
  discard(): Promise<void>;
}

function writerFor(output: OutputFormat | OutputWriter): OutputWriter {
  if (typeof output !== 'string') return output;
  const writer = OUTPUT_WRITERS[output];
  if (!writer) {
    throw new JeosError('E_OUTPUT_FORMAT', `unknown output format ${JSON.stringify(output)}`, { hint: `use one of ${OUTPUT_FORMATS.join(', ')}` });
  }
  return writer;
}

/**
 * File-system failures (a full disk, a quota, permissions, an I/O error) are expected:
 * E_OUTPUT_IO names the output, the errno and the directory. Anything else is a bug and
 * keeps its stack. The staging is discarded by the caller, so out/ stays as it was.
 */
function asOutputError(what: string, outDir: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (e instanceof JeosError || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  const full = code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
  const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
  return new JeosError('E_OUTPUT_IO', `cannot write ${what} in ${outDir}: ${(e as Error).message}`, {
    hint: full
      ? `free space on the file system of ${outDir} (or pass --out DIR on another one) and build again; the previous outputs are as they were`
      : denied
        ? `make ${outDir} writable (or pass --out DIR) and build again; the previous outputs are as they were`
        : `check the file system of ${outDir} (free space, permissions, errors) and build again; the previous outputs are as they were`,
    cause: e,
  });
}

/**
 * Write every output into a staging directory inside outDir, without touching what is
 * there. The caller commits (or discards) the result, possibly after other work, so a
 * failure anywhere leaves the previous outputs intact.
 */
export async function prepareOutputs(
  tree: ImageTree,
  image: ImageSpec,
  outputs: Array<OutputFormat | OutputWriter>,
  ctx: OutputContext,
): Promise<PreparedOutputs> {
  const writers = [...new Set(outputs.map(writerFor))];
  const epoch = ctx.sourceDateEpoch;
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 253_402_300_799) {
    throw new JeosError('E_OUTPUT_EPOCH', `SOURCE_DATE_EPOCH ${epoch} is not a time outputs can carry`, {
      hint: 'SOURCE_DATE_EPOCH is whole seconds since 1970-01-01 UTC, up to the year 9999',
    });
  }
  for (const writer of writers) await step(`output ${writer.format}`, async () => writer.check?.(image));
  const staging = await OutputStaging.open(ctx.outDir, { durable: ctx.durable });
  const results: OutputResult[] = [];
  try {
    for (const writer of writers) {
      ctx.onEvent?.({ kind: 'output-start', format: writer.format });
      const result = await step(`output ${writer.format}`, async () => {
        try {
          return await writer.write(ctx.trees?.[writer.format] ?? tree, image, { ...ctx, staging });
        } catch (e) {
          throw asOutputError(`the ${writer.format} output`, ctx.outDir, e);
        }
      });
      results.push(result);
      ctx.onEvent?.({ kind: 'output-done', format: writer.format, result });
    }
    for (const extra of ctx.extraFiles?.(results) ?? []) {
      await writeFile(staging.path(extra.path), extra.data, { flag: 'wx', mode: 0o644, flush: ctx.durable ?? false }).catch((e) => {
        throw asOutputError(extra.path, ctx.outDir, e);
      });
    }
  } catch (e) {
    await staging.discard();
    throw e;
  }
  return {
    results,
    staging,
    async commit(hooks) {
      const paths = await staging.commit(hooks);
      ctx.onEvent?.({ kind: 'outputs-committed', paths });
      return paths;
    },
    discard: () => staging.discard(),
  };
}

/** Write the given outputs and commit them together. */
export async function writeOutputs(
  tree: ImageTree,
  image: ImageSpec,
  outputs: Array<OutputFormat | OutputWriter>,
  ctx: OutputContext,
): Promise<OutputResult[]> {
  const prepared = await prepareOutputs(tree, image, outputs, ctx);
  await prepared.commit();
  return prepared.results;
}
