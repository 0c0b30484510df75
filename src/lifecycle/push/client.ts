/**
 * A small OCI distribution client on fetch: what a push needs (blob HEAD, upload POST and
 * PUT, manifest PUT, HEAD and GET), with Basic and Bearer authentication. Every failure is a
 * JeosError whose code says who refused what.
 */
import { JeosError } from '../../errors.js';
import { basicAuth, parseChallenge, type Challenge } from './auth.js';
import type { Credentials, PushEvent, RegistryRef } from './types.js';

export interface ClientOptions {
  ref: RegistryRef;
  tlsVerify: boolean;
  credentials?: Credentials;
  timeoutMs: number;
  fetch: typeof fetch;
  onEvent?: (event: PushEvent) => void;
}

interface Request {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload's Location). */
  url: string;
  headers?: Record<string, string>;
  /** Made again for a retry after an authentication challenge. */
  body?: () => Buffer | ReadableStream<Uint8Array>;
  /** A blob upload: no overall time limit. */
  upload?: boolean;
  /** What the request is, for error messages: `blob sha256:…`, `manifest 1.0`. */
  what: string;
}

const HINT_RETRY = 'nothing was tagged; push again (blobs the registry has already are skipped)';

export class RegistryClient {
  private authorization: string | undefined;
  readonly base: string;

  constructor(private readonly o: ClientOptions) {
    this.base = `${o.tlsVerify ? 'https' : 'http'}://${o.ref.apiHost}`;
  }

  /** `/v2/<repository>/…` */
  repoPath(rest: string): string {
    return `/v2/${this.o.ref.repository}/${rest}`;
  }

  async send(req: Request, retried = false): Promise<Response> {
    const url = new URL(req.url, this.base);
    const headers: Record<string, string> = { ...req.headers };
    if (this.authorization) headers.Authorization = this.authorization;
    let res: Response;
    try {
      res = await this.o.fetch(url, {
        method: req.method,
        headers,
        redirect: 'follow',
        ...(req.body ? { body: req.body() as unknown as BodyInit, duplex: 'half' } : {}),
        ...(req.upload ? {} : { signal: AbortSignal.timeout(this.o.timeoutMs) }),
      } as RequestInit);
    } catch (e) {
      throw this.connectionError(e, req);
    }
    if (res.status === 401 && !retried) {
      await res.body?.cancel();
      await this.authenticate(parseChallenge(res.headers.get('www-authenticate')), req.what);
      return this.send(req, true);
    }
    return res;
  }

  /** Answer a challenge: Basic with the credentials, or a Bearer token from the realm it names. */
  private async authenticate(challenge: Challenge | undefined, what: string): Promise<void> {
    const { ref, credentials } = this.o;
    if (!challenge) {
      throw new JeosError('E_PUSH_AUTH', `${ref.registry} refused ${what} (401) without saying how to authenticate`, {
        hint: 'check that the reference names an OCI registry',
      });
    }
    if (challenge.scheme === 'basic') {
      if (!credentials) throw noCredentials(ref);
      this.authorization = basicAuth(credentials);
      this.o.onEvent?.({ kind: 'auth', scheme: 'basic', source: credentials.source });
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new JeosError('E_PUSH_AUTH', `${ref.registry} asked for a Bearer token without naming its token service`, { hint: 'check the registry\'s auth configuration' });
    const tokenUrl = new URL(realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    const scopes = new Set([`repository:${ref.repository}:pull,push`, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])]);
    for (const scope of scopes) tokenUrl.searchParams.append('scope', scope);
    let res: Response;
    try {
      res = await this.o.fetch(tokenUrl, {
        headers: credentials ? { Authorization: basicAuth(credentials) } : {},
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (e) {
      throw this.connectionError(e, { url: tokenUrl.href, what: 'a token' });
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw credentials ? wrongCredentials(ref, credentials) : noCredentials(ref);
    }
    if (!res.ok) throw await this.statusError(res, 'a token');
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new JeosError('E_PUSH_AUTH', `the token service at ${tokenUrl.origin} answered without a token`, { hint: 'check the registry\'s auth configuration' });
    this.authorization = `Bearer ${token}`;
    this.o.onEvent?.({ kind: 'auth', scheme: 'bearer', ...(credentials ? { source: credentials.source } : {}) });
  }

  /** The registry's refusal, with its own error codes and messages when it sent them. */
  async statusError(res: Response, what: string): Promise<JeosError> {
    const { ref, credentials } = this.o;
    const text = await res.text().catch(() => '');
    let said = '';
    try {
      const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors ?? [];
      said = errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      said = text.trim().split('\n')[0]?.slice(0, 200) ?? '';
    }
    const message = `${ref.registry} refused ${what} (${res.status}${said ? `: ${said}` : ''})`;
    if (res.status === 401) return credentials ? wrongCredentials(ref, credentials) : noCredentials(ref);
    if (res.status === 403) {
      return new JeosError('E_PUSH_DENIED', message, { hint: `the account${credentials ? ` ${credentials.username}` : ''} may not push to ${ref.repository}; ${HINT_RETRY} once it may` });
    }
    if (res.status === 404) {
      return new JeosError('E_PUSH_NOT_FOUND', message, { hint: `check that ${ref.registry} is an OCI registry and that the repository ${ref.repository} may be created` });
    }
    if (res.status === 405) {
      return new JeosError('E_PUSH_REFUSED', message, { hint: `the registry does not take pushes (read-only, or a mirror); ${HINT_RETRY} once it does` });
    }
    if (res.status >= 500) return new JeosError('E_PUSH_REGISTRY', message, { hint: `the registry failed; ${HINT_RETRY}` });
    return new JeosError('E_PUSH_REFUSED', message, { hint: HINT_RETRY });
  }

  private connectionError(e: unknown, req: Pick<Request, 'url' | 'what'>): JeosError {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (e as Error).message;
    if ((e as Error).name === 'TimeoutError') {
      return new JeosError('E_PUSH_TIMEOUT', `${this.o.ref.registry} did not answer (${req.what}) within ${Math.round(this.o.timeoutMs / 1000)} s`, { cause: e, hint: HINT_RETRY });
    }
    const tls = /SSL|TLS|EPROTO|CERT|wrong version number|packet length/i.test(`${detail} ${cause?.message ?? ''}`);
    return new JeosError('E_PUSH_CONNECTION', `the connection to ${this.o.ref.apiHost} failed during ${req.what}: ${detail}`, {
      cause: e,
      hint: tls && this.o.tlsVerify
        ? 'the registry may speak plain HTTP: push with --tls-verify=false (only to a registry you trust on this network)'
        : `check that the registry is up and reachable; ${HINT_RETRY}`,
    });
  }
}

function noCredentials(ref: RegistryRef): JeosError {
  return new JeosError('E_PUSH_AUTH', `${ref.registry} asks for credentials and none were found for it`, {
    hint: `log in first (podman login ${ref.registry}, skopeo login or docker login), or name an auth file with --authfile or REGISTRY_AUTH_FILE`,
  });
}

function wrongCredentials(ref: RegistryRef, creds: Credentials): JeosError {
  return new JeosError('E_PUSH_AUTH', `${ref.registry} refused the credentials of ${creds.username} (from ${creds.source})`, {
    hint: `log in again (podman login ${ref.registry}); nothing was tagged`,
  });
}
