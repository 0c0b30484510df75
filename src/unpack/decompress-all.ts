/**
 * Decompressing the members of many packages at once. Starting a process costs a few
 * milliseconds from node, and a build has over a hundred xz members (a control.tar and
 * a data.tar per package), so xz members whose size the stream index gives are fed,
 * concatenated, to one xz process per CPU and the output is cut apart by those sizes.
 * Everything else (gzip, zstd, plain tar, an xz member without a usable index) is
 * decompressed on its own. A batch that fails is redone member by member, so the error
 * names the member that is broken. An xz member whose index says it passes its limit is
 * refused before any decompressor starts.
 */
import { constants as bufferConstants } from 'node:buffer';
import { runFilter, type MemberRef } from '../util/run-filter.js';
import { decompress, type Compression } from './decompress.js';
import { ceilingLimit, tooLarge, type MemberLimit } from './limits.js';
import { mapLimit } from './map-limit.js';
import { xzUncompressedSize } from './xz-index.js';

export interface DecompressJob {
  data: Buffer;
  compression: Compression;
  ref: MemberRef;
  /** How far it may expand (default: the ceiling for any package). */
  limit?: MemberLimit;
}

interface Batch {
  jobs: number[];
  size: number;
}

/** Decompress every job, `processes` decompressors at a time; results are in job order. */
export async function decompressAll(jobs: readonly DecompressJob[], processes: number): Promise<Buffer[]> {
  const results = new Array<Buffer>(jobs.length);
  const sizes = jobs.map((job) => (job.compression === 'xz' ? xzUncompressedSize(job.data) : undefined));
  jobs.forEach((job, i) => {
    const limit = job.limit ?? ceilingLimit();
    if (sizes[i] !== undefined && sizes[i]! > limit.bytes) throw tooLarge(job.ref, limit, sizes[i]!, true);
  });
  const batches: Batch[] = Array.from({ length: Math.max(1, processes) }, () => ({ jobs: [], size: 0 }));
  const single: number[] = [];
  // Largest first onto the least loaded batch, so the processes finish together.
  const order = jobs.map((_, i) => i).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0));
  for (const i of order) {
    const size = sizes[i];
    if (size === undefined) {
      single.push(i);
      continue;
    }
    const batch = batches.reduce((least, b) => (b.size < least.size ? b : least));
    batch.jobs.push(i);
    batch.size += size;
  }

  type Task = { batch: Batch } | { job: number };
  const tasks: Task[] = [...batches.filter((b) => b.jobs.length > 0).map((batch) => ({ batch })), ...single.map((job) => ({ job }))];
  await mapLimit(tasks, Math.max(1, processes), async (task) => {
    if ('job' in task) {
      const job = jobs[task.job]!;
      results[task.job] = await decompress(job.data, job.compression, job.ref, job.limit);
      return;
    }
    for (const [i, out] of await runBatch(task.batch, jobs, sizes)) results[i] = out;
  });
  return results;
}

async function runBatch(batch: Batch, jobs: readonly DecompressJob[], sizes: Array<number | undefined>): Promise<Array<[number, Buffer]>> {
  const first = jobs[batch.jobs[0]!]!;
  if (batch.jobs.length > 1 && batch.size <= bufferConstants.MAX_LENGTH) {
    try {
      const all = await runFilter('xz', ['-dc', '-q'], batch.jobs.map((i) => jobs[i]!.data), first.ref, 'xz-utils', batch.size);
      let offset = 0;
      return batch.jobs.map((i) => {
        const size = sizes[i]!;
        const out = all.subarray(offset, offset + size);
        offset += size;
        return [i, out];
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'E_UNPACK_TOOL_MISSING') throw e;
      // Fall through: one by one, so the error names the broken member.
    }
  }
  const out: Array<[number, Buffer]> = [];
  for (const i of batch.jobs) out.push([i, await decompress(jobs[i]!.data, 'xz', jobs[i]!.ref, jobs[i]!.limit)]);
  return out;
}
