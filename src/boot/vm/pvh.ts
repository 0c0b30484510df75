/**
 * Booting a kernel through its PVH entry point. A bzImage carries the kernel
 * compressed; its own decompressor unpacks it before the kernel starts, which
 * is slow under TCG (docs/vm.md has the figure).
 * QEMU can instead load the uncompressed kernel ELF directly when the kernel
 * declares a PVH entry (the Xen ELF note PHYS32_ENTRY, which Debian's x86-64
 * kernels have), as Firecracker and Cloud Hypervisor do. jeos run and jeos test
 * take the ELF out of the image's vmlinuz once and keep it in the cache, keyed by
 * the vmlinuz's digest; out/vm itself stays as built (vmlinuz boots anywhere).
 *
 * Anything unexpected (not a bzImage, a compression jeos cannot undo, no PVH
 * note) falls back to the bzImage, with the reason.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isElf, Reader } from '../../elf/elf.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { runFilter } from '../../util/run-filter.js';
import type { KernelEntry } from './types.js';

export interface BootKernel {
  /** The file QEMU's -kernel gets. */
  path: string;
  entry: KernelEntry;
  /** Why the bzImage is booted as it is (with entry 'bzimage'). */
  reason?: string;
}

/** x86 boot protocol offsets (Documentation/arch/x86/boot.rst). */
const SETUP_SECTS = 0x1f1;
const HEADER_MAGIC = 0x202; // "HdrS"
const PROTOCOL_VERSION = 0x206;
const PAYLOAD_OFFSET = 0x248; // since protocol 2.08
const PAYLOAD_LENGTH = 0x24c;

const PT_NOTE = 4;
/** XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit physical entry point QEMU's PVH loader jumps to. */
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

type PayloadFormat = 'zstd' | 'xz' | 'lz4' | 'gzip' | 'elf';

const MAGICS: [PayloadFormat, number[]][] = [
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]], // LZ4's legacy frame, which the kernel build writes (bookworm's kernels)
  ['gzip', [0x1f, 0x8b]],
  ['elf', [0x7f, 0x45, 0x4c, 0x46]],
];

/** The compressed kernel inside a bzImage, or a reason it has none jeos can read. */
export function bzImagePayload(image: Buffer): { data: Buffer; format: PayloadFormat } | { reason: string } {
  if (image.length < 0x270 || image.toString('latin1', HEADER_MAGIC, HEADER_MAGIC + 4) !== 'HdrS') return { reason: 'not a bzImage (no HdrS header)' };
  const version = image.readUInt16LE(PROTOCOL_VERSION);
  if (version < 0x208) return { reason: `boot protocol ${version >> 8}.${version & 0xff} has no payload fields (2.08 or later needed)` };
  const start = ((image[SETUP_SECTS] || 4) + 1) * 512 + image.readUInt32LE(PAYLOAD_OFFSET);
  const length = image.readUInt32LE(PAYLOAD_LENGTH);
  if (length === 0 || start + length > image.length) return { reason: 'the payload fields point past the end of the file' };
  const data = image.subarray(start, start + length);
  const format = MAGICS.find(([, magic]) => magic.every((b, i) => data[i] === b))?.[0];
  if (!format) return { reason: `the kernel is compressed with a format jeos does not read (magic ${data.subarray(0, 4).toString('hex')})` };
  return { data, format };
}

/** Undo the payload's compression. The kernel's build appends the uncompressed size (LE32) to every compressed payload. */
async function uncompressPayload(data: Buffer, format: PayloadFormat): Promise<Buffer> {
  if (format === 'elf') return data;
  const size = data.readUInt32LE(data.length - 4);
  const stream = data.subarray(0, data.length - 4);
  const ref = { label: 'vmlinuz', member: 'kernel payload' };
  if (format === 'gzip') return gunzipSync(stream);
  const tool = { zstd: ['zstd', 'zstd'], xz: ['xz', 'xz-utils'], lz4: ['lz4', 'lz4'] }[format];
  return runFilter(tool[0]!, ['-dc', '-q'], [stream], ref, tool[1]!, size);
}

/** Whether a 64-bit little-endian ELF file has a PT_NOTE with the Xen PHYS32_ENTRY note. */
export function hasPvhEntry(elf: Buffer): boolean {
  if (!isElf(elf) || elf[4] !== 2 || elf[5] !== 1) return false;
  const r = new Reader(elf, true, true, 'vmlinux');
  const phoff = r.word(32);
  const phentsize = r.u16(54);
  const phnum = r.u16(56);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (r.u32(ph) !== PT_NOTE) continue;
    const offset = r.word(ph + 8);
    const end = offset + r.word(ph + 32);
    for (let n = offset; n + 12 <= end; ) {
      const namesz = r.u32(n);
      const descsz = r.u32(n + 4);
      const type = r.u32(n + 8);
      const name = r.cstring(n + 12);
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      n += 12 + align4(namesz) + align4(descsz);
    }
  }
  return false;
}

const align4 = (n: number) => (n + 3) & ~3;

/** hasPvhEntry, with a broken ELF counting as none. */
function pvhEntryOf(elf: Buffer): boolean {
  try {
    return hasPvhEntry(elf);
  } catch {
    return false;
  }
}

/** Uncompressed kernels kept in the cache (about 57 MB each for trixie's cloud kernel): the most recently booted. */
export const PVH_CACHE_KEEP = 4;

/** Remove all but the `keep` most recently used kernels (by mtime, which a cache hit renews). */
async function pruneCache(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}\.elf$/.test(n));
  const dated = await Promise.all(names.map(async (n) => ({ path: join(dir, n), mtime: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.mtime - a.mtime);
  await Promise.all(dated.slice(keep).map((e) => rm(e.path, { force: true })));
}

/**
 * The kernel to boot: the uncompressed ELF from the cache (made now when missing)
 * when the vmlinuz has a PVH entry, else the vmlinuz itself. `pvh: false` asks for the bzImage.
 */
export async function bootKernel(vmlinuz: string, options: { cacheDir?: string; pvh?: boolean }): Promise<BootKernel> {
  const bzimage = (reason: string): BootKernel => ({ path: vmlinuz, entry: 'bzimage', reason });
  if (options.pvh === false) return bzimage('asked for (--no-pvh)');
  if (!options.cacheDir) return bzimage('no cache directory to keep the uncompressed kernel in');
  const image = await readFile(vmlinuz);
  const digest = createHash('sha256').update(image).digest('hex');
  const cached = join(options.cacheDir, 'vm', 'pvh', `${digest}.elf`);
  if ((await stat(cached).catch(() => undefined))?.isFile()) {
    const now = new Date();
    await utimes(cached, now, now).catch(() => undefined);
    return { path: cached, entry: 'pvh' };
  }
  const payload = bzImagePayload(image);
  if ('reason' in payload) return bzimage(payload.reason);
  let elf: Buffer;
  try {
    elf = await uncompressPayload(payload.data, payload.format);
  } catch (e) {
    return bzimage(`its ${payload.format} payload did not decompress: ${(e as Error).message}`);
  }
  if (!pvhEntryOf(elf)) return bzimage('the kernel has no PVH entry note (CONFIG_PVH)');
  await writeFileAtomic(cached, elf, { durable: false });
  await pruneCache(dirname(cached), PVH_CACHE_KEEP);
  return { path: cached, entry: 'pvh' };
}
