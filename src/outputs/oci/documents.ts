/**
 * The JSON documents of an OCI image: config, manifest, index and oci-layout. Each is
 * serialised once, with keys in a fixed order, so its digest depends only on the inputs.
 */
import { createHash } from 'node:crypto';
import { JeosError } from '../../errors.js';
import type { ImageSpec } from '../types.js';
import { IMAGE_NAME, IMAGE_NAME_MAX, IMAGE_TAG } from '../../util/image-ref.js';
import { ociPlatform } from './platform.js';

export const MEDIA_TYPES = {
  layout: 'application/vnd.oci.layout.header.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd's (and BuildKit's, and Docker's) name of an image in a layout; podman reads it first on load. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
/** The OCI annotations a label may also set on the manifest. */
const OCI_ANNOTATION_PREFIX = 'org.opencontainers.image.';

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

/** A JSON document and its descriptor. */
export interface JsonBlob extends Blob {
  data: Buffer;
}

export interface LayerDescriptor extends Blob {
  /** `sha256:` of the uncompressed tar. */
  diffId: string;
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function jsonBlob(mediaType: string, value: unknown): JsonBlob {
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  return { mediaType, digest: sha256Digest(data), size: data.length, data };
}

function invalid(what: string, value: string, hint: string): JeosError {
  return new JeosError('E_OUTPUT_IMAGE_SPEC', `${what} ${JSON.stringify(value)} is not valid in an OCI image`, { hint });
}

const PORT = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/;

/** The image's references, `NAME:TAG` for each tag, in the order of the tags. */
export function imageRefs(image: ImageSpec): string[] {
  if (!IMAGE_NAME.test(image.name) || image.name.length > IMAGE_NAME_MAX) {
    throw invalid('image name', image.name, 'a name is lower-case path components (nginx, team/nginx), after an optional registry host (registry.example.com:5000/team/nginx)');
  }
  const tags = image.tags ?? ['latest'];
  if (!tags.length) throw invalid('tag list', '[]', 'give at least one tag (the default is latest)');
  for (const tag of tags) {
    if (!IMAGE_TAG.test(tag)) throw invalid('tag', tag, 'a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"');
  }
  if (new Set(tags).size !== tags.length) throw invalid('tag list', tags.join(', '), 'name each tag once');
  return tags.map((tag) => `${image.name}:${tag}`);
}

function exposedPorts(ports: string[]): Record<string, Record<string, never>> {
  const out = new Map<string, Record<string, never>>();
  for (const port of ports) {
    const m = PORT.exec(port);
    const n = m ? Number(m[1]) : 0;
    if (!m || n < 1 || n > 65535) throw invalid('exposed port', port, 'write a port as 80, 80/tcp, 53/udp or 9000/sctp');
    out.set(`${n}/${m[2] ?? 'tcp'}`, {});
  }
  return Object.fromEntries([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** RFC 3339 in UTC without fractions, as Go writes it. */
export function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function imageConfig(image: ImageSpec, diffIds: string[], sourceDateEpoch: number): JsonBlob {
  const env = Object.entries(image.env ?? {}).map(([k, v]) => {
    if (k === '' || k.includes('=')) throw invalid('environment variable name', k, 'a name must be non-empty and must not contain "="');
    return `${k}=${v}`;
  });
  const config: Record<string, unknown> = {};
  if (image.user) config.User = image.user;
  if (image.exposedPorts?.length) config.ExposedPorts = exposedPorts(image.exposedPorts);
  if (env.length) config.Env = env;
  if (image.entrypoint?.length) config.Entrypoint = image.entrypoint;
  if (image.cmd?.length) config.Cmd = image.cmd;
  if (image.workdir) {
    if (!image.workdir.startsWith('/')) throw invalid('working directory', image.workdir, 'the working directory must be an absolute path');
    config.WorkingDir = image.workdir;
  }
  const labels = sorted(Object.entries(image.labels ?? {}));
  if (labels.length) config.Labels = Object.fromEntries(labels);
  if (image.healthcheck) config.Healthcheck = dockerHealthcheck(image.healthcheck);
  const platform = ociPlatform(image.architecture);
  const created = rfc3339(sourceDateEpoch);
  return jsonBlob(MEDIA_TYPES.config, {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created, created_by: 'jeos', comment: `${image.name}: Debian packages, built by jeos` }],
  });
}

function sorted<T>(entries: Array<[string, T]>): Array<[string, T]> {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Docker's HealthConfig: durations in nanoseconds. */
function dockerHealthcheck(check: NonNullable<ImageSpec['healthcheck']>): Record<string, unknown> {
  if (!['CMD', 'CMD-SHELL', 'NONE'].includes(check.test[0] ?? '')) {
    throw invalid('health check test', check.test.join(' '), 'a test starts with CMD (an argv), CMD-SHELL (a shell command) or NONE, as in Docker\'s HEALTHCHECK');
  }
  return {
    Test: check.test,
    ...(check.startPeriod ? { StartPeriod: Math.round(check.startPeriod * 1e9) } : {}),
  };
}

/**
 * The manifest's annotations: `created` from SOURCE_DATE_EPOCH, and the labels that are
 * OCI annotations (title, description, version, source, revision, licenses, …).
 */
export function manifestAnnotations(image: ImageSpec, sourceDateEpoch: number): Record<string, string> {
  const fromLabels = Object.entries(image.labels ?? {}).filter(
    ([k]) => k.startsWith(OCI_ANNOTATION_PREFIX) && k !== REF_NAME_ANNOTATION && k !== CREATED_ANNOTATION,
  );
  return Object.fromEntries(sorted([[CREATED_ANNOTATION, rfc3339(sourceDateEpoch)], ...fromLabels]));
}

export function imageManifest(config: Blob, layers: Blob[], annotations: Record<string, string> = {}): JsonBlob {
  const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  return jsonBlob(MEDIA_TYPES.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: descriptor(config),
    layers: layers.map(descriptor),
    ...(Object.keys(annotations).length ? { annotations } : {}),
  });
}

/**
 * One descriptor of the manifest per tag, each named `NAME:TAG`: skopeo and umoci find it as
 * `oci:DIR:NAME:TAG`, and podman load and containerd name the image after it.
 */
export function imageIndex(manifest: Blob, image: ImageSpec): JsonBlob {
  const platform = ociPlatform(image.architecture);
  return jsonBlob(MEDIA_TYPES.index, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: imageRefs(image).map((ref) => ({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      platform,
      annotations: { [CONTAINERD_NAME_ANNOTATION]: ref, [REF_NAME_ANNOTATION]: ref },
    })),
  });
}

export function ociLayoutFile(): Buffer {
  return Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }), 'utf8');
}
