/**
 * Registry credentials as podman, skopeo and buildah find them (containers-auth.json(5)),
 * and the WWW-Authenticate challenges a registry answers with (Basic, or Bearer with a
 * token service, as in the distribution spec's token authentication).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import type { Credentials, RegistryRef } from './types.js';

/**
 * The auth files, in the order containers-auth.json(5) reads them: `--authfile` or
 * `$REGISTRY_AUTH_FILE` alone when given; else `$XDG_RUNTIME_DIR/containers/auth.json`,
 * `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config`), `~/.docker/config.json`, `~/.dockercfg`.
 */
export function authFiles(env: Record<string, string | undefined>, override?: string): string[] {
  const explicit = override ?? env.REGISTRY_AUTH_FILE;
  if (explicit) return [explicit];
  const home = env.HOME ?? '';
  return [
    ...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')] : []),
    join(env.XDG_CONFIG_HOME || join(home, '.config'), 'containers', 'auth.json'),
    join(home, '.docker', 'config.json'),
    join(home, '.dockercfg'),
  ];
}

/** `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/` → `host:5000`; `quay.io/team` stays. */
function normaliseKey(key: string): string {
  const bare = key.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '').replace(/\/v[12]$/, '');
  return bare === 'index.docker.io' || bare === 'registry-1.docker.io' ? 'docker.io' : bare;
}

function decodeAuth(entry: { auth?: string; username?: string; password?: string }, source: string): Credentials | undefined {
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password, source };
  if (!entry.auth) return undefined;
  const text = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 1) {
    throw new JeosError('E_PUSH_AUTH_FILE', `${source}: the auth entry is not base64 of USER:PASSWORD`, {
      hint: 'log in again (podman login, skopeo login or docker login) to rewrite it',
    });
  }
  return { username: text.slice(0, colon), password: text.slice(colon + 1), source };
}

/**
 * The credentials for a repository: the first file that has an entry for it wins, and in
 * that file the most specific key (`host/team/nginx` before `host/team` before `host`).
 * Credential helpers (credHelpers, credsStore) are not run.
 */
export async function findCredentials(files: string[], ref: RegistryRef): Promise<Credentials | undefined> {
  const parts = ref.repository.split('/');
  const scopes = parts.map((_, i) => `${ref.registry}/${parts.slice(0, parts.length - i).join('/')}`).concat(ref.registry);
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue; // a file that is not there is the normal case
    }
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new JeosError('E_PUSH_AUTH_FILE', `${file} is not JSON: ${(e as Error).message}`, { hint: 'fix or remove the file, or name another with --authfile' });
    }
    // ~/.dockercfg has the entries at the top level; the others under "auths".
    const auths = (file.endsWith('.dockercfg') ? data : data.auths) as Record<string, { auth?: string }> | undefined;
    if (!auths || typeof auths !== 'object') continue;
    const byKey = new Map(Object.entries(auths).map(([k, v]) => [normaliseKey(k), v]));
    for (const scope of scopes) {
      const entry = byKey.get(scope);
      if (entry) {
        const creds = decodeAuth(entry, file);
        if (creds) return creds;
      }
    }
  }
  return undefined;
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** `Bearer realm="https://auth.example.com/token",service="registry",scope="repository:x:pull"` */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme, params };
}

export function basicAuth(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}
