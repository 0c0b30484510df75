/**
 * jeos push against Debian's docker-registry on loopback: open, behind htpasswd, read-only,
 * and behind a loopback proxy that breaks the connection mid-upload, answers 500 to the
 * manifest or asks for a Bearer token. What a push leaves is checked with skopeo and the
 * registry's own tag list: a failed push leaves no tag.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { CONTRACT_IMAGE, contractTree, EPOCH, run, snapshot } from '../../outputs/contract.case.test.js';
import { writeOutputs } from '../../outputs/index.js';
import type { OciImageInfo } from '../../outputs/types.js';
import { cli, runProgram } from '../../../test/cli/harness.js';
import { startRegistry, type Registry } from '../../../test/support/registry/registry.js';
import { authFiles, findCredentials, parseChallenge, parseRegistryRef, pushImage, type PushOptions } from './index.js';

const SBOM = JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'contract' });

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<JeosError> {
  let error: JeosError | undefined;
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected JeosError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    error = e;
    return true;
  });
  return error!;
}

/** The tags a registry holds for a repository ([] when it has none or no such repository). */
async function tagsOf(host: string, repository: string, auth?: string): Promise<string[]> {
  const res = await fetch(`http://${host}/v2/${repository}/tags/list`, auth ? { headers: { Authorization: auth } } : {});
  if (res.status === 404) return [];
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

type Rule = (req: IncomingMessage, body: { bytes: number }) => 'forward' | 'cut' | { status: number; headers?: Record<string, string>; body?: string };

/** An HTTP proxy on loopback in front of a registry, which can refuse or break requests by rule. */
async function startProxy(target: string, rule: Rule): Promise<{ host: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = { bytes: 0 };
    const decision = rule(req, body);
    if (typeof decision === 'object') {
      res.writeHead(decision.status, { 'Content-Type': 'application/json', ...decision.headers });
      res.end(decision.body ?? '');
      req.resume();
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: Number(target.split(':')[1]), method: req.method, path: req.url, headers: { ...req.headers, host: target } }, (up) => {
      const headers = { ...up.headers };
      // Uploads continue at the Location the registry names: through the proxy, too.
      if (headers.location) headers.location = headers.location.replace(target, `127.0.0.1:${(server.address() as { port: number }).port}`);
      res.writeHead(up.statusCode!, headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      body.bytes += chunk.length;
      if (decision === 'cut' && body.bytes > 8192) {
        // The connection breaks mid-upload: the client sees its socket close.
        upstream.destroy();
        req.socket.destroy();
        return;
      }
      upstream.write(chunk);
    });
    req.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

describe('jeos push', { timeout: 180_000 }, () => {
  let work: string;
  let project: string;
  let ociDir: string;
  let image: OciImageInfo;
  let open: Registry;
  const proxies: Server[] = [];
  const registries: Registry[] = [];

  const push = (options: Partial<PushOptions> & { ref: string }) => pushImage({ ociDir, tlsVerify: false, authFiles: [], timeoutMs: 20_000, ...options });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-push-'));
    project = join(work, 'project');
    ociDir = join(project, 'out', 'oci');
    const [result] = await writeOutputs(contractTree(), { ...CONTRACT_IMAGE, tags: ['1.0', 'latest'] }, ['oci'], { outDir: join(project, 'out'), sourceDateEpoch: EPOCH });
    image = result!.image!;
    await writeFile(join(project, 'out', 'sbom.spdx.json'), SBOM);
    open = await startRegistry(join(work, 'open'));
    registries.push(open);
  });
  after(async () => {
    for (const r of registries) r.stop();
    for (const p of proxies) p.close();
    await rm(work, { recursive: true, force: true });
  });

  test('jeos push --json: every tag of the image, the digest the registry serves, and skopeo pulls it back by digest byte for byte', async () => {
    const r = await runProgram([process.execPath, cli, 'push', project, `${open.host}/jeos/contract`, '--tls-verify=false', '--json'], { env: { ...process.env, HOME: work, REGISTRY_AUTH_FILE: '' } });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as { ok: boolean; digest: string; tags: string[]; pullRef: string; blobs: { pushed: number; skipped: number }; sbom: { digest: string } };
    assert.equal(out.ok, true);
    assert.deepEqual(out.tags, ['1.0', 'latest'], "the layout's tags, in order");
    assert.equal(out.digest, image.manifestDigest);
    assert.equal(out.pullRef, `${open.host}/jeos/contract@${image.manifestDigest}`);
    assert.deepEqual(out.blobs, { pushed: 2, skipped: 0, bytesPushed: image.layerSize + (await readFile(join(ociDir, 'blobs', 'sha256', image.configDigest.slice(7)))).length });

    for (const tag of out.tags) {
      const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${open.host}/jeos/contract:${tag}`]);
      assert.equal((JSON.parse(stdout) as { Digest: string }).Digest, out.digest, `${tag} serves the pushed manifest`);
    }
    const pulled = join(work, 'pulled');
    await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${out.pullRef}`, `oci:${pulled}:pulled`]);
    const blobs = async (dir: string) => [...(await snapshot(join(dir, 'blobs')))].filter(([, h]) => h !== 'dir');
    assert.deepEqual(await blobs(pulled), await blobs(ociDir), 'manifest, config and layer come back identical');
  });

  test('the SBOM is attached as an OCI 1.1 artefact whose subject is the image, listed under the referrers tag', async () => {
    const index = await fetch(`http://${open.host}/v2/jeos/contract/manifests/${image.manifestDigest.replace(':', '-')}`, { headers: { Accept: 'application/vnd.oci.image.index.v1+json' } });
    assert.equal(index.status, 200);
    const referrers = (await index.json()) as { manifests: Array<{ digest: string; artifactType: string }> };
    assert.equal(referrers.manifests.length, 1);
    assert.equal(referrers.manifests[0]!.artifactType, 'application/spdx+json');
    const artefact = (await (
      await fetch(`http://${open.host}/v2/jeos/contract/manifests/${referrers.manifests[0]!.digest}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })
    ).json()) as { artifactType: string; subject: { digest: string }; layers: Array<{ digest: string; mediaType: string }>; config: { mediaType: string } };
    assert.equal(artefact.subject.digest, image.manifestDigest);
    assert.equal(artefact.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(artefact.layers[0]!.mediaType, 'application/spdx+json');
    const sbom = await fetch(`http://${open.host}/v2/jeos/contract/blobs/${artefact.layers[0]!.digest}`);
    assert.equal(await sbom.text(), SBOM);
    assert.deepEqual((await tagsOf(open.host, 'jeos/contract')).sort(), ['1.0', image.manifestDigest.replace(':', '-'), 'latest'].sort());
  });

  test('a second push uploads nothing; a REF with a tag pushes that tag only; the SBOM is not listed twice', async () => {
    const events: string[] = [];
    const r = await push({ ref: `${open.host}/jeos/contract:2.0`, sbomPath: join(project, 'out', 'sbom.spdx.json'), onEvent: (e) => e.kind === 'blob' && events.push(e.state) });
    assert.deepEqual(r.blobs, { pushed: 0, skipped: 2, bytesPushed: 0 });
    assert.deepEqual(r.tags, ['2.0']);
    assert.equal(r.digest, image.manifestDigest);
    assert.ok(events.every((s) => s === 'exists'), events.join(' '));
    const index = (await (await fetch(`http://${open.host}/v2/jeos/contract/manifests/${image.manifestDigest.replace(':', '-')}`, { headers: { Accept: 'application/vnd.oci.image.index.v1+json' } })).json()) as { manifests: unknown[] };
    assert.equal(index.manifests.length, 1);
  });

  test('htpasswd: no credentials, wrong ones, then the right ones from auth.json (containers and docker formats)', async () => {
    const locked = await startRegistry(join(work, 'locked'), { user: { name: 'jeos', password: 's3cret' } });
    registries.push(locked);
    const ref = `${locked.host}/team/contract`;
    const right = basic('jeos', 's3cret');

    const none = await rejectsWith(push({ ref }), 'E_PUSH_AUTH', /asks for credentials and none were found/);
    assert.match(none.hint!, /podman login/);

    const wrongFile = join(work, 'wrong-auth.json');
    await writeFile(wrongFile, JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from('jeos:wrong').toString('base64') } } }));
    await rejectsWith(push({ ref, authFiles: [wrongFile] }), 'E_PUSH_AUTH', new RegExp(`refused the credentials of jeos \\(from ${wrongFile.replace(/[.]/g, '[.]')}\\)`));
    assert.deepEqual(await tagsOf(locked.host, 'team/contract', right), [], 'a refused push leaves no tag');
    await assert.rejects(run('skopeo', ['inspect', '--tls-verify=false', '--creds', 'jeos:s3cret', `docker://${ref}:latest`]), 'skopeo finds no such tag');

    // podman's files come before docker's: a wrong entry in an earlier file wins over a right one in a later.
    const home = join(work, 'home');
    const env = { HOME: home, XDG_RUNTIME_DIR: join(work, 'run') };
    const files = authFiles(env);
    assert.deepEqual(files, [join(work, 'run/containers/auth.json'), join(home, '.config/containers/auth.json'), join(home, '.docker/config.json'), join(home, '.dockercfg')]);
    await run('mkdir', ['-p', join(home, '.docker')]);
    await writeFile(join(home, '.docker/config.json'), JSON.stringify({ auths: { [`http://${locked.host}/v1/`]: { auth: Buffer.from('jeos:s3cret').toString('base64') } } }));
    const r = await push({ ref, authFiles: files, sbomPath: join(project, 'out', 'sbom.spdx.json') });
    assert.equal(r.digest, image.manifestDigest);
    assert.deepEqual((await tagsOf(locked.host, 'team/contract', right)).filter((t) => !t.startsWith('sha256-')).sort(), ['1.0', 'latest']);
  });

  test('a read-only registry refuses with a code, and nothing is tagged', async () => {
    const readOnly = await startRegistry(join(work, 'read-only'), { readOnly: true });
    registries.push(readOnly);
    const e = await rejectsWith(push({ ref: `${readOnly.host}/jeos/contract` }), 'E_PUSH_REFUSED', /refused an upload of blob sha256:[0-9a-f]{64} \(405/);
    assert.match(e.hint!, /nothing was tagged/);
    assert.deepEqual(await tagsOf(readOnly.host, 'jeos/contract'), []);
  });

  test('the connection breaks in the middle of the layer: E_PUSH_CONNECTION, no tag; the next push completes', async () => {
    const proxy = await startProxy(open.host, (req) => (req.method === 'PUT' && req.url!.includes('/blobs/uploads/') && Number(req.headers['content-length']) > 8192 ? 'cut' : 'forward'));
    proxies.push(proxy.server);
    await rejectsWith(push({ ref: `${proxy.host}/jeos/broken` }), 'E_PUSH_CONNECTION', /failed during blob sha256:/);
    assert.deepEqual(await tagsOf(open.host, 'jeos/broken'), [], 'no tag after a broken upload');
    const r = await push({ ref: `${open.host}/jeos/broken` });
    assert.equal(r.digest, image.manifestDigest);
    assert.equal(r.blobs.skipped, 1, 'the config made it before the break and is not uploaded again');
  });

  test('the registry fails the manifest (500): E_PUSH_REGISTRY, the blobs are there and no tag', async () => {
    const proxy = await startProxy(open.host, (req) =>
      req.method === 'PUT' && req.url!.includes('/manifests/') ? { status: 500, body: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'disk on fire' }] }) } : 'forward',
    );
    proxies.push(proxy.server);
    await rejectsWith(push({ ref: `${proxy.host}/jeos/failing` }), 'E_PUSH_REGISTRY', /refused the manifest for tag 1\.0 \(500: UNKNOWN: disk on fire\)/);
    assert.deepEqual(await tagsOf(open.host, 'jeos/failing'), []);
    assert.equal((await fetch(`http://${open.host}/v2/jeos/failing/blobs/${image.layerDigest}`, { method: 'HEAD' })).status, 200, 'blobs went first');
  });

  test('Bearer: a token service in front of the registry; the token is asked for with the credentials and the push scope', async () => {
    const scopes: string[] = [];
    const proxy = await startProxy(open.host, (req) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/token') {
        scopes.push(...url.searchParams.getAll('scope'));
        return req.headers.authorization === basic('jeos', 'tok3n') ? { status: 200, body: JSON.stringify({ token: 'T0K' }) } : { status: 401 };
      }
      if (req.headers.authorization === 'Bearer T0K') return 'forward';
      return { status: 401, headers: { 'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="jeos-test",scope="repository:jeos/bearer:pull"` } };
    });
    proxies.push(proxy.server);
    const file = join(work, 'bearer-auth.json');
    await writeFile(file, JSON.stringify({ auths: { [`${proxy.host}/jeos`]: { auth: Buffer.from('jeos:tok3n').toString('base64') }, [proxy.host]: { auth: Buffer.from('jeos:wrong').toString('base64') } } }));
    const r = await push({ ref: `${proxy.host}/jeos/bearer:1.0`, authFiles: [file] });
    assert.equal(r.digest, image.manifestDigest, 'the more specific key (host/jeos) won');
    assert.ok(scopes.includes('repository:jeos/bearer:pull,push'), scopes.join(' '));
    await writeFile(file, JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('jeos:wrong').toString('base64') } } }));
    await rejectsWith(push({ ref: `${proxy.host}/jeos/bearer:2.0`, authFiles: [file] }), 'E_PUSH_AUTH', /refused the credentials of jeos/);
    assert.deepEqual(await tagsOf(open.host, 'jeos/bearer'), ['1.0']);
  });

  test('bad input: references, a missing image, HTTPS against a plain-HTTP registry', async () => {
    for (const ref of ['contract', 'team/contract:1.0', `${open.host}/Upper`, `${open.host}/x:-bad`, `${open.host}/x@sha256:${'0'.repeat(64)}`]) {
      await rejectsWith(push({ ref }), 'E_PUSH_REF');
    }
    await rejectsWith(push({ ref: `${open.host}/x`, ociDir: join(work, 'nothing') }), 'E_PUSH_NO_IMAGE');
    const tls = await rejectsWith(push({ ref: `${open.host}/x`, tlsVerify: true }), 'E_PUSH_CONNECTION');
    assert.match(tls.hint!, /--tls-verify=false/);
    const r = await runProgram([process.execPath, cli, 'push', join(work, 'nothing'), `${open.host}/x`, '--tls-verify=false'], { env: { ...process.env, HOME: work } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[E_PUSH_NO_IMAGE\]: no OCI image in .*\nhint: build it first/m);
  });
});

