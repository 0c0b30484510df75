/**
 * Image names and tags as registries and container engines spell them (the reference
 * grammar of docker/distribution), shared by jeos.yaml's checks, the OCI writer and push.
 */

/**
 * An optional registry host (one with a dot or a port, or `localhost`) and lower-case path
 * components: `nginx`, `team/nginx`, `registry.example.com:5000/team/nginx`.
 */
export const IMAGE_NAME =
  /^(?:(?:localhost(?::[0-9]+)?|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::[0-9]+)?|[A-Za-z0-9-]+:[0-9]+)\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`. */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The longest name a registry takes (docker/distribution's limit). */
export const IMAGE_NAME_MAX = 255;

/** `registry.example.com:5000/team/nginx` → `registry.example.com:5000`; `team/nginx` → undefined. */
export function registryHost(name: string): string | undefined {
  const slash = name.indexOf('/');
  if (slash < 0) return undefined;
  const first = name.slice(0, slash);
  return first === 'localhost' || first.includes('.') || first.includes(':') ? first : undefined;
}
