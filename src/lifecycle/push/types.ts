/** jeos push: the OCI image of a build (and its SBOM) to a registry. */

/** `registry.example.com:5000/team/nginx:1.0`, split. */
export interface RegistryRef {
  /** As written, and as auth files name it: `registry.example.com:5000`, `docker.io`. */
  registry: string;
  /** The host the API is on (`docker.io` → `registry-1.docker.io`). */
  apiHost: string;
  /** `team/nginx` (Docker Hub's one-word names get `library/`). */
  repository: string;
  tag?: string;
}

export interface Credentials {
  username: string;
  password: string;
  /** The file they came from, for error messages. */
  source: string;
}

export interface PushOptions {
  /** The OCI image layout (`out/oci`). */
  ociDir: string;
  /** Where to push; without a tag, under every tag the layout names. */
  ref: string;
  /** false: plain HTTP (a registry on loopback or a lab network). */
  tlsVerify?: boolean;
  /** Auth files in the order to read them (see authFiles); the first with an entry for the registry wins. */
  authFiles?: string[];
  /** SPDX document to attach to the image as an OCI 1.1 artefact, when it exists. */
  sbomPath?: string;
  /** Milliseconds a request other than a blob upload may take. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  onEvent?: (event: PushEvent) => void;
}

export type PushEvent =
  | { kind: 'auth'; scheme: 'basic' | 'bearer'; source?: string }
  | { kind: 'blob'; digest: string; size: number; state: 'exists' | 'uploading' | 'pushed' }
  | { kind: 'tagged'; tag: string; digest: string }
  | { kind: 'sbom'; digest: string; referrers: 'api' | 'tag' }
  | { kind: 'warning'; message: string };

export interface PushResult {
  /** `registry/repository`. */
  repository: string;
  tags: string[];
  /** The manifest digest the registry serves for the tags (checked against the layout's). */
  digest: string;
  /** `registry/repository@digest`: the reference to pull by. */
  pullRef: string;
  blobs: { pushed: number; skipped: number; bytesPushed: number };
  sbom?: { digest: string; referrers: 'api' | 'tag' } | { skipped: string };
  warnings: string[];
}
