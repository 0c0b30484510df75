/**
 * The contract every output writer implements. A writer turns the in-memory image
 * tree into files inside a staging directory; nothing under `outDir` changes until
 * the staging is committed, so a failed or interrupted build leaves the previous
 * outputs as they were.
 */
import type { ImageTree } from '../tree/index.js';
import type { OutputStaging } from './staging.js';

export type OutputFormat = 'tar' | 'oci' | 'oci-archive' | 'vm' | 'disk';

/** What a container runtime needs to know about the image besides its files. */
export interface ImageSpec {
  /** Image name (`nginx`, `registry.example.com/team/nginx`): with each tag, a reference in index.json. */
  name: string;
  /**
   * Tags (default `[latest]`): index.json has one descriptor of the manifest per tag, named
   * `NAME:TAG` (`org.opencontainers.image.ref.name`, and `io.containerd.image.name`).
   */
  tags?: string[];
  /** Debian architecture (`amd64`, `arm64`, `armhf`, …); mapped to the OCI platform. */
  architecture: string;
  entrypoint?: string[];
  cmd?: string[];
  /** `user`, `uid`, `user:group` or `uid:gid`, as in the OCI config. */
  user?: string;
  /** Environment, in the order given. */
  env?: Record<string, string>;
  workdir?: string;
  /** `80/tcp`, `53/udp`, `9000` (tcp). */
  exposedPorts?: string[];
  /**
   * Labels of the config; the `org.opencontainers.image.*` ones are also annotations of the
   * manifest, next to `org.opencontainers.image.created` (from SOURCE_DATE_EPOCH).
   */
  labels?: Record<string, string>;
  /**
   * A check a container engine runs inside the container (Docker's `Healthcheck` in the config:
   * the OCI image config has no such field). `test` is Docker's form (`["CMD", argv…]`);
   * `startPeriod` the seconds it may take to become healthy.
   */
  healthcheck?: { test: string[]; startPeriod?: number };
  /** VM images: the kernel command line and how the initramfs is compressed. */
  vm?: { cmdline: string; root?: 'initramfs' | 'disk'; compression?: 'zstd' | 'lz4' | 'gzip' | 'none'; level?: number };
  /** Disk images (the disk output, which also needs `vm`): the version its boot entry is for, its size and formats. */
  disk?: { version: string; sizeBytes: number; formats: ReadonlyArray<'raw' | 'qcow2'>; /** SHA-256 of jeos.lock, recorded on the ESP for jeos disk status. */ lockDigest?: string };
}

export interface OutputContext {
  /** Where outputs end up: `out/rootfs.tar`, `out/oci/`, `out/image.oci.tar`. */
  outDir: string;
  /** SOURCE_DATE_EPOCH in seconds: every timestamp in every output is at most this. */
  sourceDateEpoch: number;
  /** Compressed layers keyed by the uncompressed layer digest; an unchanged rebuild skips gzip. */
  layerCacheDir?: string;
  /** fsync every output file and directory before it is renamed into place (slower, survives power loss). */
  durable?: boolean;
  onEvent?: (event: OutputEvent) => void;
  /**
   * Small files committed together with the outputs (e.g. `build.json`), made once every
   * writer has finished. Each path is one top-level name inside outDir.
   */
  extraFiles?: (results: OutputResult[]) => Array<{ path: string; data: string | Buffer }>;
  /** A different tree for one format (the vm output boots the image plus its kernel modules and boot setup). */
  trees?: Partial<Record<OutputFormat, ImageTree>>;
}

/** What a writer sees: the run's context plus the staging directory it writes into. */
export interface WriterContext extends OutputContext {
  staging: OutputStaging;
}

export interface OutputFile {
  /** Path relative to outDir, with `/` separators: `rootfs.tar`, `oci/blobs/sha256/…`. */
  path: string;
  size: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  mediaType?: string;
}

/** The digests registries and OCI tools show for an image. */
export interface OciImageInfo {
  /** The first reference in index.json (`NAME:TAG`). */
  ref: string;
  /** Every reference in index.json, one per tag, in the order of the tags. */
  refs: string[];
  manifestDigest: string;
  manifestSize: number;
  configDigest: string;
  layerDigest: string;
  layerSize: number;
  /** `sha256:` of the uncompressed layer, as in the config's rootfs.diff_ids. */
  diffId: string;
}

export interface OutputResult {
  format: OutputFormat;
  /** The top-level name under outDir this output owns: `rootfs.tar`, `oci`, `image.oci.tar`. */
  path: string;
  /** Every file written, for build.json. */
  files: OutputFile[];
  image?: OciImageInfo;
  vm?: VmImageInfo;
  disk?: DiskImageInfo;
}

/** What the disk writer made: out/disk.img (and its conversions), its partitions and the boot entry it holds. */
export interface DiskImageInfo {
  /** The version of the one boot entry it holds. */
  version: string;
  /** Bytes of the raw image (its apparent size; it is sparse). */
  size: number;
  /** Bytes of the raw image that hold anything but zeros. */
  usedBytes: number;
  diskGuid: string;
  esp: { first: number; last: number; guid: string; clusterSize: number; freeBytes: number; volumeId: string };
  var: { first: number; last: number; guid: string; uuid: string; label: string; size: number };
  /** The Boot Loader Specification entry on the ESP: `loader/entries/jeos-1.0+3.conf`. */
  entry: string;
  /** Files on the ESP with their sizes and SHA-256. */
  espFiles: Array<{ path: string; size: number; sha256: string }>;
  kernelVersion: string;
  cmdline: string;
  /** Other formats written beside disk.img (qcow2), converted with qemu-img. */
  conversions: Array<{ format: 'qcow2'; path: string; size: number }>;
}

/** What the vm writer made: the kernel it boots and the initramfs or disk image holding the OS. */
export interface VmImageInfo {
  kernelVersion: string;
  cmdline: string;
  /** vm.root: initramfs. */
  initrd?: {
    compression: string;
    level: number;
    size: number;
    uncompressedSize: number;
    uncompressedSha256: string;
    entries: number;
    /** Paths whose xattrs (file capabilities) a newc archive cannot carry. */
    xattrsDropped: string[];
  };
  /** vm.root: disk — the ext4 image (sparse: `size` is its apparent size, `usedBytes` what its blocks in use hold). */
  disk?: {
    format: 'ext4';
    size: number;
    usedBytes: number;
    inodes: number;
    usedInodes: number;
    uuid: string;
    /** Paths whose xattrs did not fit in their inode. */
    xattrsDropped: string[];
  };
}

export interface OutputWriter {
  readonly format: OutputFormat;
  /** Refuse a bad image spec before any slow work starts (throws a JeosError). */
  check?(image: ImageSpec): void;
  /** Write into `ctx.staging` only; the staging helper moves the result into outDir. */
  write(tree: ImageTree, image: ImageSpec, ctx: WriterContext): Promise<OutputResult>;
}

export type OutputEvent =
  | { kind: 'output-start'; format: OutputFormat }
  /** Bytes of file content streamed so far out of the tree's total. */
  | { kind: 'output-progress'; format: OutputFormat; done: number; total: number }
  | { kind: 'layer-cache'; hit: boolean; diffId: string }
  /** The build went on without caching the layer (the cache is an optimisation, not an output). */
  | { kind: 'layer-cache-write-failed'; diffId: string; message: string }
  | { kind: 'output-done'; format: OutputFormat; result: OutputResult }
  | { kind: 'outputs-committed'; paths: string[] };
