import { JeosError } from '../../errors.js';
import { IMAGE_NAME, IMAGE_TAG, registryHost } from '../../util/image-ref.js';
import type { RegistryRef } from './types.js';

/** `REGISTRY/REPOSITORY[:TAG]`; the registry must be named, so nothing goes to Docker Hub by accident. */
export function parseRegistryRef(ref: string): RegistryRef {
  const bad = (why: string) =>
    new JeosError('E_PUSH_REF', `${JSON.stringify(ref)} is not a registry reference: ${why}`, {
      hint: 'write REGISTRY/REPOSITORY[:TAG], e.g. registry.example.com/team/nginx:1.0 or 127.0.0.1:5000/nginx',
    });
  if (ref.includes('@')) throw bad('jeos pushes by tag (the digest is what the registry answers)');
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
  const registry = registryHost(name);
  if (!registry) throw bad('it names no registry (a host with a dot or a port, or localhost, before the first /)');
  if (!IMAGE_NAME.test(name)) throw bad('the repository is lower-case path components (letters, digits, ".", "_", "-")');
  if (tag !== undefined && !IMAGE_TAG.test(tag)) throw bad('a tag is up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"');
  let repository = name.slice(registry.length + 1);
  const hub = registry === 'docker.io' || registry === 'index.docker.io';
  if (hub && !repository.includes('/')) repository = `library/${repository}`;
  return { registry: hub ? 'docker.io' : registry, apiHost: hub ? 'registry-1.docker.io' : registry, repository, ...(tag ? { tag } : {}) };
}

/** The tag of a layout's reference name: `nginx:1.0` → `1.0`; a bare `1.0` (other tools' layouts) is the tag. */
export function tagOfRefName(refName: string): string {
  const slash = refName.lastIndexOf('/');
  const colon = refName.lastIndexOf(':');
  return colon > slash ? refName.slice(colon + 1) : refName;
}