describe('registry references, auth files and challenges', () => {
  test('references', () => {
    assert.deepEqual(parseRegistryRef('127.0.0.1:5000/team/nginx:1.0'), { registry: '127.0.0.1:5000', apiHost: '127.0.0.1:5000', repository: 'team/nginx', tag: '1.0' });
    assert.deepEqual(parseRegistryRef('localhost/nginx'), { registry: 'localhost', apiHost: 'localhost', repository: 'nginx' });
    assert.deepEqual(parseRegistryRef('docker.io/nginx:1'), { registry: 'docker.io', apiHost: 'registry-1.docker.io', repository: 'library/nginx', tag: '1' });
  });

  test('authFiles: --authfile or REGISTRY_AUTH_FILE alone; XDG_CONFIG_HOME moves the containers file', () => {
    assert.deepEqual(authFiles({ REGISTRY_AUTH_FILE: '/a.json', HOME: '/h' }), ['/a.json']);
    assert.deepEqual(authFiles({ REGISTRY_AUTH_FILE: '/a.json' }, '/b.json'), ['/b.json']);
    assert.deepEqual(authFiles({ HOME: '/h', XDG_CONFIG_HOME: '/c' }), ['/c/containers/auth.json', '/h/.docker/config.json', '/h/.dockercfg']);
  });

  test('findCredentials: the first file with an entry, its most specific key; ~/.dockercfg at the top level', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jeos-auth-'));
    try {
      const enc = (s: string) => Buffer.from(s).toString('base64');
      await writeFile(join(dir, 'a.json'), JSON.stringify({ auths: { 'other.example': { auth: enc('a:1') } } }));
      await writeFile(join(dir, 'b.json'), JSON.stringify({ auths: { 'r.example/team': { auth: enc('team:2') }, 'https://r.example': { auth: enc('host:3') } } }));
      await writeFile(join(dir, '.dockercfg'), JSON.stringify({ 'https://index.docker.io/v1/': { auth: enc('hub:4') } }));
      const files = ['a.json', 'missing.json', 'b.json', '.dockercfg'].map((f) => join(dir, f));
      assert.equal((await findCredentials(files, parseRegistryRef('r.example/team/app')))?.username, 'team');
      assert.equal((await findCredentials(files, parseRegistryRef('r.example/other/app')))?.username, 'host');
      assert.equal((await findCredentials(files, parseRegistryRef('docker.io/nginx')))?.password, '4');
      assert.equal(await findCredentials(files, parseRegistryRef('none.example/x')), undefined);
      await writeFile(join(dir, 'a.json'), '{not json');
      await rejectsWith(findCredentials(files, parseRegistryRef('r.example/x')), 'E_PUSH_AUTH_FILE');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.equal(parseChallenge('Negotiate'), undefined);
    assert.equal(parseChallenge(null), undefined);
  });
});
